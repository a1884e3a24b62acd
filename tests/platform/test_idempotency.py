"""Safe retries: Idempotency-Key on API POSTs (SPEC "HTTP surface", IETF draft semantics)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import resolve
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from items.models import Item, StockMovement
from targets_site.idempotency import idempotency_claim, request_digest
from targets_site.models import IdempotencyKey
from tests.helpers import assert_error
from tests.items.factories import ItemFactory
from tests.security.conftest import write_operations

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_user):
    return make_user("clerk", perms=["items.change_item", "items.add_item"])


@pytest.fixture
def clerk_client(client_for, clerk):
    return client_for(clerk)


def adjust(client, item, key, delta=-3, reason="sold"):
    return client.post(
        f"/api/v1/items/{item.pk}/adjust-stock/",
        {"delta": delta, "reason": reason},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_retried_stock_adjustment_moves_the_stock_once_and_answers_the_first_response(
    clerk_client,
):
    item = ItemFactory(stock_quantity=10)
    key = str(uuid.uuid4())

    first = adjust(clerk_client, item, key)
    retried = adjust(clerk_client, item, key)

    assert first.status_code == 200, first.content
    assert retried.status_code == 200
    assert retried.content == first.content
    assert retried["ETag"] == first["ETag"]
    assert retried["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    item.refresh_from_db()
    assert item.stock_quantity == 7
    assert StockMovement.objects.filter(item=item).count() == 1


def test_without_a_key_each_post_runs(clerk_client):
    item = ItemFactory(stock_quantity=10)
    for _ in range(2):
        clerk_client.post(
            f"/api/v1/items/{item.pk}/adjust-stock/", {"delta": -1, "reason": ""}, format="json"
        )
    item.refresh_from_db()
    assert item.stock_quantity == 8


def test_the_same_key_with_another_body_is_a_422_and_changes_nothing(clerk_client):
    item = ItemFactory(stock_quantity=10)
    key = str(uuid.uuid4())
    adjust(clerk_client, item, key, delta=-3)

    response = adjust(clerk_client, item, key, delta=-4)

    assert_error(response, 422, "idempotency_key_reused")
    item.refresh_from_db()
    assert item.stock_quantity == 7


def test_the_same_key_on_another_item_is_a_422(clerk_client):
    first, second = ItemFactory(stock_quantity=10), ItemFactory(stock_quantity=10)
    key = str(uuid.uuid4())
    adjust(clerk_client, first, key)

    assert_error(adjust(clerk_client, second, key), 422, "idempotency_key_reused")
    second.refresh_from_db()
    assert second.stock_quantity == 10


def _claim_as_running(user, item, key, body):
    """The state a first request is in while it still runs: its claim, made by the real code."""
    path = f"/api/v1/items/{item.pk}/adjust-stock/"
    digest = request_digest(method="POST", path=path, query="", body=JSONRenderer().render(body))
    return idempotency_claim(
        owner=f"user:{user.pk}", user_id=user.pk, key=key, digest=digest, path=path
    )


def test_a_retry_while_the_first_request_still_runs_is_a_409(clerk, clerk_client):
    item = ItemFactory(stock_quantity=10)
    key = "retry-while-running"
    claim = _claim_as_running(clerk, item, key, {"delta": -3, "reason": "sold"})
    assert claim.record_id is not None

    response = adjust(clerk_client, item, key)

    assert_error(response, 409, "idempotency_key_in_use")
    assert response["Retry-After"] == "1"
    item.refresh_from_db()
    assert item.stock_quantity == 10


def test_a_key_whose_request_died_is_taken_over_once_its_lock_lapses(clerk, clerk_client):
    item = ItemFactory(stock_quantity=10)
    key = "worker-was-killed"
    claim = _claim_as_running(clerk, item, key, {"delta": -3, "reason": "sold"})
    IdempotencyKey.objects.filter(pk=claim.record_id).update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )

    assert adjust(clerk_client, item, key).status_code == 200
    assert adjust(clerk_client, item, key)["Idempotent-Replayed"] == "true"
    item.refresh_from_db()
    assert item.stock_quantity == 7


def test_keys_belong_to_their_user(clerk_client, client_for, make_user):
    item = ItemFactory(stock_quantity=10)
    other = client_for(make_user("other", perms=["items.change_item"]))
    key = "shared-looking-key"

    adjust(clerk_client, item, key)
    response = adjust(other, item, key)

    assert response.status_code == 200
    assert not response.has_header("Idempotent-Replayed")
    item.refresh_from_db()
    assert item.stock_quantity == 4


def test_an_expired_key_runs_again(clerk_client):
    item = ItemFactory(stock_quantity=10)
    adjust(clerk_client, item, "old-key")
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = adjust(clerk_client, item, "old-key", delta=-1)

    assert response.status_code == 200
    item.refresh_from_db()
    assert item.stock_quantity == 6


def test_a_refusal_before_the_request_ran_is_not_stored(make_user, client_for):
    item = ItemFactory(stock_quantity=10)
    user = make_user("late-grant")
    client = client_for(user)
    assert_error(adjust(client, item, "grant-me"), 403)

    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="change_item"))
    response = adjust(client, item, "grant-me")

    assert response.status_code == 200
    item.refresh_from_db()
    assert item.stock_quantity == 7


def test_a_business_refusal_is_replayed_as_it_was(clerk_client):
    item = ItemFactory(stock_quantity=1)
    first = adjust(clerk_client, item, "too-many", delta=-5)
    item.stock_quantity = 100
    item.save()

    retried = adjust(clerk_client, item, "too-many", delta=-5)

    assert_error(first, 409, "conflict")
    assert retried.status_code == 409
    assert retried.content == first.content
    item.refresh_from_db()
    assert item.stock_quantity == 100


@pytest.mark.parametrize("bad", ["", "x" * 256, "clé-ünicode", "tab\there"])
def test_a_malformed_key_is_a_400(clerk_client, bad):
    item = ItemFactory(stock_quantity=10)
    assert_error(adjust(clerk_client, item, bad), 400, "invalid_idempotency_key")
    item.refresh_from_db()
    assert item.stock_quantity == 10


def test_a_structured_field_string_key_is_the_same_key_unquoted(clerk_client):
    item = ItemFactory(stock_quantity=10)
    adjust(clerk_client, item, '"8e03978e-40d5-43e8-bc93-6894a57f9324"')
    retried = adjust(clerk_client, item, "8e03978e-40d5-43e8-bc93-6894a57f9324")
    assert retried["Idempotent-Replayed"] == "true"


def test_a_retried_item_creation_creates_one_item(clerk_client):
    body = {"name": "Retry-proof lamp", "price": "19.99"}
    first = clerk_client.post("/api/v1/items/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = clerk_client.post("/api/v1/items/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Item.objects.filter(name="Retry-proof lamp").count() == 1


def test_a_retried_anonymous_registration_creates_one_player(api_client):
    body = {"username": "retrying-rita", "password": "a long passphrase 42"}
    first = api_client.post("/api/v1/players/", body, format="json", HTTP_IDEMPOTENCY_KEY="r1")
    again = api_client.post("/api/v1/players/", body, format="json", HTTP_IDEMPOTENCY_KEY="r1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert get_user_model().objects.filter(username="retrying-rita").count() == 1


def _exempt(operation) -> bool:
    """Views whose answer is a secret shown once (a token, an API key) store no replay copy."""
    url = operation.url(id=1, code="X", alert_id=1, mode="bullseye")
    view_class = getattr(resolve(url).func, "cls", None)
    return bool(getattr(view_class, "idempotency_exempt", False))


WRITE_POSTS = [op for op in write_operations() if op.method == "POST" and not _exempt(op)]


@pytest.mark.parametrize("operation", WRITE_POSTS, ids=str)
def test_every_api_post_replays_a_retried_request(client_for, make_user, operation):
    """Applied centrally: a POST added later is covered without touching its view."""
    client = client_for(make_user("root", is_staff=True, is_superuser=True))
    url = operation.url(id=999_999, code="NOPE", alert_id=999_999, mode="bullseye")
    first = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="every-post")
    again = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="every-post")
    if first.status_code >= 500 or first.status_code in (401, 403, 429):
        pytest.fail(f"{operation} answered {first.status_code}: {first.content[:200]}")
    assert again["Idempotent-Replayed"] == "true", operation
    assert (again.status_code, again.content) == (first.status_code, first.content)


def test_the_purge_command_deletes_only_expired_keys(clerk_client):
    item = ItemFactory(stock_quantity=10)
    adjust(clerk_client, item, "keep-me")
    adjust(clerk_client, item, "drop-me", delta=-1)
    IdempotencyKey.objects.filter(key="drop-me").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    call_command("purge_idempotency_keys", verbosity=0)

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["keep-me"]
