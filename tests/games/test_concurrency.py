"""Concurrent duplicate submissions, on PostgreSQL where requests really run in parallel."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from games.models import LeaderboardEntry, Score
from tests.games.factories import PlayerFactory, bot_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def post_all_at_once(bodies: list[dict], token: str) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def send(index: int, body: dict) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            barrier.wait()
            statuses[index] = client.post("/api/v1/scores/", body, format="json").status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=pair) for pair in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_concurrent_duplicates_of_one_submission_store_exactly_one_row():
    player = PlayerFactory(username="racer")
    token = Token.objects.create(user=player).key
    body = bot_payload(seed=8, round_for=player)
    statuses = post_all_at_once([body] * THREADS, token)
    assert sorted(statuses) == [200] * (THREADS - 1) + [201]
    assert Score.objects.filter(submission_id=body["submission_id"]).count() == 1
    # One row per board for the player: (any, verified) x (all, day, week, month).
    assert LeaderboardEntry.objects.filter(player=player).count() == 8


def test_concurrent_scores_under_one_round_verify_exactly_once():
    player = PlayerFactory(username="racer3")
    token = Token.objects.create(user=player).key
    body = bot_payload(seed=8, round_for=player)
    bodies = [{**body, "submission_id": str(uuid.uuid4())} for _ in range(THREADS)]
    assert post_all_at_once(bodies, token) == [201] * THREADS
    reasons = sorted(Score.objects.values_list("unverified_reason", flat=True))
    assert reasons == [""] + ["round_used"] * (THREADS - 1)
    assert Score.objects.filter(verified=True, game_round__isnull=False).count() == 1


def test_concurrent_different_bodies_under_one_id_store_one_and_refuse_the_rest():
    player = PlayerFactory(username="racer2")
    token = Token.objects.create(user=player).key
    body = bot_payload(seed=8)
    bodies = [{**body, "client_version": f"v{n}"} for n in range(THREADS)]
    statuses = post_all_at_once(bodies, token)
    assert sorted(statuses) == [201] + [422] * (THREADS - 1)
    assert Score.objects.count() == 1
