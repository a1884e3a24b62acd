"""API keys: shown once, stored as a hash, scoped, limited to sensors, expiring, revocable."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiKey
from accounts.services import apikey_create
from exports.models import Export
from items.models import Item
from sensors.models import Reading, Sensor
from tests.games.factories import bot_payload
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

NOW = "2026-11-30T10:00:00Z"


@pytest.fixture
def sensors(db) -> None:
    for code in ("A", "B"):
        Sensor.objects.create(code=code, name=code, unit="C", high_threshold=65)


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def issue(owner, *scopes: str, sensors=(), expires_at=None) -> str:
    return apikey_create(
        owner=owner, name="device", scopes=scopes, sensors=sensors, expires_at=expires_at
    ).key


def reading(code: str, minute: int = 0) -> dict:
    return {"sensor": code, "timestamp": f"2026-11-30T10:{minute:02d}:00Z", "value": 20.5}


# --- issuing and listing -------------------------------------------------------------------


def test_creating_a_key_shows_it_once_and_lists_only_its_prefix(client_for, make_user, sensors):
    owner_client = client_for(make_user("dev", perms=["sensors.add_reading"]))
    body = {"name": "pump", "scopes": ["readings:write"], "sensors": ["A"], "expires_at": None}
    created = owner_client.post("/api/v1/api-keys/", body, format="json")
    assert created.status_code == 201, created.json()
    key = created.json()["key"]
    assert key.startswith("tgt_") and len(key) == 47
    assert created.json()["prefix"] == key[:12]

    listed = owner_client.get("/api/v1/api-keys/")
    one = owner_client.get(f"/api/v1/api-keys/{created.json()['id']}/")
    for response in (listed, one):
        assert response.status_code == 200
        assert key not in response.content.decode()
        assert key[12:] not in response.content.decode()
    assert listed.json()["results"][0]["prefix"] == key[:12]
    assert "key" not in listed.json()["results"][0]


def test_the_database_holds_no_key_in_any_column(make_user, sensors):
    owner = make_user("dev", perms=["sensors.add_reading"])
    key = issue(owner, "readings:write", sensors=["A"])
    bearer(key).post("/api/v1/readings/", reading("A"), format="json")
    secret = key[12:]
    table = ApiKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        rows = cursor.fetchall()
    assert rows
    for row in rows:
        for column in row:
            assert secret not in str(column)
            assert key not in str(column)


def test_the_key_is_in_no_log_line(client_for, make_user, sensors, caplog):
    owner = make_user("dev", perms=["sensors.add_reading"])
    with caplog.at_level(logging.DEBUG):
        created = client_for(owner).post(
            "/api/v1/api-keys/", {"name": "pump", "scopes": ["readings:write"]}, format="json"
        )
        key = created.json()["key"]
        bearer(key).post("/api/v1/readings/", reading("A"), format="json")
        bearer(key + "x").get("/api/v1/items/")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert key[12:] not in text
    assert f"key={key[:12]}" in text  # the request log names the key by its prefix


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["everything"]}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["items:write"], "sensors": ["NOPE"]}, "sensors"),
        (
            {"name": "x", "scopes": ["items:write"], "expires_at": "2001-01-01T00:00:00Z"},
            "expires_at",
        ),
        ({"name": "", "scopes": ["items:write"]}, "name"),
        ({"name": "x", "scopes": ["items:write"], "owner": 1}, "owner"),
    ],
)
def test_a_bad_key_request_is_a_named_400(client_for, make_user, body, field):
    response = client_for(make_user("dev")).post("/api/v1/api-keys/", body, format="json")
    error = assert_error(response, 400)
    assert field in error["details"]


# --- authentication ------------------------------------------------------------------------


def test_expired_revoked_and_unknown_keys_are_401(make_user):
    owner = make_user("dev", is_staff=True)
    expired = issue(owner, "items:write", expires_at=timezone.now() + timedelta(minutes=5))
    ApiKey.objects.filter(owner=owner).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked = issue(owner, "items:write")
    ApiKey.objects.filter(prefix=revoked[:12]).update(revoked_at=timezone.now())
    live = issue(owner, "items:write")
    forged = live[:12] + "A" * 35
    for key, words in [
        (expired, "expired"),
        (revoked, "revoked"),
        (forged, "Invalid"),
        ("tgt_short", "Invalid"),
    ]:
        response = bearer(key).get("/api/v1/items/")
        error = assert_error(response, 401)
        assert words in error["message"]
    assert bearer(live).get("/api/v1/items/").status_code == 200


def test_last_use_is_written_at_most_once_a_minute(make_user, django_assert_num_queries):
    owner = make_user("dev", is_staff=True)
    key = issue(owner, "items:write")
    bearer(key).get("/api/v1/items/")
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    bearer(key).get("/api/v1/items/")
    assert ApiKey.objects.get().last_used_at == first

    ApiKey.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    bearer(key).get("/api/v1/items/")
    assert ApiKey.objects.get().last_used_at > first


# --- scopes --------------------------------------------------------------------------------


def test_a_key_for_sensor_a_writing_b_is_a_403_naming_b_and_stores_nothing(make_user, sensors):
    owner = make_user("dev", perms=["sensors.add_reading"])
    client = bearer(issue(owner, "readings:write", sensors=["A"]))
    response = client.post("/api/v1/readings/", [reading("A", 1), reading("B", 2)], format="json")
    error = assert_error(response, 403)
    assert "B" in error["message"]
    assert Reading.objects.count() == 0
    assert client.post("/api/v1/readings/", [reading("A", 1)], format="json").status_code == 201


def test_an_unlimited_readings_key_writes_every_sensor(make_user, sensors):
    owner = make_user("dev", perms=["sensors.add_reading"])
    client = bearer(issue(owner, "readings:write"))
    response = client.post("/api/v1/readings/", [reading("A"), reading("B")], format="json")
    assert response.status_code == 201
    assert Reading.objects.count() == 2


def item_write(client):
    return client.post("/api/v1/items/", {"name": "Pad", "price": "1.00"}, format="json")


def readings_write(client):
    return client.post("/api/v1/readings/", reading("A"), format="json")


def score_write(client):
    return client.post("/api/v1/scores/", bot_payload(), format="json")


def export_write(client):
    return client.post("/api/v1/exports/", {"dataset": "items", "format": "csv"}, format="json")


def export_read(client):
    return client.get("/api/v1/exports/")


WRITERS = [
    ("items:write", item_write, 201),
    ("readings:write", readings_write, 201),
    ("scores:write", score_write, 201),
    ("exports:write", export_write, 202),
    ("exports:read", export_read, 200),
]


@pytest.mark.parametrize(("scope", "call", "ok"), WRITERS, ids=[w[0] for w in WRITERS])
def test_every_writer_needs_its_scope(make_user, sensors, scope, call, ok):
    owner = make_user("root", is_staff=True, is_superuser=True)
    others = [other for other, _, _ in WRITERS if other != scope]
    refused = call(bearer(issue(owner, *others)))
    error = assert_error(refused, 403)
    assert scope in error["message"] or "cannot" in error["message"]
    assert call(bearer(issue(owner, scope))).status_code == ok


def test_a_key_never_grants_more_than_its_owner_has(make_user):
    plain = make_user("plain")  # no items.add_item
    response = item_write(bearer(issue(plain, "items:write")))
    assert_error(response, 403)
    assert Item.objects.count() == 0
    assert Export.objects.count() == 0
    assert_error(export_read(bearer(issue(plain, "exports:read"))), 403)


def test_a_key_cannot_issue_keys_or_change_sensors(make_user):
    root = make_user("root", is_staff=True, is_superuser=True)
    client = bearer(issue(root, "items:write", "readings:write", "exports:write"))
    minted = client.post("/api/v1/api-keys/", {"name": "x", "scopes": ["items:write"]})
    assert_error(minted, 403)
    sensor = client.post("/api/v1/sensors/", {"code": "Z", "name": "Z", "unit": "C"})
    assert_error(sensor, 403)
    assert ApiKey.objects.count() == 1


# --- ownership, revocation, rotation ------------------------------------------------------


def test_a_user_cannot_see_or_revoke_anothers_keys(client_for, make_user):
    alice, mallory = make_user("alice"), make_user("mallory")
    alices = apikey_create(owner=alice, name="a", scopes=["scores:write"]).api_key
    mallory_client = client_for(mallory)
    assert mallory_client.get("/api/v1/api-keys/").json()["results"] == []
    assert_error(mallory_client.get(f"/api/v1/api-keys/{alices.pk}/"), 404)
    assert_error(mallory_client.delete(f"/api/v1/api-keys/{alices.pk}/"), 404)
    alices.refresh_from_db()
    assert alices.revoked_at is None

    staff = client_for(make_user("staff", is_staff=True))
    assert [row["prefix"] for row in staff.get("/api/v1/api-keys/").json()["results"]] == [
        alices.prefix
    ]


def test_revoking_a_key_makes_it_401_at_once(client_for, make_user):
    owner = make_user("dev", is_staff=True)
    issued = apikey_create(owner=owner, name="a", scopes=["items:write"])
    assert bearer(issued.key).get("/api/v1/items/").status_code == 200
    assert client_for(owner).delete(f"/api/v1/api-keys/{issued.api_key.pk}/").status_code == 204
    assert_error(bearer(issued.key).get("/api/v1/items/"), 401)


def test_rotation_issues_a_new_key_and_keeps_the_old_one_for_its_grace(client_for, make_user):
    owner = make_user("dev", is_staff=True)
    old = apikey_create(owner=owner, name="a", scopes=["items:write"], sensors=())
    response = client_for(owner).post(
        f"/api/v1/api-keys/{old.api_key.pk}/rotate/", {"grace_seconds": 600}, format="json"
    )
    assert response.status_code == 201
    new_key = response.json()["key"]
    assert new_key != old.key and response.json()["scopes"] == ["items:write"]
    # Within the grace period both keys work.
    assert bearer(old.key).get("/api/v1/items/").status_code == 200
    assert bearer(new_key).get("/api/v1/items/").status_code == 200
    stored = ApiKey.objects.get(pk=old.api_key.pk)
    left = stored.expires_at - timezone.now()
    assert timedelta(minutes=9) < left <= timedelta(minutes=10)
    # When it has passed, only the new one does.
    ApiKey.objects.filter(pk=old.api_key.pk).update(expires_at=timezone.now())
    assert_error(bearer(old.key).get("/api/v1/items/"), 401)
    assert bearer(new_key).get("/api/v1/items/").status_code == 200


def test_a_rotation_without_grace_ends_the_old_key_now(client_for, make_user):
    owner = make_user("dev", is_staff=True)
    old = apikey_create(owner=owner, name="a", scopes=["items:write"])
    client_for(owner).post(
        f"/api/v1/api-keys/{old.api_key.pk}/rotate/", {"grace_seconds": 0}, format="json"
    )
    assert_error(bearer(old.key).get("/api/v1/items/"), 401)


# --- throttling ---------------------------------------------------------------------------


def test_each_key_has_its_own_rate_on_top_of_its_owners(make_user, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {**SimpleRateThrottle.THROTTLE_RATES, "key": "2/min", "user": "100/min"},
    )
    owner = make_user("dev", is_staff=True)
    first, second = issue(owner, "items:write"), issue(owner, "items:write")
    assert [bearer(first).get("/api/v1/items/").status_code for _ in range(3)] == [200, 200, 429]
    # The other key of the same owner still has its budget.
    assert bearer(second).get("/api/v1/items/").status_code == 200
    assert "Retry-After" in bearer(first).get("/api/v1/items/")


def _api_views():
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "cls", None)
                if view_class is not None and hasattr(view_class, "permission_classes"):
                    yield str(pattern.pattern), pattern.callback, view_class

    return list(walk(get_resolver().url_patterns))


def test_every_api_view_holds_keys_to_their_scopes():
    """A view with DRF's own permission classes would let any key do anything its owner can."""
    from targets_site.permissions import ScopedPermission

    checked = 0
    for route, callback, view_class in _api_views():
        if getattr(view_class, "authentication_classes", None) == []:
            continue  # no authentication at all (the token exchange): no key can be in use
        classes = list(view_class.permission_classes)
        for action in getattr(view_class, "get_extra_actions", list)():
            classes += action.kwargs.get("permission_classes", [])
        classes += getattr(callback, "initkwargs", {}).get("permission_classes", [])
        for permission in classes:
            assert issubclass(permission, ScopedPermission), (route, permission)
        checked += 1
    assert checked > 10


def test_the_demo_device_key_is_printed_once_and_writes_only_a_and_b(db):
    from io import StringIO

    from django.core.management import call_command

    from accounts.demo import device_key_file

    first = StringIO()
    call_command("seed_demo", stdout=first)
    key = device_key_file().read_text().strip()
    assert key in first.getvalue()
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert key not in again.getvalue() and key[:12] in again.getvalue()

    device = bearer(key)
    late = (timezone.now() + timedelta(minutes=1)).isoformat()
    ok = device.post("/api/v1/readings/", {"sensor": "A", "timestamp": late, "value": 1.0})
    assert ok.status_code == 201, ok.content
    refused = device.post("/api/v1/readings/", {"sensor": "C", "timestamp": late, "value": 1.0})
    assert "C" in assert_error(refused, 403)["message"]
    assert_error(item_write(device), 403)
