"""What a benchmark needs from the machine, checked before it starts.

A fresh machine gets one line naming what is missing and how to get it, and exit code 2, never a
traceback half-way through a run. Python packages come from ``requirements-dev.txt``
(``bash scripts/bootstrap requirements-dev.txt``); these are the tools and services beside them.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

INSTALL = {
    "wrk": "apt-get install -y wrk",
    "psql": "apt-get install -y postgresql-client",
    "mosquitto_pub": "apt-get install -y mosquitto-clients",
    "mosquitto_sub": "apt-get install -y mosquitto-clients",
    "nginx": "apt-get install -y nginx",
    "locust": "bash scripts/bootstrap requirements-dev.txt",
}
SERVICES = {
    "postgres": (
        5432,
        "PostgreSQL",
        "pg_ctlcluster --skip-systemctl-redirect <version> main start",
    ),
    "mqtt": (1883, "Mosquitto", "mosquitto -d"),
    "redis": (6379, "Redis", "redis-server --daemonize yes --bind 127.0.0.1 --save ''"),
}


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def missing(*, tools: tuple[str, ...] = (), services: tuple[str, ...] = ()) -> list[str]:
    """Each missing tool or silent service, with the command that provides it."""
    problems = []
    venv_bin = Path(sys.executable).parent
    for tool in tools:
        if shutil.which(tool) is None and not (venv_bin / tool).exists():
            problems.append(f"{tool} is missing ({INSTALL.get(tool, 'install it')})")
    for name in services:
        port, label, start = SERVICES[name]
        if not _answers(port):
            problems.append(f"{label} is not answering on 127.0.0.1:{port} (start it: {start})")
    return problems


def require(*, tools: tuple[str, ...] = (), services: tuple[str, ...] = ()) -> None:
    problems = missing(tools=tools, services=services)
    if problems:
        script = Path(sys.argv[0]).name
        print(f"{script}: cannot run: {'; '.join(problems)}", file=sys.stderr)
        sys.exit(2)


def bytecode_compiled(root: Path) -> None:
    """Compile the project's modules to bytecode, as a deployed site has them after its first run.

    Timed processes then load ``.pyc`` files whatever the caller's environment: with
    ``PYTHONDONTWRITEBYTECODE`` set (as in some shells and CI), every edited module would be
    compiled from source at each timed start (~60 ms per ``export_data`` run, measured).
    """
    import compileall
    import re

    skip = re.compile(r"/(\.venv|var|node_modules|\.git)/")
    compileall.compile_dir(root, quiet=1, rx=skip)


def production_env(database_url: str) -> dict[str, str]:
    """The environment a bench runs the project's commands in: this process's, plus production
    settings on ``database_url`` (plain HTTP, quiet logs)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": "bench-only-" + "b" * 50,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_LOG_LEVEL": "warning",
        "DJANGO_SETTINGS_MODULE": "targets_site.settings",
    }
