"""Retries racing each other for real: one key sent three times at once to a gunicorn with four
workers. Exactly one runs; the others wait their turn (409) or get its stored answer."""

from __future__ import annotations

import threading
import uuid
from urllib.parse import quote

import psycopg
import pytest
import requests
from django.conf import settings

from tests.faults.servers import (
    Gunicorn,
    migrated_with_staff_token,
    production_env,
    sqlite_site_copy,
)

pytestmark = pytest.mark.slow

KEYS = 20
COPIES = 3
STOCK = 1000


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """gunicorn on the kind of database the suite runs on (a private database either way)."""
    tmp = tmp_path_factory.mktemp("idempotency-race")
    database = settings.DATABASES["default"]
    dropped = None
    if database["ENGINE"].endswith("postgresql"):
        host, port = database.get("HOST") or "127.0.0.1", int(database.get("PORT") or 5432)
        user = database.get("USER") or "postgres"
        password = database.get("PASSWORD") or ""
        name = f"idempotency_race_{uuid.uuid4().hex[:8]}"
        admin = {"host": host, "port": port, "user": user, "dbname": "postgres"}
        if password:
            admin["password"] = password
        with psycopg.connect(autocommit=True, **admin) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        dropped = (admin, name)
        secret = f":{quote(password, safe='')}" if password else ""
        env = production_env(
            DATABASE_URL=f"postgres://{quote(user, safe='')}{secret}@{host}:{port}/{name}"
        )
        token = migrated_with_staff_token(env)
    else:
        database_url, token = sqlite_site_copy(tmp)
        env = production_env(DATABASE_URL=database_url)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp / "metrics")
    server = None
    try:
        server = Gunicorn(env, workers=4, log=tmp / "gunicorn.log").start()
        yield server, {"Authorization": f"Token {token}"}
    finally:
        if server:
            server.stop()
        if dropped:
            admin, name = dropped
            with psycopg.connect(autocommit=True, **admin) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_simultaneous_retries_of_one_key_move_the_stock_once(site):
    server, auth = site
    created = requests.post(
        f"{server.url}/api/v1/items/",
        json={"name": "Raced lamp", "price": "5.00", "stock_quantity": STOCK},
        headers=auth,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    item_url = f"{server.url}/api/v1/items/{created.json()['id']}/"

    outcomes: dict[str, list[tuple[int, str, bytes]]] = {}
    lock = threading.Lock()

    def send(key: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        response = requests.post(
            item_url + "adjust-stock/",
            json={"delta": -1, "reason": "raced"},
            headers={**auth, "Idempotency-Key": key},
            timeout=60,
        )
        replayed = response.headers.get("Idempotent-Replayed", "")
        with lock:
            outcomes.setdefault(key, []).append((response.status_code, replayed, response.content))

    for _ in range(KEYS):
        key = str(uuid.uuid4())
        barrier = threading.Barrier(COPIES)
        threads = [threading.Thread(target=send, args=(key, barrier)) for _ in range(COPIES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    ran = in_flight = replays = 0
    for answers in outcomes.values():
        first = [a for a in answers if a[0] == 200 and a[1] != "true"]
        assert len(first) == 1, answers  # exactly one copy ran
        for status, replayed, content in answers:
            if status == 409:
                assert b"idempotency_key_in_use" in content
                in_flight += 1
            elif replayed == "true":
                assert (status, content) == (200, first[0][2])
                replays += 1
            else:
                ran += 1
    print(
        f"\n{KEYS} keys x {COPIES} simultaneous copies: {ran} ran, {replays} replayed, "
        f"{in_flight} answered 409 while the first ran"
    )
    assert ran == KEYS
    stock = requests.get(item_url, timeout=30).json()["stock_quantity"]
    assert stock == STOCK - KEYS
