"""The admin app without autodiscovery at start-up.

Django's default ``AdminConfig`` imports every app's ``admin.py`` inside ``django.setup()``, and
with them their forms, services and selectors: every management command and cron run paid for
them (~0.3 s of a 1.1 s ``export_data --help``). Here the root URLconf calls
``admin.autodiscover()`` (the admin is only reached through it), and the admin's system check
calls it first, so ``manage.py check`` still checks every registered ``ModelAdmin``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import autodiscover
from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks


def check_admin_modules(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    autodiscover()
    return check_admin_app(app_configs, **kwargs)


class AdminConfig(SimpleAdminConfig):
    def ready(self) -> None:
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_admin_modules, checks.Tags.admin)
