"""Real servers for reliability tests: gunicorn, a private Redis and a cuttable TCP proxy.

Nothing here touches the machine's shared PostgreSQL or Redis configuration: Redis servers are
private (own port, no persistence) and killed by their own process id; "database down" is a
proxy in front of PostgreSQL that stops forwarding.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def production_env(**extra: str) -> dict[str, str]:
    """The environment a production host sets, plain HTTP on loopback."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="targets_site.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_HSTS_SECONDS="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_LOG_LEVEL="warning",
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def migrate(env: dict[str, str]) -> None:
    result = manage("migrate", "--noinput", env=env)
    if result.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{result.stdout}\n{result.stderr}")


class Gunicorn:
    """``gunicorn targets_site.wsgi`` on a free loopback port with its own environment."""

    def __init__(self, env: dict[str, str], *, workers: int = 1, log: Path) -> None:
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "targets_site.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

        def answers() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-3000:]}")
            try:
                return requests.get(f"{self.url}/healthz", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        try:
            wait_until(answers, timeout=30, what="gunicorn to answer /healthz")
        except BaseException:
            self.stop()  # never leave a half-started server behind
            raise
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log_file.close()


class PrivateRedis:
    """A throwaway ``redis-server`` (no persistence) that tests may kill and restart."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def pong() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    return sock.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        try:
            wait_until(pong, timeout=10, what="redis-server to answer PING")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class CuttableProxy:
    """A TCP proxy on a free loopback port; ``cut()`` drops every connection and refuses new
    ones (the database is "down"), ``restore()`` forwards again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> CuttableProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # listener closed by cut()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update({client, upstream})
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def cut(self) -> None:
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not, and the
            # kernel would keep accepting connections on the still-open socket.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self.start()

    def stop(self) -> None:
        self.cut()


STAFF_TOKEN_SCRIPT = (
    "from django.contrib.auth import get_user_model;"
    "from rest_framework.authtoken.models import Token;"
    "u, _ = get_user_model().objects.get_or_create(username='ops', is_staff=True);"
    "print(Token.objects.get_or_create(user=u)[0].key)"
)


def migrated_with_staff_token(env: dict[str, str]) -> str:
    """Migrate the database ``env`` names and return a staff user's API token."""
    migrate(env)
    result = manage("shell", "-c", STAFF_TOKEN_SCRIPT, env=env)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return result.stdout.strip().splitlines()[-1]


@functools.cache
def sqlite_site_template() -> tuple[Path, str]:
    """A migrated SQLite database with a staff user and its token, made once per test process
    (migrating costs seconds); callers copy the file rather than migrate again."""
    directory = Path(tempfile.mkdtemp(prefix="targets-site-template-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / "db.sqlite3"
    token = migrated_with_staff_token(production_env(DATABASE_URL=f"sqlite:///{path}"))
    return path, token


def sqlite_site_copy(directory: Path) -> tuple[str, str]:
    """``(DATABASE_URL, staff token)`` for a fresh copy of the template in ``directory``."""
    template, token = sqlite_site_template()
    copy = directory / "db.sqlite3"
    shutil.copy(template, copy)
    return f"sqlite:///{copy}", token
