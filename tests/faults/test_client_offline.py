"""The desktop client through outages: every round played arrives exactly once.

gunicorn behind a cuttable proxy, with a private Redis. The player plays rounds while the
server is unreachable, then while it answers but refuses writes (Redis down: a JSON 503), then
when all is well again: every round ends up stored once, none twice, and the queue is empty.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests

from tests.faults.servers import CuttableProxy, Gunicorn, PrivateRedis, production_env
from tests.games.client_runner import run_client

pytestmark = [pytest.mark.display, pytest.mark.slow]

PASSWORD = "correct horse battery staple"


def play(config: Path, server: str, seed: int, *extra: str) -> subprocess.CompletedProcess:
    return run_client(
        config,
        *("--server", server, "--user", "roamer", "--seed", str(seed), *extra),
        password=PASSWORD,
        timeout=90,
    )


def queued(config: Path) -> list[str]:
    return sorted(
        json.loads(path.read_text())["payload"]["submission_id"]
        for path in (config / "targets-client" / "queue").glob("*.json")
    )


@pytest.fixture
def site(sqlite_site_db, tmp_path):
    database_url, _ = sqlite_site_db
    redis = PrivateRedis().start()
    servers = {"redis": redis}
    env = production_env(DATABASE_URL=database_url, REDIS_URL=redis.url)
    try:
        servers["gunicorn"] = Gunicorn(env, workers=2, log=tmp_path / "gunicorn.log").start()
        for _ in range(6):  # each worker loads the app on its first request: not on the clock
            requests.get(f"{servers['gunicorn'].url}/api/v1/leaderboards/bullseye/", timeout=60)
        servers["proxy"] = CuttableProxy("127.0.0.1", servers["gunicorn"].port).start()
        yield servers
    finally:
        if "proxy" in servers:
            servers["proxy"].stop()
        if "gunicorn" in servers:
            servers["gunicorn"].stop()
        servers["redis"].stop()


def stored_scores(site, token: str) -> list[str]:
    body = requests.get(
        f"{site['gunicorn'].url}/api/v1/scores/",
        params={"page_size": 100},
        headers={"Authorization": f"Token {token}"},
        timeout=10,
    ).json()
    return sorted(row["submission_id"] for row in body["results"])


def accounted(site, token, config) -> tuple[list[str], list[str]]:
    """(stored, queued) submission ids; a round is in exactly one of them, never both."""
    stored, waiting = stored_scores(site, token), queued(config)
    assert len(set(stored)) == len(stored)
    assert not set(stored) & set(waiting)
    return stored, waiting


def test_rounds_played_through_outages_all_arrive_exactly_once(site, tmp_path):
    proxy = site["proxy"]
    server = f"http://127.0.0.1:{proxy.port}"
    config = tmp_path / "config"

    first = play(config, server, 1, "--register")
    assert first.returncode == 0, first.stdout + first.stderr
    tokens = json.loads((config / "targets-client" / "tokens.json").read_text())
    token = tokens[server]["roamer"]
    stored, waiting = accounted(site, token, config)
    assert len(stored) + len(waiting) == 1

    proxy.cut()  # the server is unreachable
    for seed in (2, 3):
        offline = play(config, server, seed)
        assert offline.returncode == 0, offline.stdout + offline.stderr
    stored_before, waiting = accounted(site, token, config)
    assert len(stored_before) + len(waiting) == 3
    assert len(waiting) >= 2

    proxy.restore()
    site["redis"].stop()  # reachable, but every write is a JSON 503
    refused = play(config, server, 4)
    assert refused.returncode == 0, refused.stdout + refused.stderr
    stored, waiting = accounted(site, token, config)
    assert stored == stored_before  # nothing got in while writes were refused
    assert len(stored) + len(waiting) == 4

    site["redis"] = PrivateRedis(port=site["redis"].port).start()
    back = play(config, server, 5)
    assert back.returncode == 0, back.stdout + back.stderr
    stored, waiting = accounted(site, token, config)
    assert (len(stored), waiting) == (5, [])

    again = play(config, server, 6)
    assert again.returncode == 0
    stored, waiting = accounted(site, token, config)
    assert (len(stored), waiting) == (6, [])
