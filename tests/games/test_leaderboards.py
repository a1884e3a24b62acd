from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from games import services
from games.models import LeaderboardEntry, Score
from tests.games.factories import PlayerFactory, bot_payload, make_score
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def board(client, mode="bullseye", **params):
    """A board; every score not rejected unless the test asks for ``verified``."""
    params.setdefault("verified", "false")
    response = client.get(f"/api/v1/leaderboards/{mode}/", params)
    assert response.status_code == 200, response.content
    return response.json()


def names_and_ranks(body):
    return [(row["player"], row["rank"], row["points"]) for row in body["results"]]


def test_the_board_shows_each_players_best_score_ranked(api_client):
    alice, bob, carol = (PlayerFactory(username=n) for n in ("alice", "bob", "carol"))
    make_score(alice, points=300)
    make_score(alice, points=900)
    make_score(bob, points=500)
    make_score(carol, points=100)
    body = board(api_client)
    assert names_and_ranks(body) == [("alice", 1, 900), ("bob", 2, 500), ("carol", 3, 100)]
    assert set(body["results"][0]) == {
        "rank",
        "player",
        "points",
        "hits",
        "accuracy",
        "played_at",
        "verified",
    }


def test_ties_share_a_rank_the_earlier_score_first_and_the_next_rank_skips(api_client):
    now = timezone.now()
    late, early, top, low = (PlayerFactory(username=n) for n in ("late", "early", "top", "low"))
    make_score(late, points=500, played_at=now - dt.timedelta(minutes=1))
    make_score(early, points=500, played_at=now - dt.timedelta(minutes=9))
    make_score(top, points=800)
    make_score(low, points=200)
    assert names_and_ranks(board(api_client)) == [
        ("top", 1, 800),
        ("early", 2, 500),
        ("late", 2, 500),
        ("low", 4, 200),
    ]


def test_a_players_tied_scores_count_once_with_the_earlier_one(api_client):
    now = timezone.now()
    alice = PlayerFactory(username="alice")
    make_score(alice, points=400, played_at=now - dt.timedelta(minutes=2))
    first = make_score(alice, points=400, played_at=now - dt.timedelta(minutes=30))
    rows = board(api_client)["results"]
    assert len(rows) == 1
    assert rows[0]["played_at"].startswith(first.played_at.strftime("%Y-%m-%dT%H:%M"))


def test_modes_have_separate_boards(api_client):
    alice = PlayerFactory(username="alice")
    make_score(alice, mode="moving", points=150, hits=3)
    assert board(api_client, "bullseye")["results"] == []
    assert names_and_ranks(board(api_client, "moving")) == [("alice", 1, 150)]


def test_day_and_week_boards_only_hold_scores_from_this_utc_day_and_week(api_client):
    now = timezone.now()
    old, today = PlayerFactory(username="old"), PlayerFactory(username="today")
    make_score(old, points=900, played_at=now - dt.timedelta(days=8))
    make_score(today, points=100, played_at=now - dt.timedelta(seconds=5))
    assert [r[0] for r in names_and_ranks(board(api_client, period="all"))] == ["old", "today"]
    assert [r[0] for r in names_and_ranks(board(api_client, period="day"))] == ["today"]
    assert [r[0] for r in names_and_ranks(board(api_client, period="week"))] == ["today"]


def test_the_default_board_lists_only_verified_scores(api_client, client_for):
    forger = PlayerFactory(username="forger")
    make_score(forger, points=5000)
    honest_player = PlayerFactory(username="honest")
    honest = client_for(honest_player)
    body = bot_payload(seed=2, round_for=honest_player)
    assert honest.post("/api/v1/scores/", body, format="json").status_code == 201
    assert [r[0] for r in names_and_ranks(board(api_client))] == ["forger", "honest"]
    default = api_client.get("/api/v1/leaderboards/bullseye/").json()
    assert default["verified_only"] is True
    assert [r[0] for r in names_and_ranks(default)] == ["honest"]
    assert names_and_ranks(board(api_client, verified="true")) == names_and_ranks(default)


def test_a_setting_makes_every_score_the_default(api_client):
    make_score(PlayerFactory(username="forger"), points=5000)
    with override_settings(LEADERBOARD_VERIFIED_ONLY_DEFAULT=False):
        assert len(api_client.get("/api/v1/leaderboards/bullseye/").json()["results"]) == 1
        assert board(api_client, verified="true")["results"] == []


def test_a_flagged_score_leaves_the_board_and_the_players_next_best_returns(api_client):
    alice, bob = PlayerFactory(username="alice"), PlayerFactory(username="bob")
    forged = make_score(alice, points=9000)
    make_score(alice, points=300)
    make_score(bob, points=500)
    assert names_and_ranks(board(api_client))[0] == ("alice", 1, 9000)
    assert services.score_flag(score_ids=[forged.pk]) == 1
    assert names_and_ranks(board(api_client)) == [("bob", 1, 500), ("alice", 2, 300)]
    services.score_flag(score_ids=[forged.pk], flagged=False)
    assert names_and_ranks(board(api_client))[0] == ("alice", 1, 9000)


def test_deleting_a_players_best_score_brings_back_the_next_best(api_client):
    alice = PlayerFactory(username="alice")
    best = make_score(alice, points=800)
    make_score(alice, points=200)
    services.score_delete(score_ids=[best.pk])
    assert names_and_ranks(board(api_client)) == [("alice", 1, 200)]


def test_the_limit_caps_the_rows_and_bad_parameters_are_400s(api_client):
    for n in range(12):
        make_score(PlayerFactory(username=f"p{n}"), points=100 + n * 10)
    assert len(board(api_client)["results"]) == 10
    assert len(board(api_client, limit=3)["results"]) == 3
    # Above the cap is the cap, as page_size is.
    assert len(board(api_client, limit=500)["results"]) == 12
    for params in (
        {"limit": 0},
        {"limit": -1},
        {"limit": "x"},
        {"at": "2026-13-01"},
        {"at": "yesterday"},
        {"period": "year"},
        {"verified": "maybe"},
    ):
        assert_error(api_client.get("/api/v1/leaderboards/bullseye/", params), 400)
    assert_error(api_client.get("/api/v1/leaderboards/snipers/"), 404, "unknown_mode")


def test_the_top_ten_is_read_with_one_query(api_client, django_assert_num_queries):
    for n in range(15):
        make_score(PlayerFactory(username=f"p{n}"), points=100 + n)
    with django_assert_num_queries(1):
        assert len(board(api_client)["results"]) == 10


def test_me_shows_the_callers_rank_and_five_neighbours_either_side(
    client_for, django_assert_num_queries
):
    players = [PlayerFactory(username=f"p{n:02d}") for n in range(20)]
    for n, player in enumerate(players):
        make_score(player, points=2000 - n * 100)  # p00 best ... p19 worst
    make_score(
        PlayerFactory(username="twin"),
        points=2000 - 10 * 100,
        played_at=timezone.now() - dt.timedelta(hours=1),
    )  # ties p10, earlier
    me = client_for(players[10])
    with django_assert_num_queries(5):  # token, mine, above, below, ranks
        response = me.get("/api/v1/leaderboards/bullseye/me/", {"verified": "false"})
    body = response.json()
    assert body["rank"] == 11 and body["points"] == 1000
    rows = [(row["player"], row["rank"]) for row in body["neighbours"]]
    assert rows == [
        ("p06", 7),
        ("p07", 8),
        ("p08", 9),
        ("p09", 10),
        ("twin", 11),
        ("p10", 11),
        ("p11", 13),
        ("p12", 14),
        ("p13", 15),
        ("p14", 16),
        ("p15", 17),
    ]


def test_me_at_the_top_has_only_neighbours_below(client_for):
    top = PlayerFactory(username="top")
    make_score(top, points=900)
    make_score(PlayerFactory(username="second"), points=100)
    body = client_for(top).get("/api/v1/leaderboards/bullseye/me/", {"verified": "false"}).json()
    assert body["rank"] == 1
    assert [r["player"] for r in body["neighbours"]] == ["top", "second"]


def test_me_without_a_score_is_a_404_and_needs_a_token(client_for, api_client):
    assert_error(
        client_for(PlayerFactory()).get("/api/v1/leaderboards/bullseye/me/"), 404, "not_ranked"
    )
    assert_error(api_client.get("/api/v1/leaderboards/bullseye/me/"), 401)


def test_the_leaderboard_index_links_each_mode(api_client):
    body = api_client.get("/api/v1/leaderboards/").json()
    assert set(body["modes"]) == {"moving", "bullseye"}


def test_a_full_rebuild_gives_the_same_rows_as_the_incremental_updates(api_client):
    now = timezone.now()
    for n in range(6):
        player = PlayerFactory(username=f"p{n}")
        for k in range(3):
            make_score(player, points=100 * (n + k + 1), played_at=now - dt.timedelta(days=k * 4))
    Score.objects.filter(points=300).update(flagged=True)
    services.leaderboard_rebuild_player(player_id=Score.objects.first().player_id, mode="bullseye")

    def rows():
        return sorted(
            LeaderboardEntry.objects.values_list(
                "board", "player_id", "score_id", "points", "neg_points"
            )
        )

    for player_id in Score.objects.values_list("player_id", flat=True).distinct():
        services.leaderboard_rebuild_player(player_id=player_id, mode="bullseye")
    incremental = rows()
    written = services.leaderboard_rebuild(batch_size=4)
    assert rows() == incremental
    assert written == len(incremental)


def test_the_rebuild_command_restores_boards_after_a_bulk_load(api_client):
    from io import StringIO

    from django.core.management import call_command

    make_score(PlayerFactory(username="alice"), points=700)
    LeaderboardEntry.objects.all().delete()
    assert board(api_client)["results"] == []
    out = StringIO()
    call_command("rebuild_leaderboards", stdout=out)
    assert "Rebuilt leaderboards: 4 rows" in out.getvalue()  # all time, day, week, month
    assert names_and_ranks(board(api_client)) == [("alice", 1, 700)]


def test_the_rebuild_command_refuses_a_bad_batch_size():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="batch-size"):
        call_command("rebuild_leaderboards", "--batch-size", "0")


def test_me_ranks_a_window_that_starts_inside_a_tie(client_for):
    now = timezone.now()
    for n in range(8):  # eight players share first place, the earliest listed first
        make_score(
            PlayerFactory(username=f"t{n}"), points=1000, played_at=now - dt.timedelta(hours=n)
        )
    me = PlayerFactory(username="me")
    make_score(me, points=900)
    body = client_for(me).get("/api/v1/leaderboards/bullseye/me/", {"verified": "false"}).json()
    assert body["rank"] == 9
    assert [(row["player"], row["rank"]) for row in body["neighbours"]] == [
        ("t4", 1),
        ("t3", 1),
        ("t2", 1),
        ("t1", 1),
        ("t0", 1),
        ("me", 9),
    ]
