from __future__ import annotations

import pytest
from django.urls import reverse

from games.models import Score
from tests.games.factories import PlayerFactory, bot_payload, make_score

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_staff_flag_a_score_from_the_list_and_it_leaves_the_leaderboard(admin_client, api_client):
    forged = make_score(PlayerFactory(username="forger"), points=9000)
    make_score(PlayerFactory(username="honest"), points=500)
    response = admin_client.post(
        reverse("admin:games_score_changelist"),
        {"action": "flag_scores", "_selected_action": [forged.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Flagged 1 score(s)." in response.content.decode()
    forged.refresh_from_db()
    assert forged.flagged and forged.flagged_at is not None
    board = api_client.get("/api/v1/leaderboards/bullseye/", {"verified": "false"}).json()
    assert [row["player"] for row in board["results"]] == ["honest"]


def test_the_score_list_filters_by_mode_player_date_and_verification(admin_client):
    make_score(PlayerFactory(username="alice"), points=100)
    url = reverse("admin:games_score_changelist")
    for query in (
        "",
        "?mode__exact=moving",
        "?verified__exact=1",
        "?flagged__exact=0",
        "?q=alice",
        "?played_at__year=2026",
    ):
        assert admin_client.get(url + query).status_code == 200
    page = admin_client.get(url + "?mode__exact=bullseye").content.decode()
    assert "alice" in page


def test_a_mismatched_replay_shows_its_difference_to_staff(admin_client, client_for):
    body = bot_payload("bullseye", seed=3, with_shots=False)
    body["replay"]["seed"] = 4
    client_for(PlayerFactory(username="cheat")).post("/api/v1/scores/", body, format="json")
    score = Score.objects.get()
    assert not score.verified
    page = admin_client.get(reverse("admin:games_score_change", args=[score.pk])).content.decode()
    assert f"points: claimed {score.points}, replayed {score.replay_points}" in page
    assert f"/api/v1/scores/{score.pk}/target.png" in page


def test_deleting_a_score_in_the_admin_brings_back_the_next_best(admin_client, api_client):
    alice = PlayerFactory(username="alice")
    best = make_score(alice, points=800)
    make_score(alice, points=200)
    admin_client.post(reverse("admin:games_score_delete", args=[best.pk]), {"post": "yes"})
    assert not Score.objects.filter(pk=best.pk).exists()
    board = api_client.get("/api/v1/leaderboards/bullseye/", {"verified": "false"}).json()
    assert [row["points"] for row in board["results"]] == [200]
