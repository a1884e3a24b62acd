"""Throttles hold across server processes (shared through Redis) and ignore X-Forwarded-For.

Two separate gunicorn servers, one private Redis: a client alternating between them still gets
exactly the anonymous allowance, and inventing a new X-Forwarded-For per request buys nothing.
"""

from __future__ import annotations

import itertools

import pytest
import requests

from tests.faults.servers import Gunicorn, PrivateRedis, production_env, sqlite_site_copy

pytestmark = pytest.mark.slow

ANON_PER_MINUTE = 6


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("throttle")
    database_url, _ = sqlite_site_copy(tmp)
    redis = PrivateRedis().start()
    env = production_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis.url,
        API_THROTTLE_RATES=f"anon={ANON_PER_MINUTE}/min,login=3/min",
    )
    servers: list[Gunicorn] = []
    try:
        servers = [Gunicorn(env, log=tmp / f"gunicorn-{n}.log").start() for n in range(2)]
        yield servers, redis
    finally:
        for server in servers:
            server.stop()
        redis.stop()


@pytest.fixture(autouse=True)
def _fresh_counters(two_servers):
    _, redis = two_servers
    import redis as redis_client

    redis_client.Redis.from_url(redis.url).flushdb()


def _statuses(servers, path: str, count: int, **kwargs) -> list[requests.Response]:
    urls = itertools.cycle(server.url for server in servers)
    return [requests.get(f"{next(urls)}{path}", timeout=10, **kwargs) for _ in range(count)]


def test_two_processes_share_one_anonymous_allowance(two_servers):
    servers, _ = two_servers
    assert servers[0].process.pid != servers[1].process.pid
    responses = _statuses(servers, "/api/v1/items/", ANON_PER_MINUTE + 4)
    codes = [response.status_code for response in responses]
    assert codes == [200] * ANON_PER_MINUTE + [429] * 4, codes
    throttled = responses[-1]
    assert int(throttled.headers["Retry-After"]) > 0
    assert throttled.json()["error"]["code"] == "throttled"


def test_rotating_x_forwarded_for_does_not_dodge_the_limit(two_servers):
    servers, _ = two_servers
    urls = itertools.cycle(server.url for server in servers)
    codes = [
        requests.get(
            f"{next(urls)}/api/v1/items/",
            headers={"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"198.51.100.{n}"},
            timeout=10,
        ).status_code
        for n in range(ANON_PER_MINUTE + 3)
    ]
    assert codes.count(200) == ANON_PER_MINUTE, codes
    assert codes[-3:] == [429] * 3


def test_login_guessing_is_throttled_across_processes(two_servers):
    servers, _ = two_servers
    urls = itertools.cycle(server.url for server in servers)
    codes = [
        requests.post(
            f"{next(urls)}/api/v1/auth/token/",
            json={"username": "admin", "password": f"guess-{n}"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
            timeout=10,
        ).status_code
        for n in range(5)
    ]
    assert codes == [400, 400, 400, 429, 429], codes
