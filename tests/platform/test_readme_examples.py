"""The README's API examples (set-up, items, sensors, games) run as written against a live site.

A demo site on a free port (its own SQLite file, ``seed_demo --admin``), the README's shell blocks
run by bash from a directory holding the two files they read (``var/demo-admin-password.txt``,
``var/demo-device-key.txt``); every request the site served is checked: none failed on the server
or for want of a login, and the writes the README promises happened.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("curl") and shutil.which("jq")), reason="the README needs curl and jq"
    ),
]
SERVED = re.compile(r'"(GET|POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.1" (\d{3})')


def readme_blocks() -> dict[str, str]:
    """The set-up block and the items, sensors and games blocks, by the heading above them."""
    text = (ROOT / "README.md").read_text()
    start = text.index("The examples below use the demo data")
    end = text.index("### Exports")
    blocks: dict[str, str] = {}
    heading = "set-up"
    for part in re.split(r"^(### .+)$", text[start:end], flags=re.M):
        if part.startswith("### "):
            heading = part[4:].split()[0].lower()
            continue
        found = re.findall(r"```sh\n(.*?)```", part, flags=re.S)
        if found:
            blocks[heading] = "\n".join(found)
    return blocks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_site(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "API_", "EXPORTS_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_DEBUG="1",
        DJANGO_SECRET_KEY="readme-examples-" + "k" * 50,
        PYTHONUNBUFFERED="1",
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [*manage, "seed_demo", "--admin"], env=env, check=True, cwd=ROOT, capture_output=True
    )
    secrets = subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from targets_site.management.commands.seed_demo import admin_password_file\n"
            "from accounts.demo import device_key_file\n"
            "print(admin_password_file()); print(device_key_file())",
        ],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    work = tmp_path / "work"
    (work / "var").mkdir(parents=True)
    shutil.copy(secrets[-2], work / "var" / "demo-admin-password.txt")
    shutil.copy(secrets[-1], work / "var" / "demo-device-key.txt")
    for path in secrets[-2:]:
        Path(path).unlink()

    port = free_port()
    log = tmp_path / "site.log"
    with log.open("w") as out:
        site = subprocess.Popen(
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or site.poll() is not None:
                    pytest.fail(f"the demo site did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", work, log
    finally:
        site.terminate()
        site.wait(timeout=30)


def test_the_readmes_api_examples_run_as_written(demo_site):
    site, work, log = demo_site
    blocks = readme_blocks()
    assert set(blocks) >= {"set-up", "items", "sensors", "games"}, sorted(blocks)
    setup = blocks["set-up"].replace("SITE=http://127.0.0.1:8000", f"SITE={site}")
    assert f"SITE={site}" in setup
    script = "\n".join(
        ["set -euo pipefail", setup, blocks["items"], blocks["sensors"], blocks["games"]]
    )
    result = subprocess.run(
        ["bash", "-c", script], cwd=work, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]

    served = SERVED.findall(log.read_text())
    assert len(served) > 20, log.read_text()[-2000:]
    failures = [hit for hit in served if hit[2].startswith("5") or hit[2] == "401"]
    assert not failures, failures
    statuses = {(method, path.split("?")[0]): status for method, path, status in served}
    promised = {
        ("POST", "/api/v1/auth/token/"): "200",
        ("POST", "/api/v1/items/"): "201",
        ("POST", "/api/v1/items/1/adjust-stock/"): "200",
        ("PATCH", "/api/v1/items/1/"): "200",
        ("POST", "/api/v1/sensors/"): "201",
        ("POST", "/api/v1/readings/"): "201",
        ("POST", "/api/v1/players/"): "201",
        ("POST", "/api/v1/rounds/"): "201",
        ("GET", "/api/v1/sensors/A/plot.png"): "200",
        ("GET", "/api/v1/plots/readings.png"): "200",
    }
    for request, status in promised.items():
        assert statuses.get(request) == status, (request, statuses.get(request))
    acknowledged = [hit for hit in served if hit[1].endswith("/acknowledge/")]
    assert acknowledged and acknowledged[0][2] == "200", acknowledged
    for picture in ("a.png", "abc.png", "shots.png"):
        assert (work / picture).read_bytes().startswith(b"\x89PNG"), picture
