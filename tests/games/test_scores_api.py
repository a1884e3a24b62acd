from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.utils import timezone
from rest_framework import serializers

from games import rules, services
from games.models import Score
from games.serializers import ScoreSerializer, ScoreSubmitSerializer
from targets_site import throttling
from tests.games.factories import PlayerFactory, bot_payload, perfect_payload
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

SCORES = "/api/v1/scores/"
PLAYERS = "/api/v1/players/"


@pytest.fixture
def player():
    return PlayerFactory(username="alice")


@pytest.fixture
def alice(client_for, player):
    return client_for(player)


# --- Registration --------------------------------------------------------------------------


def test_registering_a_player_returns_a_token_that_can_submit_scores(api_client):
    response = api_client.post(
        PLAYERS, {"username": "newbie", "password": "a long passphrase 42"}, format="json"
    )
    assert response.status_code == 201, response.content
    token = response.json()["token"]
    assert response.json()["username"] == "newbie"
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api_client.post(SCORES, bot_payload(), format="json")
    assert response.status_code == 201, response.content


def test_a_weak_password_is_refused_by_djangos_validators(api_client):
    response = api_client.post(PLAYERS, {"username": "bob", "password": "123"}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert "password" in error["details"]


def test_a_password_like_the_username_is_refused(api_client):
    response = api_client.post(
        PLAYERS, {"username": "sharpshooter", "password": "sharpshooter1"}, format="json"
    )
    assert "password" in assert_error(response, 400)["details"]


def test_a_taken_username_is_refused_whatever_its_case(api_client, player):
    response = api_client.post(
        PLAYERS, {"username": "ALICE", "password": "a long passphrase 42"}, format="json"
    )
    assert "username" in assert_error(response, 400, "validation_error")["details"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "x y", "password": "a long passphrase 42"},
        {"username": 12, "password": "a long passphrase 42"},
        {"username": "u" * 151, "password": "a long passphrase 42"},
        {"username": "ok", "password": "a long passphrase 42", "is_staff": True},
    ],
)
def test_bad_registrations_are_400s(api_client, body):
    assert_error(api_client.post(PLAYERS, body, format="json"), 400)


def test_registration_is_throttled(api_client, monkeypatch):
    monkeypatch.setitem(throttling.ScopedRateThrottle.THROTTLE_RATES, "register", "2/hour")
    for n in range(2):
        body = {"username": f"p{n}", "password": "a long passphrase 42"}
        assert api_client.post(PLAYERS, body, format="json").status_code == 201
    body = {"username": "p3", "password": "a long passphrase 42"}
    response = api_client.post(PLAYERS, body, format="json")
    assert_error(response, 429, "throttled")
    assert response["Retry-After"]


# --- Submitting ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", rules.MODES)
def test_a_bot_round_is_stored_as_verified_for_the_tokens_player(alice, player, mode):
    body = bot_payload(mode, seed=3, round_for=player)
    response = alice.post(SCORES, body, format="json")
    assert response.status_code == 201, response.content
    stored = response.json()
    assert stored["verified"] is True
    assert (stored["points"], stored["hits"], stored["misses"]) == (
        body["points"],
        body["hits"],
        body["misses"],
    )
    assert stored["unverified_reason"] == "" and stored["review_status"] == "none"
    assert stored["round_id"] == body["round_id"]
    score = Score.objects.get()
    assert score.player == player
    assert score.replay_difference == {}


def test_a_score_without_a_replay_is_stored_unverified(alice):
    body = bot_payload()
    del body["replay"]
    response = alice.post(SCORES, body, format="json")
    assert response.status_code == 201
    assert response.json()["verified"] is False
    assert response.json()["unverified_reason"] == "no_replay"


def test_resending_a_submission_returns_the_stored_score(alice):
    body = bot_payload()
    first = alice.post(SCORES, body, format="json")
    again = alice.post(SCORES, body, format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert Score.objects.count() == 1


def test_the_submission_digest_is_the_one_scores_were_stored_with():
    """A retry sent after a deploy must still match the digest stored before it."""
    body = bot_payload("moving", seed=5)
    body["client_version"] = "bêta ✓"
    body["duration_s"] = 29.5
    stored_form = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    assert services.submission_digest(body) == hashlib.sha256(stored_form.encode()).hexdigest()


def test_the_same_submission_id_with_another_body_is_a_422(alice):
    body = bot_payload()
    alice.post(SCORES, body, format="json")
    changed = {**body, "client_version": "other"}
    assert_error(alice.post(SCORES, changed, format="json"), 422, "unprocessable")
    assert Score.objects.count() == 1


def test_another_players_submission_id_is_a_422_and_reveals_nothing(alice, client_for):
    body = bot_payload()
    alice.post(SCORES, body, format="json")
    mallory = client_for(PlayerFactory(username="mallory"))
    error = assert_error(mallory.post(SCORES, body, format="json"), 422)
    assert "alice" not in str(error)
    assert Score.objects.count() == 1


@pytest.mark.parametrize("field", ["player", "id", "rank", "verified", "flagged"])
def test_a_body_naming_server_owned_fields_is_refused(alice, field):
    body = {**bot_payload(), field: 1}
    error = assert_error(alice.post(SCORES, body, format="json"), 400, "validation_error")
    assert field in error["details"]
    assert not Score.objects.exists()


def test_submitting_needs_a_token(api_client):
    assert_error(api_client.post(SCORES, bot_payload(), format="json"), 401)


def implausible(**changes):
    body = bot_payload("bullseye", seed=5)
    del body["replay"]
    del body["shots"]
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"mode": "sniper"}, "unknown_mode"),
        ({"points": -1}, "negative_count"),
        ({"misses": -3}, "negative_count"),
        ({"hits": 2, "points": 201}, "points_exceed_hits"),
        ({"mode": "moving", "hits": 3, "points": 190}, "points_exceed_hits"),
        ({"hits": 5, "points": 50}, "points_below_hits"),
        ({"duration_s": 0}, "duration_out_of_range"),
        ({"duration_s": 3601}, "duration_out_of_range"),
        ({"duration_s": 1, "hits": 16, "misses": 0, "points": 1600}, "shot_rate_exceeded"),
        ({"played_at": "2999-01-01T00:00:00Z"}, "played_at_in_future"),
        ({"played_at": "2000-01-01T00:00:00Z"}, "played_at_too_old"),
        (
            {"hits": 1, "misses": 0, "points": 100, "shots": []},
            "shots_inconsistent",
        ),
        (
            {
                "hits": 1,
                "misses": 1,
                "points": 100,
                "shots": [
                    {"x": 0, "y": 0, "hit": True, "ring": 1},
                    {"x": 0, "y": 0, "hit": True, "ring": 1},
                ],
            },
            "shots_inconsistent",
        ),
        (
            {
                "hits": 1,
                "misses": 0,
                "points": 100,
                "shots": [{"x": 0, "y": 0, "hit": True, "ring": None}],
            },
            "shots_inconsistent",
        ),
        (
            {
                "hits": 0,
                "misses": 1,
                "points": 0,
                "shots": [{"x": 500, "y": 0, "hit": False, "ring": 7}],
            },
            "shots_inconsistent",
        ),
    ],
)
def test_each_implausible_score_is_a_named_400(alice, changes, code):
    error = assert_error(alice.post(SCORES, implausible(**changes), format="json"), 400, code)
    assert error["details"]
    assert not Score.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"points": "100"},
        {"points": 1.5},
        {"points": True},
        {"points": 10**12},
        {"mode": 1},
        {"mode": ""},
        {"submission_id": "not-a-uuid"},
        {"played_at": "yesterday"},
        {"client_version": "v" * 41},
        {"shots": "many"},
        {"shots": [{"x": "1", "y": 0, "hit": True, "ring": 1}]},
        {"shots": [{"x": 0, "y": 0, "hit": 1, "ring": 1}]},
        {"shots": [{"x": 0, "y": 0, "hit": True, "ring": 8}]},
        {"shots": [{"x": 0, "y": 0, "hit": True, "ring": 1, "extra": 1}]},
        {"shots": [{"x": 0, "y": 0, "hit": False, "ring": None}] * 1001},
        {"mode": "bulls\u0000eye"},
    ],
)
def test_wrong_types_and_sizes_are_validation_errors(alice, changes):
    assert_error(alice.post(SCORES, implausible(**changes), format="json"), 400)
    assert not Score.objects.exists()


def test_an_empty_or_non_object_body_is_a_400(alice):
    assert_error(alice.post(SCORES, {}, format="json"), 400, "validation_error")
    assert_error(alice.post(SCORES, [1, 2], format="json"), 400)
    response = alice.generic("POST", SCORES, "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


# --- Replay verification -------------------------------------------------------------------


def post_edited(client, body):
    response = client.post(SCORES, body, format="json")
    assert response.status_code == 201, response.content
    return Score.objects.get(submission_id=body["submission_id"])


def test_a_replay_edited_to_add_a_hit_does_not_verify(alice, player):
    body = bot_payload("bullseye", seed=9, with_shots=False, round_for=player)
    game = rules.Round("bullseye", body["replay"]["seed"], 120, body["replay"]["ticks"])
    # A shot on the centre at a tick between two real shots, and the claim updated to match.
    free_tick = next(
        t for t in range(1, game.ticks) if t not in {s[0] for s in body["replay"]["shots"]}
    )
    cx, cy = game.motion.at(free_tick)
    shots = sorted([*body["replay"]["shots"], [free_tick, cx // 1000, cy // 1000]])
    body["replay"]["shots"] = shots
    score = post_edited(alice, body)  # the claimed points did not change: a mismatch
    assert score.verified is False
    assert score.unverified_reason == "replay_mismatch"
    assert score.replay_difference["hits"] == (body["hits"], body["hits"] + 1)


def test_a_replay_with_a_shot_moved_onto_the_bullseye_does_not_verify(alice, player):
    body = bot_payload("bullseye", seed=10, with_shots=False, round_for=player)
    replay = body["replay"]
    game = rules.Round("bullseye", replay["seed"], 120, replay["ticks"])
    index = next(
        i
        for i, shot in enumerate(replay["shots"])
        if rules.simulate("bullseye", replay["seed"], 120, game.ticks, [shot]).points < 100
    )
    tick = replay["shots"][index][0]
    cx, cy = game.motion.at(tick)
    replay["shots"][index] = [tick, cx // 1000, cy // 1000]
    score = post_edited(alice, body)
    assert score.verified is False
    assert score.unverified_reason == "replay_mismatch"
    claimed, replayed = score.replay_difference["points"]
    assert replayed > claimed


@pytest.mark.parametrize(
    ("mode", "seed", "hit_shift"),
    [("bullseye", 1, +1), ("bullseye", 4, -1), ("moving", 5, +1), ("moving", 1, -1)],
)
def test_a_replay_with_the_claimed_points_but_another_hit_miss_split_does_not_verify(
    alice, player, mode, seed, hit_shift
):
    # Points alone are not the claim: the replay must give the same hits and misses too.
    body = bot_payload(mode, seed=seed, with_shots=False, round_for=player)
    body["hits"] += hit_shift
    body["misses"] -= hit_shift
    assert body["misses"] >= 0
    assert rules.min_points(mode, body["hits"]) <= body["points"]
    assert body["points"] <= rules.max_points(mode, body["hits"])
    score = post_edited(alice, body)
    assert score.replay_points == score.points
    assert score.verified is False
    assert score.unverified_reason == "replay_mismatch"
    assert score.replay_difference == {
        "hits": (body["hits"], body["hits"] - hit_shift),
        "misses": (body["misses"], body["misses"] + hit_shift),
    }


def test_a_replay_with_a_changed_seed_does_not_verify(alice, player):
    body = bot_payload("moving", seed=21, with_shots=False, round_for=player)
    body["replay"]["seed"] = 22
    score = post_edited(alice, body)
    assert score.verified is False
    assert score.unverified_reason == "seed_mismatch"


def test_a_replay_sent_for_the_other_mode_does_not_verify(alice, player):
    body = bot_payload("bullseye", seed=23, with_shots=False, round_for=player)
    body["mode"] = "moving"
    body["points"] = rules.min_points("moving", body["hits"])
    score = post_edited(alice, body)
    assert score.verified is False
    assert score.unverified_reason == "round_mismatch"


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda r: r.update(tick_rate=60), "replay_tick_rate"),
        (lambda r: r.update(ticks=r["ticks"] + 1), "replay_duration_mismatch"),
        (lambda r: r["shots"].append([r["ticks"], 1, 1]), "replay_tick_out_of_round"),
        (lambda r: r["shots"].reverse(), "replay_ticks_not_increasing"),
        (lambda r: r["shots"][0].__setitem__(1, 800), "replay_shot_outside_area"),
        (lambda r: r.update(shots=[[t, 1, 1] for t in range(20)]), "replay_shot_rate"),
        (lambda r: r.update(seed="abc"), "replay_malformed"),
        (lambda r: r.update(shots=[[1, 2, None]]), "replay_malformed"),
        (lambda r: r.update(bonus=1), "replay_malformed"),
    ],
)
def test_each_broken_replay_rule_is_a_named_400(alice, edit, code):
    body = bot_payload("bullseye", seed=30, with_shots=False)
    edit(body["replay"])
    error = assert_error(alice.post(SCORES, body, format="json"), 400, code)
    assert "replay" in error["details"]
    assert not Score.objects.exists()


def test_an_oversized_replay_is_refused(alice):
    body = bot_payload("bullseye", seed=31, duration_s=3600, with_shots=False)
    body["replay"]["shots"] = [[t * 10, 1, 1] for t in range(rules.MAX_REPLAY_SHOTS + 1)]
    assert_error(alice.post(SCORES, body, format="json"), 400, "replay_too_large")


def test_a_huge_body_is_a_413(alice):
    body = bot_payload()
    body["client_version"] = "x" * (6 * 1024 * 1024)
    assert_error(alice.post(SCORES, body, format="json"), 413)


def typed(answer: dict) -> dict:
    return {key: (type(value), value) for key, value in answer.items()}


def test_the_answer_is_what_the_declared_fields_make(alice, player):
    """``ScoreSerializer.to_representation`` is written out; DRF's own walk over the declared
    fields is the reference, on fresh scores (as the service returns them) and stored ones."""
    with_offset = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=2)))
    without_replay = bot_payload("moving", seed=2, played_at=with_offset - dt.timedelta(minutes=3))
    del without_replay["replay"]
    bodies = [
        bot_payload("moving", seed=3, round_for=player),
        bot_payload("bullseye", seed=4, duration_s=29.5, with_shots=False),
        without_replay,
        perfect_payload(player, "moving", per_second=15),
    ]
    for body in bodies:
        data = ScoreSubmitSerializer(data=body)
        assert data.is_valid(), data.errors
        fresh, created = services.score_submit(
            player=player, data=data.validated_data, digest=services.submission_digest(body)
        )
        assert created
        services.score_flag(score_ids=[fresh.pk], flagged=fresh.mode == "moving")
        for score in (fresh, Score.objects.get(pk=fresh.pk)):
            fast = ScoreSerializer(score).data
            reference = serializers.Serializer.to_representation(ScoreSerializer(score), score)
            assert typed(fast) == typed(reference)
    stored = {score["submission_id"]: score for score in alice.get(SCORES).json()["results"]}
    assert {body["submission_id"] for body in bodies} == set(stored)
    assert stored[bodies[3]["submission_id"]]["review_status"] == "review"
    assert stored[bodies[2]["submission_id"]]["played_at"].endswith("Z")


# --- Reading scores ------------------------------------------------------------------------


def test_players_list_only_their_own_scores_with_a_fixed_query_count(
    alice, client_for, django_assert_num_queries
):
    for seed in range(3):
        alice.post(SCORES, bot_payload(seed=seed), format="json")
    bob = client_for(PlayerFactory(username="bob"))
    bob.post(SCORES, bot_payload(seed=9), format="json")
    with django_assert_num_queries(3):  # token, count, page
        response = alice.get(SCORES)
    assert response.json()["count"] == 3
    assert bob.get(SCORES).json()["count"] == 1
    other = Score.objects.get(player__username="bob").pk
    assert_error(alice.get(f"{SCORES}{other}/"), 404)


def test_the_target_png_shows_to_its_owner_and_staff_only(alice, client_for, staff_client):
    score_id = alice.post(SCORES, bot_payload(seed=4), format="json").json()["id"]
    url = f"{SCORES}{score_id}/target.png"
    response = alice.get(url, HTTP_ACCEPT="image/png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert staff_client.get(url).status_code == 200
    bob = client_for(PlayerFactory(username="bob"))
    assert_error(bob.get(url), 404)
    assert_error(bob.get(f"{SCORES}999999/target.png"), 404)


def test_the_target_png_needs_authentication(api_client, alice):
    score_id = alice.post(SCORES, bot_payload(seed=4), format="json").json()["id"]
    assert_error(api_client.get(f"{SCORES}{score_id}/target.png"), 401)


def test_played_at_a_few_minutes_ahead_is_a_clock_not_a_forgery(alice):
    body = bot_payload(played_at=timezone.now() + dt.timedelta(minutes=2))
    assert alice.post(SCORES, body, format="json").status_code == 201


def test_score_submissions_are_throttled_but_reading_your_list_is_not(alice, monkeypatch):
    monkeypatch.setitem(throttling.ScopedRateThrottle.THROTTLE_RATES, "scores", "2/min")
    for seed in range(2):
        assert alice.post(SCORES, bot_payload(seed=seed), format="json").status_code == 201
    assert_error(alice.post(SCORES, bot_payload(seed=5), format="json"), 429, "throttled")
    for _ in range(3):
        assert alice.get(SCORES).status_code == 200
