"""Where the demo keeps what it prints once (the admin's password, the device key)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings


def per_database_file(default: Path, database: Mapping[str, Any] | None = None) -> Path:
    """``default`` for the embedded SQLite database, a sibling named after any other database.

    ``var/demo-admin-password.txt`` stays the README's file; a demo seeded on PostgreSQL writes
    ``var/demo-admin-password-postgresql-127.0.0.1-targets.txt``, so the SQLite site never prints
    another database's secret as its own.
    """
    database = database or settings.DATABASES["default"]
    if str(database["NAME"]) == str(settings.VAR_DIR / "db.sqlite3"):
        return default
    vendor = database["ENGINE"].rsplit(".", 1)[-1]
    where = f"{vendor}-{database.get('HOST') or 'local'}-{Path(str(database['NAME'])).stem}"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", where).strip("-")
    return default.with_name(f"{default.stem}-{slug}{default.suffix}")


def write_secret(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secret + "\n")
    path.chmod(0o600)
