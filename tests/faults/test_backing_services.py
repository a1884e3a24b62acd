"""The site under a failing database or Redis, served by gunicorn as in production.

- Database down (a proxy in front of PostgreSQL stops forwarding): ``/healthz`` still 200,
  ``/readyz`` 503 naming the database, the API a JSON 503; when the database is back the same
  processes recover by themselves, and every write acknowledged before the outage is still there.
- Redis down (a private redis-server is killed): reads keep working (throttling fails open),
  writes are a JSON 503 (fail closed: logins, scores and readings are what throttles protect);
  when Redis is back, writes work again. Never a 500.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

import psycopg
import pytest
import requests
from django.conf import settings

from tests.faults.servers import (
    CuttableProxy,
    Gunicorn,
    PrivateRedis,
    migrated_with_staff_token,
    production_env,
    wait_until,
)

pytestmark = pytest.mark.slow


def _postgres_server() -> tuple[str, int, dict[str, str]]:
    """Host, port and credentials of the PostgreSQL server the suite runs on (DATABASE_URL)."""
    database = settings.DATABASES["default"]
    host = database.get("HOST") or "127.0.0.1"
    port = int(database.get("PORT") or 5432)
    credentials = {"user": database.get("USER") or "postgres"}
    if database.get("PASSWORD"):
        credentials["password"] = database["PASSWORD"]
    return host, port, credentials


def _json_error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()["error"]


@pytest.fixture(scope="module")
def site_behind_a_database_proxy(tmp_path_factory):
    host, port, credentials = _postgres_server()

    def admin_connection() -> psycopg.Connection:
        return psycopg.connect(
            host=host, port=port, dbname="postgres", autocommit=True, **credentials
        )

    try:
        admin_connection().close()
    except psycopg.OperationalError:
        pytest.skip(f"needs the PostgreSQL server at {host}:{port}")
    name = f"reliability_faults_{uuid.uuid4().hex[:8]}"
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    tmp = tmp_path_factory.mktemp("dbdown")
    proxy = CuttableProxy(host, port).start()
    user = quote(credentials["user"], safe="")
    password = f":{quote(credentials['password'], safe='')}" if "password" in credentials else ""
    env = production_env(DATABASE_URL=f"postgres://{user}{password}@127.0.0.1:{proxy.port}/{name}")
    server = None
    try:
        token = migrated_with_staff_token(env)
        server = Gunicorn(env, workers=2, log=tmp / "gunicorn.log").start()
        yield server, proxy, token
    finally:
        if server:
            server.stop()
        proxy.stop()
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_database_down_is_a_503_everywhere_and_the_site_recovers_by_itself(
    site_behind_a_database_proxy,
):
    server, proxy, token = site_behind_a_database_proxy
    auth = {"Authorization": f"Token {token}"}
    created = []
    for n in range(5):
        response = requests.post(
            f"{server.url}/api/v1/items/",
            json={"name": f"Before outage {n}", "price": "1.00"},
            headers=auth,
            timeout=10,
        )
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200

    proxy.cut()
    try:
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
        ready = requests.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["failed"] == ["database"]
        for _ in range(4):  # both workers, whatever their pooled connection's state
            error = _json_error(requests.get(f"{server.url}/api/v1/items/", timeout=10), 503)
            assert error["code"] == "service_unavailable"
            write = requests.post(
                f"{server.url}/api/v1/items/",
                json={"name": "During outage", "price": "1.00"},
                headers=auth,
                timeout=10,
            )
            assert write.status_code == 503, write.text
            assert write.json()["error"]["code"] == "service_unavailable"
    finally:
        proxy.restore()

    wait_until(
        lambda: requests.get(f"{server.url}/readyz", timeout=10).status_code == 200,
        timeout=20,
        what="/readyz to recover",
    )
    for _ in range(4):
        listed = requests.get(f"{server.url}/api/v1/items/", params={"page_size": 100}, timeout=10)
        assert listed.status_code == 200
    names = [row["name"] for row in listed.json()["results"]]
    assert sorted(row["id"] for row in listed.json()["results"]) == sorted(created)
    assert "During outage" not in names


@pytest.fixture
def site_with_a_private_redis(sqlite_site_db, tmp_path):
    database_url, token = sqlite_site_db
    redis = PrivateRedis().start()
    env = production_env(DATABASE_URL=database_url, REDIS_URL=redis.url)
    servers = {"redis": redis}
    try:
        servers["site"] = Gunicorn(env, workers=2, log=tmp_path / "gunicorn.log").start()
        yield servers, token
    finally:
        if "site" in servers:
            servers["site"].stop()
        servers["redis"].stop()


def test_redis_down_reads_work_writes_are_a_json_503_and_recover_with_redis(
    site_with_a_private_redis,
):
    servers, token = site_with_a_private_redis
    server, redis = servers["site"], servers["redis"]
    auth = {"Authorization": f"Token {token}"}
    item = {"name": "Lamp", "price": "1.00"}
    assert (
        requests.post(
            f"{server.url}/api/v1/items/", json=item, headers=auth, timeout=10
        ).status_code
        == 201
    )

    redis.stop()
    try:
        for _ in range(4):
            assert requests.get(f"{server.url}/api/v1/items/", timeout=10).status_code == 200
            assert (
                requests.get(f"{server.url}/api/v1/leaderboards/bullseye/", timeout=10).status_code
                == 200
            )
            write = requests.post(
                f"{server.url}/api/v1/items/", json=item, headers=auth, timeout=10
            )
            assert _json_error(write, 503)["code"] == "service_unavailable"
            login = requests.post(
                f"{server.url}/api/v1/auth/token/",
                json={"username": "ops", "password": "x"},
                timeout=10,
            )
            assert _json_error(login, 503)["code"] == "service_unavailable"
        assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
    finally:
        servers["redis"] = PrivateRedis(port=redis.port).start()

    wait_until(
        lambda: (
            requests.post(
                f"{server.url}/api/v1/items/", json=item, headers=auth, timeout=10
            ).status_code
            == 201
        ),
        timeout=15,
        what="writes to work again once Redis is back",
    )
    listed = requests.get(f"{server.url}/api/v1/items/", timeout=10).json()
    assert listed["count"] == 2  # the two acknowledged writes, none of the refused ones
