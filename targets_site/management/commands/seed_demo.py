from __future__ import annotations

import re
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

# Order matters: sensors' alerts and exports' sample export build on the apps before them
# (and find the demo notification channel).
DEMO_APPS = ["items", "notifications", "sensors", "games", "exports"]
ADMIN_PASSWORD_FILE = settings.VAR_DIR / "demo-admin-password.txt"


def admin_password_file(database: Mapping[str, Any] | None = None) -> Path:
    """Where the demo admin's password is kept: one file per database.

    The embedded SQLite database keeps the README's ``var/demo-admin-password.txt``; any other
    database gets its own file (``demo-admin-password-postgresql-test.txt``), so a demo seeded on
    PostgreSQL never leaves a password that the SQLite site would print as its own.
    """
    database = database or settings.DATABASES["default"]
    if str(database["NAME"]) == str(settings.VAR_DIR / "db.sqlite3"):
        return ADMIN_PASSWORD_FILE
    vendor = database["ENGINE"].rsplit(".", 1)[-1]
    where = f"{vendor}-{database.get('HOST') or 'local'}-{Path(str(database['NAME'])).stem}"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", where).strip("-")
    return ADMIN_PASSWORD_FILE.with_name(f"{ADMIN_PASSWORD_FILE.stem}-{slug}.txt")


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
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
        self._print_login(password, password_file)

    def _print_login(self, password: str, password_file: Path) -> None:
        self.stdout.write(
            f"Admin: log in at /admin/ as admin / {password}  (kept in {password_file})"
        )
