"""Locust users for ``bench/load_mixed.py``: a mixed API load with every write accounted for.

Reads: the item list and item pages, leaderboards. Writes: reading batches (a device token) and
score submissions (one player token per user, a fresh submission_id each). Every write the
server acknowledges (201/200) is recorded, and ``LOAD_ACK_FILE`` gets them at the end so the
runner can count them in the database.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import uuid

from locust import FastHttpUser, between, events, task

TOKENS = json.loads(os.environ["LOAD_TOKENS"])  # {"device": key, "players": [keys]}
ITEM_IDS = json.loads(os.environ["LOAD_ITEM_IDS"])
BATCH = int(os.environ.get("LOAD_READINGS_PER_BATCH", "100"))

acknowledged = {"scores": [], "readings": 0, "reading_batches": 0}
server_errors = {"count": 0, "by_path": {}}
_players = itertools.cycle(TOKENS["players"])
_batches = itertools.count()
_T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@events.request.add_listener
def _count_server_errors(name, response, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    if status >= 500:
        server_errors["count"] += 1
        server_errors["by_path"][name] = server_errors["by_path"].get(name, 0) + 1


@events.test_stop.add_listener
def _write_acknowledgements(environment, **kwargs):
    path = os.environ.get("LOAD_ACK_FILE")
    if path:
        with open(path, "w") as handle:
            json.dump({"acknowledged": acknowledged, "server_errors": server_errors}, handle)


class ApiUser(FastHttpUser):
    wait_time = between(0, 0.05)

    def on_start(self) -> None:
        self.player = {"Authorization": f"Token {next(_players)}"}
        self.device = {"Authorization": f"Token {TOKENS['device']}"}

    @task(4)
    def item_list(self) -> None:
        self.client.get("/api/v1/items/?page_size=50", name="GET items")

    @task(2)
    def item_detail(self) -> None:
        self.client.get(f"/api/v1/items/{random.choice(ITEM_IDS)}/", name="GET item")

    @task(3)
    def leaderboard(self) -> None:
        mode = random.choice(["bullseye", "moving"])
        self.client.get(f"/api/v1/leaderboards/{mode}/?limit=10", name="GET leaderboard")

    @task(1)
    def reading_batch(self) -> None:
        batch = next(_batches)
        sensor = "ABC"[batch % 3]
        start = _T0 + dt.timedelta(seconds=batch * BATCH)
        body = [
            {
                "sensor": sensor,
                "timestamp": (start + dt.timedelta(seconds=n)).isoformat(),
                "value": 50.0 + random.random() * 30,
            }
            for n in range(BATCH)
        ]
        with self.client.post(
            "/api/v1/readings/",
            json=body,
            headers=self.device,
            name="POST readings",
            catch_response=True,
        ) as response:
            if response.status_code in (200, 201):
                acknowledged["readings"] += response.json()["created"]
                acknowledged["reading_batches"] += 1
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(2)
    def submit_score(self) -> None:
        submission_id = str(uuid.uuid4())
        body = {
            "mode": "bullseye",
            "points": 300,
            "hits": 5,
            "misses": 5,
            "duration_s": 30,
            "client_version": "load",
            "played_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat(),
            "submission_id": submission_id,
        }
        with self.client.post(
            "/api/v1/scores/",
            json=body,
            headers=self.player,
            name="POST scores",
            catch_response=True,
        ) as response:
            if response.status_code in (200, 201):
                acknowledged["scores"].append(submission_id)
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")
