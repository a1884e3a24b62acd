from __future__ import annotations

import secrets
from collections.abc import Mapping
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from targets_site.demo import per_database_file, write_secret

# Order matters: sensors' alerts and exports' sample export build on the apps before them
# (and find the demo notification channel).
DEMO_APPS = ["items", "notifications", "sensors", "accounts", "games", "exports"]
ADMIN_PASSWORD_FILE = settings.VAR_DIR / "demo-admin-password.txt"


def admin_password_file(database: Mapping[str, Any] | None = None) -> Path:
    """Where the demo admin's password is kept: one file per database."""
    return per_database_file(ADMIN_PASSWORD_FILE, database)


class Command(BaseCommand):
    help = (
        "Create the demo data (catalogue, sensors A/B/C with readings and alerts, a demo player "
        "with scores). Idempotent: running it again adds nothing. With --admin, also make an "
        "'admin' superuser with a generated password and print how to log in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--admin",
            action="store_true",
            help="Create the 'admin' superuser (password generated once, kept in var/).",
        )

    def handle(self, *args, admin: bool, **options) -> None:
        for app in DEMO_APPS:
            if find_spec(f"{app}.demo") is None:
                continue
            module = import_module(f"{app}.demo")
            with transaction.atomic():
                module.demo_seed(stdout=self.stdout)
        if admin:
            self._ensure_admin()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _ensure_admin(self) -> None:
        users = get_user_model()
        password_file = admin_password_file()
        admin = users.objects.filter(username="admin").first()
        if admin is not None:
            password = password_file.read_text().strip() if password_file.exists() else ""
            if password and admin.check_password(password):
                self._print_login(password, password_file)
            else:
                # Never print a password this database would refuse.
                self.stdout.write(
                    "Admin: 'admin' exists in this database but its password is not the one in "
                    f"{password_file}; set one with: python manage.py changepassword admin"
                )
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser("admin", "admin@example.com", password)
        write_secret(password_file, password)
        self._print_login(password, password_file)

    def _print_login(self, password: str, password_file: Path) -> None:
        self.stdout.write(
            f"Admin: log in at /admin/ as admin / {password}  (kept in {password_file})"
        )
