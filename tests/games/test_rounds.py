"""Server-issued rounds, the verification rules around them, review, and past boards."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from games import rules
from games.models import Round, Score
from tests.games.factories import (
    PlayerFactory,
    bot_payload,
    issued_round,
    make_score,
    perfect_payload,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

ROUNDS = "/api/v1/rounds/"
SCORES = "/api/v1/scores/"


@pytest.fixture
def player():
    return PlayerFactory(username="alice")


@pytest.fixture
def alice(client_for, player):
    return client_for(player)


def board(client, mode="bullseye", **params):
    response = client.get(f"/api/v1/leaderboards/{mode}/", params)
    assert response.status_code == 200, response.content
    return [row["player"] for row in response.json()["results"]]


def submit(client, body) -> dict:
    response = client.post(SCORES, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def played_under(game_round: Round, *, seed: int | None = None) -> dict:
    """The bot's round under ``game_round`` (or on another seed), consistent with its claim."""
    body = bot_payload(
        game_round.mode,
        seed=game_round.seed if seed is None else seed,
        duration_s=game_round.duration_s,
    )
    body["round_id"] = str(game_round.id)
    return body


# --- Issuing -------------------------------------------------------------------------------


def test_a_round_is_issued_to_the_caller_with_a_seed_and_the_servers_clock(alice, player):
    before = timezone.now()
    response = alice.post(ROUNDS, {"mode": "moving", "duration_s": 29.5}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"round_id", "seed", "tick_rate", "mode", "duration_s", "issued_at"}
    assert (body["mode"], body["duration_s"], body["tick_rate"]) == ("moving", 29.5, 120)
    assert 0 <= body["seed"] <= rules.MAX_SEED
    stored = Round.objects.get(pk=body["round_id"])
    assert stored.player == player and stored.issued_at >= before
    again = alice.post(ROUNDS, {"mode": "moving", "duration_s": 30}, format="json").json()
    assert again["round_id"] != body["round_id"] and again["seed"] != body["seed"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"mode": "sniper", "duration_s": 30}, "unknown_mode"),
        ({"mode": "moving", "duration_s": 0.5}, "duration_out_of_range"),
        ({"mode": "moving", "duration_s": 3601}, "duration_out_of_range"),
        ({"mode": "moving", "duration_s": "30"}, "validation_error"),
        ({"mode": "moving", "duration_s": True}, "validation_error"),
        ({"mode": "moving"}, "validation_error"),
        ({"mode": "moving", "duration_s": 30, "seed": 1}, "validation_error"),
    ],
)
def test_a_bad_round_request_is_a_named_400(alice, body, code):
    assert_error(alice.post(ROUNDS, body, format="json"), 400, code)
    assert not Round.objects.exists()


def test_a_round_needs_a_token(api_client):
    assert_error(api_client.post(ROUNDS, {"mode": "moving", "duration_s": 30}, format="json"), 401)


# --- Verification under a round ------------------------------------------------------------


def test_the_bots_round_under_its_round_verifies_and_ranks(alice, player, api_client):
    score = submit(alice, played_under(issued_round(player, mode="moving", seed=8)))
    assert score["verified"] is True and score["unverified_reason"] == ""
    assert board(api_client, "moving") == ["alice"]


def test_a_fractional_duration_round_verifies(alice, player):
    game_round = issued_round(player, duration_s=12.5, seed=4)
    body = played_under(game_round)
    assert body["replay"]["ticks"] == 1500
    assert submit(alice, body)["verified"] is True
    assert Score.objects.get().duration_s == 12.5


def test_a_score_sent_before_its_round_could_end_does_not_verify(alice):
    issued = alice.post(ROUNDS, {"mode": "bullseye", "duration_s": 10}, format="json").json()
    body = played_under(Round.objects.get(pk=issued["round_id"]))
    score = submit(alice, body)
    assert (score["verified"], score["unverified_reason"]) == (False, "too_early")


def test_a_round_used_twice_verifies_only_the_first_score(alice, player):
    game_round = issued_round(player, seed=6)
    first = submit(alice, played_under(game_round))
    second = submit(alice, played_under(game_round))  # the same round, a new submission_id
    assert first["verified"] is True
    assert (second["verified"], second["unverified_reason"]) == (False, "round_used")
    assert Score.objects.get(pk=second["id"]).game_round is None


def test_another_players_round_does_not_verify_and_stays_its_owners(alice, client_for):
    bob = PlayerFactory(username="bob")
    bobs_round = issued_round(bob, seed=7)
    stolen = submit(alice, played_under(bobs_round))
    assert (stolen["verified"], stolen["unverified_reason"]) == (False, "round_not_yours")
    assert submit(client_for(bob), played_under(bobs_round))["verified"] is True


def test_a_self_consistent_replay_on_a_seed_of_the_players_choosing_does_not_verify(alice, player):
    game_round = issued_round(player, seed=100)
    body = played_under(game_round, seed=101)  # the claim matches its own replay
    score = submit(alice, body)
    assert (score["verified"], score["unverified_reason"]) == (False, "seed_mismatch")
    assert Score.objects.get().replay_difference == {}


@pytest.mark.parametrize(
    "changes", [{"mode": "moving"}, {"duration_s": 20}], ids=["mode", "duration"]
)
def test_a_round_issued_for_another_mode_or_duration_does_not_verify(alice, player, changes):
    game_round = issued_round(player, seed=9)
    Round.objects.filter(pk=game_round.pk).update(**changes)
    game_round.refresh_from_db()
    bullseye = bot_payload("bullseye", seed=9, duration_s=10)
    bullseye["round_id"] = str(game_round.id)
    score = submit(alice, bullseye)
    assert (score["verified"], score["unverified_reason"]) == (False, "round_mismatch")


def test_an_unknown_round_and_an_offline_round_are_named(alice):
    unknown = {**bot_payload(seed=2), "round_id": str(uuid.uuid4())}
    assert submit(alice, unknown)["unverified_reason"] == "round_unknown"
    offline = submit(alice, bot_payload(seed=3))
    assert (offline["verified"], offline["unverified_reason"]) == (False, "no_round")


def test_a_malformed_round_id_is_a_400(alice):
    body = {**bot_payload(seed=2), "round_id": "round-1"}
    assert "round_id" in assert_error(alice.post(SCORES, body, format="json"), 400)["details"]


def test_with_a_replay_the_stored_shots_are_the_servers_rerun(alice, player):
    body = played_under(issued_round(player, seed=12))
    # The claim's picture: every shot drawn dead centre (counts still consistent).
    body["shots"] = [{**shot, "x": 0.0, "y": 0.0} for shot in body["shots"]]
    submit(alice, body)
    score = Score.objects.get()
    game = rules.bot_round("bullseye", 12, 10)
    assert score.shots == [shot.as_detail() for shot in game.result.shots]
    assert any(shot["x"] != 0.0 for shot in score.shots)


# --- Human limits and review ---------------------------------------------------------------


@pytest.mark.parametrize("mode", rules.MODES)
@pytest.mark.parametrize("per_second", [15, 4])
def test_a_computed_perfect_round_is_never_verified_nor_ranked(
    alice, player, api_client, mode, per_second
):
    score = submit(alice, perfect_payload(player, mode, per_second=per_second))
    assert score["verified"] is False
    assert score["unverified_reason"] == "human_limits"
    assert score["review_status"] == "review"
    stored = Score.objects.get()
    assert stored.replay_difference == {}  # consistent: only the human limits are broken
    assert "aim_too_steady" in stored.review_reason
    for verified in (None, "true", "false"):
        params = {} if verified is None else {"verified": verified}
        assert board(api_client, mode, **params) == []
    assert_error(alice.get(f"/api/v1/leaderboards/{mode}/me/", {"verified": "false"}), 404)


@pytest.fixture
def admin_client(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_staff_see_the_review_list_and_an_approved_score_ranks(
    alice, player, admin_client, api_client, staff_user
):
    submit(alice, perfect_payload(player, per_second=4))
    make_score(PlayerFactory(username="other"), points=100)  # not in review: not listed
    review_list = reverse("admin:games_scoreinreview_changelist")
    page = admin_client.get(review_list).content.decode()
    assert "aim_too_steady" in page and "alice" in page and "other" not in page
    suspect = Score.objects.get(player=player)
    response = admin_client.post(
        review_list, {"action": "approve_scores", "_selected_action": [suspect.pk]}, follow=True
    )
    assert "Approved 1 score(s)." in response.content.decode()
    suspect.refresh_from_db()
    assert (suspect.review_status, suspect.verified, suspect.reviewed_by) == (
        "approved",
        True,
        staff_user,
    )
    assert board(api_client) == ["alice"]
    assert "alice" not in admin_client.get(review_list).content.decode()


def test_a_rejected_score_is_on_no_board_at_all(alice, player, admin_client, api_client):
    submit(alice, perfect_payload(player, per_second=15))
    suspect = Score.objects.get()
    admin_client.post(
        reverse("admin:games_scoreinreview_changelist"),
        {"action": "reject_scores", "_selected_action": [suspect.pk]},
    )
    suspect.refresh_from_db()
    assert suspect.review_status == "rejected" and not suspect.verified
    assert board(api_client, verified="false") == []


def test_approving_an_offline_superhuman_round_ranks_it_but_does_not_verify_it(
    alice, player, api_client
):
    from games import services

    body = perfect_payload(player, per_second=4)
    body["round_id"] = None
    stored = submit(alice, body)
    assert (stored["unverified_reason"], stored["review_status"]) == ("no_round", "review")
    assert board(api_client, verified="false") == []
    services.score_review(score_ids=[stored["id"]], approve=True)
    assert board(api_client, verified="false") == ["alice"]
    assert board(api_client) == []


# --- Past periods --------------------------------------------------------------------------


def test_past_days_weeks_and_months_have_their_own_boards(api_client):
    now = timezone.now()
    this_month = now.date().replace(day=1)
    last_month_day = this_month - dt.timedelta(days=20)
    old = dt.datetime.combine(last_month_day, dt.time(15), tzinfo=dt.UTC)
    make_score(PlayerFactory(username="then"), points=900, played_at=old, verified=True)
    make_score(
        PlayerFactory(username="now"),
        points=100,
        played_at=now - dt.timedelta(seconds=5),
        verified=True,
    )
    at = last_month_day.isoformat()
    assert board(api_client, period="month") == ["now"]
    assert board(api_client, period="month", at=at) == ["then"]
    assert board(api_client, period="week", at=at) == ["then"]
    assert board(api_client, period="day", at=at) == ["then"]
    assert (
        board(api_client, period="day", at=(last_month_day - dt.timedelta(days=1)).isoformat())
        == []
    )
    response = api_client.get("/api/v1/leaderboards/bullseye/", {"period": "month", "at": at})
    assert response.json()["period_start"] == last_month_day.replace(day=1).isoformat()
    assert board(api_client, period="all", at=at) == ["then", "now"]


def test_me_on_a_past_month(client_for):
    old = timezone.now() - dt.timedelta(days=40)
    veteran, rival = PlayerFactory(username="veteran"), PlayerFactory(username="rival")
    make_score(veteran, points=700, played_at=old, verified=True)
    make_score(rival, points=800, played_at=old, verified=True)
    make_score(veteran, points=950, verified=True)  # this month: not on last month's board
    at = {"period": "month", "at": old.date().isoformat()}
    response = client_for(veteran).get("/api/v1/leaderboards/bullseye/me/", at)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["rank"], body["points"]) == (2, 700)
    assert [row["player"] for row in body["neighbours"]] == ["rival", "veteran"]
