"""Who may do what: anonymous writes, one player against another, staff-only exports."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from exports.models import Export
from games.models import Score
from tests.games.factories import bot_payload, make_score
from tests.helpers import assert_error
from tests.items.factories import ItemFactory
from tests.security.conftest import PUBLIC_WRITES, write_operations

pytestmark = pytest.mark.django_db

WRITES = [op for op in write_operations() if (op.method, op.path) not in PUBLIC_WRITES]


def test_every_api_app_has_write_endpoints_under_test():
    prefixes = {op.path.split("/")[3] for op in WRITES}
    assert {"items", "scores", "readings", "sensors", "exports"} <= prefixes, prefixes


@pytest.mark.parametrize("operation", WRITES, ids=str)
def test_an_anonymous_write_is_a_401_on_every_write_endpoint(api_client, operation):
    item = ItemFactory()
    url = operation.url(id=item.pk, code="A", alert_id=1, mode="bullseye")
    response = api_client.generic(operation.method, url, "{}", content_type="application/json")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize("operation", WRITES, ids=str)
def test_a_bad_token_is_a_401_on_every_write_endpoint(api_client, operation):
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    url = operation.url(code="A", alert_id=1, mode="bullseye")
    response = api_client.generic(operation.method, url, "{}", content_type="application/json")
    assert_error(response, 401, "authentication_failed")


def _scores_for(player, other):
    own = make_score(player, points=80, hits=1)
    theirs = make_score(other, points=100, hits=1)
    return own, theirs


def test_a_players_score_list_shows_only_their_own_rows(player_client, player, other_player):
    own, _ = _scores_for(player, other_player)
    body = player_client.get("/api/v1/scores/").json()
    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [own.pk]


def test_a_player_cannot_read_another_players_score_or_its_picture(
    player_client, player, other_player
):
    _, theirs = _scores_for(player, other_player)
    assert_error(player_client.get(f"/api/v1/scores/{theirs.pk}/"), 404)
    assert_error(player_client.get(f"/api/v1/scores/{theirs.pk}/target.png"), 404)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_no_player_can_change_or_delete_a_score_through_the_api(
    player_client, player, other_player, method
):
    own, theirs = _scores_for(player, other_player)
    for score in (own, theirs):
        response = player_client.generic(
            method, f"/api/v1/scores/{score.pk}/", '{"points": 1}', content_type="application/json"
        )
        assert response.status_code in (404, 405), response.content
        assert_error(response, response.status_code)
    assert sorted(Score.objects.values_list("points", flat=True)) == [80, 100]


def test_a_submitted_score_always_belongs_to_the_token_user(player_client, player, other_player):
    body = bot_payload()
    response = player_client.post("/api/v1/scores/", body, format="json")
    assert response.status_code == 201, response.content
    assert Score.objects.get(pk=response.json()["id"]).player == player


@pytest.mark.parametrize(
    "field, value",
    [
        ("player", "mallory"),
        ("player_id", 2),
        ("id", 999),
        ("verified", True),
        ("flagged", False),
        ("rank", 1),
        ("created_at", "2020-01-01T00:00:00Z"),
    ],
)
def test_a_score_body_naming_a_server_owned_field_is_rejected(
    player_client, other_player, field, value
):
    body = {**bot_payload(), field: value}
    error = assert_error(player_client.post("/api/v1/scores/", body, format="json"), 400)
    assert field in error["details"], error
    assert not Score.objects.exists()


@pytest.mark.parametrize("field", ["is_staff", "is_superuser", "id", "groups"])
def test_registering_cannot_grant_staff_or_pick_an_id(api_client, field):
    body = {"username": "eve", "password": "a long enough passphrase", field: True}
    error = assert_error(api_client.post("/api/v1/players/", body, format="json"), 400)
    assert field in error["details"]


@pytest.mark.parametrize("field", ["id", "created_at", "is_staff"])
def test_an_item_body_naming_a_server_owned_field_is_rejected(staff_client, field):
    body = {"name": "Lamp", "price": "10.00", field: 5}
    error = assert_error(staff_client.post("/api/v1/items/", body, format="json"), 400)
    assert field in error["details"]


def test_no_api_answer_carries_another_players_token(player_client, player, other_player):
    _scores_for(player, other_player)
    secret = Token.objects.create(user=other_player).key
    for url in (
        "/api/v1/",
        "/api/v1/scores/",
        "/api/v1/leaderboards/bullseye/",
        "/api/v1/leaderboards/bullseye/me/",
        "/api/v1/items/",
    ):
        assert secret not in player_client.get(url).content.decode(), url


def test_a_token_is_only_handed_out_for_the_right_password(api_client, other_player):
    body = {"username": other_player.username, "password": "guess"}
    assert_error(api_client.post("/api/v1/auth/token/", body, format="json"), 400)
    assert not Token.objects.filter(user=other_player).exists()


def test_the_token_endpoint_and_registration_answer_only_the_callers_own_token(api_client):
    registered = api_client.post(
        "/api/v1/players/",
        {"username": "newbie", "password": "a long enough passphrase"},
        format="json",
    ).json()
    again = api_client.post(
        "/api/v1/auth/token/",
        {"username": "newbie", "password": "a long enough passphrase"},
        format="json",
    ).json()
    assert registered["token"] == again["token"] == Token.objects.get(user__username="newbie").key


def _export(staff_client) -> Export:
    response = staff_client.post(
        "/api/v1/exports/", {"dataset": "items", "format": "csv"}, format="json"
    )
    assert response.status_code == 202, response.content
    return Export.objects.get(pk=response.json()["id"])


@pytest.mark.parametrize(
    "method, suffix",
    [("GET", ""), ("POST", ""), ("GET", "{id}/"), ("GET", "{id}/download/")],
)
def test_exports_are_403_for_a_player_and_401_for_anonymous(
    api_client, player_client, staff_client, method, suffix
):
    export = _export(staff_client)
    url = "/api/v1/exports/" + suffix.format(id=export.pk)
    body = '{"dataset": "items", "format": "csv"}'
    assert_error(player_client.generic(method, url, body, content_type="application/json"), 403)
    assert_error(api_client.generic(method, url, body, content_type="application/json"), 401)
    assert Export.objects.count() == 1


def test_a_player_with_every_item_permission_still_cannot_see_exports(client_for, make_user):
    clerk = make_user("clerk", perms=["items.add_item", "items.change_item", "items.view_item"])
    assert_error(client_for(clerk).get("/api/v1/exports/"), 403)


def test_reusing_another_players_submission_id_reveals_nothing_of_their_score(
    player_client, other_player
):
    theirs = make_score(other_player, points=100, hits=1)
    body = {**bot_payload(), "submission_id": str(theirs.submission_id)}
    response = player_client.post("/api/v1/scores/", body, format="json")
    error = assert_error(response, 422, "unprocessable")
    assert error["details"] == {}
    assert "mallory" not in response.content.decode()
    assert Score.objects.filter(submission_id=theirs.submission_id).get().player == other_player
