"""Production serving: gunicorn on targets_site.wsgi, static files by WhiteNoise, debug off."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.platform.subprocesses import BASE_DIR, project_env, run_manage

# Only the fixture is slow (collectstatic, then gunicorn), once for the module.
pytestmark = pytest.mark.slow


def test_whitenoise_serves_static_files_right_after_the_security_middleware():
    middleware = settings.MIDDLEWARE
    position = middleware.index("whitenoise.middleware.WhiteNoiseMiddleware")
    assert middleware[position - 1] == "django.middleware.security.SecurityMiddleware"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def production_site(tmp_path_factory):
    """collectstatic into a temporary STATIC_ROOT, then gunicorn with debug off on a free port."""
    root = tmp_path_factory.mktemp("static")
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.platform.settings_static",
        "TARGETS_TEST_STATIC_ROOT": str(root / "static"),
        "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": str(BASE_DIR),
    }
    collected = run_manage("collectstatic", "--noinput", timeout=180, **env)
    assert collected.returncode == 0, collected.stderr
    assert (root / "static" / "staticfiles.json").exists()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "targets_site.wsgi"],
        cwd=BASE_DIR,
        env=project_env(**env, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{url}/healthz", timeout=5)
            break
        except requests.RequestException:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"gunicorn did not start: {server.stderr.read()}")
            time.sleep(0.2)
    yield url, root / "static"
    server.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown; SIGTERM waits for workers
    server.wait(timeout=30)


def test_the_admin_login_page_is_styled_with_hashed_static_files(production_site):
    url, _ = production_site
    page = requests.get(f"{url}/admin/login/", timeout=10)
    assert page.status_code == 200
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    base = [href for href in stylesheets if "admin/css/base" in href]
    assert base and re.fullmatch(r"/static/admin/css/base\.[0-9a-f]{12}\.css", base[0]), base
    for href in stylesheets:
        css = requests.get(f"{url}{href}", timeout=10)
        assert css.status_code == 200, href
        assert css.headers["Content-Type"].startswith("text/css")
        # Hashed names never change content, so browsers may keep them for good.
        assert "immutable" in css.headers["Cache-Control"]


def test_static_files_are_served_compressed_and_by_their_plain_name(production_site):
    url, root = production_site
    plain = requests.get(
        f"{url}/static/admin/css/base.css", headers={"Accept-Encoding": "gzip"}, timeout=10
    )
    assert plain.status_code == 200
    assert plain.headers["Content-Encoding"] == "gzip"
    assert plain.content == Path(root / "admin" / "css" / "base.css").read_bytes()


def test_the_swagger_ui_works_offline_behind_gunicorn(production_site):
    url, _ = production_site
    page = requests.get(f"{url}/api/docs/", timeout=10)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert any("swagger-ui" in asset for asset in assets)
    for asset in assets:
        assert requests.get(f"{url}{asset}", timeout=10).status_code == 200, asset


def test_the_production_site_answers_json_errors_and_health(production_site):
    url, _ = production_site
    assert requests.get(f"{url}/healthz", timeout=10).json() == {"status": "ok"}
    missing = requests.get(f"{url}/api/nowhere", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert missing.headers["X-Request-ID"]
