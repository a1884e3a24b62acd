"""The documented production set-up, for real: nginx (deploy/nginx/targets.conf) in front of two
gunicorn instances, with Redis as the shared throttle cache.

Shows that slow clients (headers trickling in, bodies shorter than announced) do not delay
anyone else, that a client's throttle holds whichever instance answers, and that the logs carry
the real client address. Needs Debian's nginx (``.ci/run`` installs it).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import statistics
import threading
import time

import pytest

from tests.deploy.nginx import Nginx
from tests.faults.servers import (
    Gunicorn,
    PrivateRedis,
    production_env,
    sqlite_site_copy,
    wait_until,
)

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 50
LOGIN_RATE = 6


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed; .ci/run installs it with apt-get")
        pytest.skip("needs Debian's nginx: apt-get install -y nginx")
    directory = tmp_path_factory.mktemp("nginx-site")
    database_url, _token = sqlite_site_copy(directory)
    redis = PrivateRedis().start()
    env = production_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis.url,
        NUM_PROXIES="1",
        API_THROTTLE_RATES=f"anon=100000/min,login={LOGIN_RATE}/min",
        DJANGO_LOG_LEVEL="info",
    )
    instances = []
    nginx = None
    try:
        for name in ("a", "b"):
            instances.append(
                Gunicorn(
                    {**env, "PROMETHEUS_MULTIPROC_DIR": str(directory / f"metrics-{name}")},
                    workers=2,
                    log=directory / f"gunicorn-{name}.log",
                ).start()
            )
        nginx = Nginx(
            upstream_ports=[instance.port for instance in instances], prefix=directory / "nginx"
        ).start()
        yield nginx, instances
    finally:
        if nginx is not None:
            nginx.stop()
        for instance in instances:
            instance.stop()
        redis.stop()


def request(nginx, method, path, *, source="127.0.0.1", body=None, headers=None):
    """One request on a fresh connection from ``source`` (any 127.x address is this machine)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", nginx.port, timeout=30, source_address=(source, 0)
    )
    try:
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class SlowClient(threading.Thread):
    """A connection that never finishes its request: headers one line a second, or a body
    shorter than its Content-Length."""

    def __init__(self, port: int, kind: str) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.kind = kind
        self.stop = threading.Event()
        self.closed_by_server = threading.Event()
        self.answer = b""

    def run(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        sock.settimeout(1)
        try:
            if self.kind == "headers":
                sock.sendall(b"GET /api/v1/items/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            else:
                sock.sendall(
                    b"POST /api/v1/players/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                    b'{"username": "slow'
                )
            while not self.stop.is_set():
                try:
                    chunk = sock.recv(4096)
                except TimeoutError:
                    if self.kind == "headers":
                        sock.sendall(b"X-Slow: still here\r\n")
                    continue
                except OSError:
                    chunk = b""
                self.answer += chunk
                if not chunk:
                    self.closed_by_server.set()
                    return
        finally:
            sock.close()


def test_slow_clients_do_not_delay_anyone_else(site):
    nginx, instances = site
    for _ in range(8):  # every worker of both instances has served the page once
        assert request(nginx, "GET", "/api/v1/items/")[0] == 200
    clients = [
        SlowClient(nginx.port, "headers" if n % 2 == 0 else "body") for n in range(SLOW_CLIENTS)
    ]
    for client in clients:
        client.start()
    time.sleep(1)  # every slow client is connected and has sent its first part
    # Measure well inside nginx's 10 s header timeout, while every slow client still hangs on.
    deadline = time.monotonic() + 6
    latencies = []
    while len(latencies) < 60 and (len(latencies) < 20 or time.monotonic() < deadline):
        started = time.perf_counter()
        status, body = request(nginx, "GET", "/api/v1/items/")
        latencies.append(time.perf_counter() - started)
        assert status == 200, body
    still_hanging = sum(not client.closed_by_server.is_set() for client in clients)

    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"\n{still_hanging} slow clients holding on: "
        f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms over {len(latencies)} requests"
    )
    assert still_hanging == SLOW_CLIENTS  # they were all still there while we measured
    assert p99 < 1.0

    # nginx, not a worker, ends them: each gets a 408 or a closed connection after its timeout.
    try:
        wait_until(
            lambda: all(client.closed_by_server.is_set() for client in clients),
            timeout=40,
            interval=0.5,
            what="nginx to drop the slow clients",
        )
    finally:
        for client in clients:
            client.stop.set()
    assert all(not client.answer or client.answer.startswith(b"HTTP/1.1 408") for client in clients)
    # No slow request ever reached gunicorn: none of the half-sent registrations was logged.
    for instance in instances:
        assert "POST /api/v1/players/" not in instance.log.read_text()


def test_the_login_throttle_holds_across_both_instances(site):
    nginx, instances = site
    before = [instance.log.read_text().count("/api/v1/auth/token/") for instance in instances]
    statuses = [
        request(
            nginx,
            "POST",
            "/api/v1/auth/token/",
            source="127.0.0.3",
            body={"username": "nobody", "password": "wrong"},
        )[0]
        for _ in range(LOGIN_RATE + 4)
    ]
    after = [instance.log.read_text().count("/api/v1/auth/token/") for instance in instances]

    assert statuses == [400] * LOGIN_RATE + [429] * 4
    assert all(a > b for a, b in zip(after, before, strict=True)), "both instances answered"
    # Another client is not held back by the first one's count: it is counted by its own address.
    other, _ = request(
        nginx,
        "POST",
        "/api/v1/auth/token/",
        source="127.0.0.4",
        body={"username": "nobody", "password": "wrong"},
    )
    assert other == 400


def test_logs_carry_the_real_client_address_not_a_forged_one(site):
    nginx, instances = site
    marker = "real-ip-probe"
    status, _ = request(
        nginx,
        "GET",
        "/healthz",
        source="127.0.0.2",
        headers={"X-Forwarded-For": "6.6.6.6", "X-Request-ID": marker},
    )
    assert status == 200

    def logged_line():
        for instance in instances:
            for line in instance.log.read_text().splitlines():
                if f"request_id={marker}" in line:
                    return line
        return None

    line = wait_until(logged_line, timeout=10, what="the request to be logged")
    assert re.search(r" ip=127\.0\.0\.2 ", line), line
    assert "6.6.6.6" not in line
    # nginx writes its access log line after the answer has gone out: wait for it too.
    wait_until(
        lambda: "127.0.0.2" in nginx.access_log.read_text(), timeout=10, what="nginx's log line"
    )


def test_metrics_are_not_served_through_nginx(site):
    nginx, _instances = site
    status, _ = request(nginx, "GET", "/metrics")
    assert status == 404
