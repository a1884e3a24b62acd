from __future__ import annotations

import secrets
from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

# Order matters: sensors' alerts and exports' sample export build on the apps before them
# (and find the demo notification channel).
DEMO_APPS = ["items", "notifications", "sensors", "games", "exports"]
ADMIN_PASSWORD_FILE = settings.VAR_DIR / "demo-admin-password.txt"


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
        if users.objects.filter(username="admin").exists():
            if ADMIN_PASSWORD_FILE.exists():
                password = ADMIN_PASSWORD_FILE.read_text().strip()
                self.stdout.write(f"Admin: log in at /admin/ as admin / {password}")
            else:
                self.stdout.write(
                    "Admin: 'admin' exists; set its password with: "
                    "python manage.py changepassword admin"
                )
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser("admin", "admin@example.com", password)
        ADMIN_PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
        ADMIN_PASSWORD_FILE.write_text(password + "\n")
        ADMIN_PASSWORD_FILE.chmod(0o600)
        self.stdout.write(f"Admin: log in at /admin/ as admin / {password}")
