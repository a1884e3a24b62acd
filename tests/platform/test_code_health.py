"""Structural rules of docs/CONVENTIONS.md that a review would otherwise have to re-check."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every app but the project package (targets_site is where the shared pieces live).
APPS = sorted(
    path.parent.name for path in ROOT.glob("*/apps.py") if path.parent.name != "targets_site"
)


def test_the_apps_are_found():
    assert {"items", "sensors", "games", "exports"} <= set(APPS)


def sources(pattern: str) -> list[Path]:
    return sorted(path for app in APPS for path in (ROOT / app).glob(pattern))


def test_no_service_imports_the_http_framework():
    services = sources("services.py") + sources("services/*.py")
    assert services, "no services found"
    offenders = [p.relative_to(ROOT) for p in services if "rest_framework" in p.read_text()]
    assert offenders == []


def test_commands_draw_progress_only_through_the_shared_bar():
    commands = sources("management/commands/*.py")
    assert commands
    offenders = [
        path.relative_to(ROOT)
        for path in commands
        if re.search(r"^\s*(from|import) tqdm", path.read_text(), re.MULTILINE)
    ]
    assert offenders == []


def test_permission_classes_live_only_in_targets_site():
    pattern = re.compile(r"^class \w+\(.*(BasePermission|DjangoModelPermissions)", re.MULTILINE)
    views = sources("*.py") + sources("*/*.py")
    offenders = [path.relative_to(ROOT) for path in views if pattern.search(path.read_text())]
    assert offenders == []
