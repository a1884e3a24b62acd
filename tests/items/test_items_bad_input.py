"""Every kind of bad input is a 4xx in the one error shape, and nothing is stored."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from items.models import Item
from tests.helpers import assert_error
from tests.items.factories import ItemFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/items/"
VALID = {"name": "Valid", "price": "1.00"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 123}, "name"),
        ({"name": None}, "name"),
        ({"name": ["Laptop"]}, "name"),
        ({"name": True}, "name"),
        ({"description": 5}, "description"),
        ({"description": "d" * 10_001}, "description"),
        ({"sku": ""}, "sku"),
        ({"sku": "has space"}, "sku"),
        ({"sku": "s" * 65}, "sku"),
        ({"price": "-0.01"}, "price"),
        ({"price": -1}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": ""}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": "Infinity"}, "price"),
        ({"price": "-Infinity"}, "price"),
        ({"price": 1e30}, "price"),
        ({"price": "1e30"}, "price"),
        ({"price": "1.001"}, "price"),
        ({"price": 0.125}, "price"),
        ({"price": []}, "price"),
        ({"price": {}}, "price"),
        ({"price": None}, "price"),
        ({"price": True}, "price"),
        ({"stock_quantity": -1}, "stock_quantity"),
        ({"stock_quantity": "abc"}, "stock_quantity"),
        ({"stock_quantity": 1.5}, "stock_quantity"),
        ({"stock_quantity": 2**31}, "stock_quantity"),
        ({"stock_quantity": 10**40}, "stock_quantity"),
        ({"is_active": "maybe"}, "is_active"),
        ({"is_active": []}, "is_active"),
    ],
)
def test_an_invalid_field_is_a_400_naming_it_and_stores_nothing(staff_client, changes, field):
    response = staff_client.post(URL, {**VALID, **changes}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert list(error["details"]) == [field]
    assert all(isinstance(message, str) for message in error["details"][field])
    assert not Item.objects.exists()


@pytest.mark.parametrize("field", ["id", "foo", "created_at", "updated_at"])
def test_an_unknown_or_read_only_field_is_a_400_naming_it(staff_client, field):
    response = staff_client.post(URL, {**VALID, field: 7}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert error["details"] == {field: ["Unknown or read-only field."]}
    assert not Item.objects.exists()


def test_unknown_fields_are_refused_on_patch_too(staff_client):
    item = ItemFactory(name="Same")
    response = staff_client.patch(f"{URL}{item.pk}/", {"id": 99, "name": "x"}, format="json")
    assert assert_error(response, 400)["details"] == {"id": ["Unknown or read-only field."]}
    item.refresh_from_db()
    assert item.name == "Same"


@pytest.mark.parametrize("field", ["name", "description", "sku"])
@pytest.mark.parametrize("escape", ["\\u0000", "\\u0000tail"])
def test_a_nul_character_in_any_string_is_a_400(staff_client, field, escape):
    body = json.dumps({**VALID, "sku": "NUL-1", "description": "d"}).replace(
        f'"{field}": "', f'"{field}": "{escape}', 1
    )
    assert escape in body
    response = staff_client.post(URL, body, content_type="application/json")
    assert_error(response, 400, "parse_error")
    assert not Item.objects.exists()


def test_a_nul_character_in_a_key_is_a_400(staff_client):
    body = '{"name": "x", "price": "1", "fo\\u0000o": 1}'
    assert_error(staff_client.post(URL, body, content_type="application/json"), 400, "parse_error")


@pytest.mark.postgres
def test_a_nul_character_is_refused_before_it_reaches_postgresql(staff_client, is_postgres):
    assert is_postgres
    body = '{"name": "a\\u0000b", "price": "1.00"}'
    assert_error(staff_client.post(URL, body, content_type="application/json"), 400, "parse_error")
    response = staff_client.get(URL, {"search": "a\x00b"})
    assert_error(response, 400, "bad_request")
    assert not Item.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "x", "price": ',
        b"{'name': 'x'}",
        b'{"name": "x", "price": NaN}',
        b'{"name": "x", "price": Infinity}',
        b'{"name": "x"} trailing',
        b'{"name": "\xff\xfe", "price": "1"}',
    ],
)
def test_malformed_json_is_a_400_parse_error(staff_client, body):
    response = staff_client.post(URL, body, content_type="application/json")
    error = assert_error(response, 400, "parse_error")
    assert "Traceback" not in error["message"]
    assert not Item.objects.exists()


@pytest.mark.parametrize("body", [b"[]", b'"name"', b"42", b"null"])
def test_a_json_document_that_is_not_an_object_is_a_400(staff_client, body):
    response = staff_client.post(URL, body, content_type="application/json")
    assert_error(response, 400)
    assert not Item.objects.exists()


def test_an_empty_body_is_a_400_naming_the_required_fields(staff_client):
    response = staff_client.post(URL, b"", content_type="application/json")
    error = assert_error(response, 400, "validation_error")
    assert set(error["details"]) == {"name", "price"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "image/png"])
def test_a_wrong_content_type_is_a_415(staff_client, content_type):
    response = staff_client.post(URL, b'{"name": "x", "price": "1"}', content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert not Item.objects.exists()


def test_a_body_over_the_upload_limit_is_a_413(staff_client):
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    body = json.dumps({**VALID, "description": padding})
    response = staff_client.post(URL, body, content_type="application/json")
    assert_error(response, 413, "payload_too_large")
    assert not Item.objects.exists()


def test_a_declared_content_length_over_the_limit_is_a_413_before_reading(staff_client):
    response = staff_client.post(
        URL,
        json.dumps(VALID),
        content_type="application/json",
        CONTENT_LENGTH=str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
    )
    assert_error(response, 413, "payload_too_large")
    assert not Item.objects.exists()


def test_a_form_body_is_a_415_because_the_api_takes_json_only(staff_client):
    body = "name=x&price=1&description=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = staff_client.post(URL, body, content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")
    assert not Item.objects.exists()


def test_adjust_stock_refuses_bad_input_with_a_400(staff_client):
    item = ItemFactory(stock_quantity=5)
    url = f"{URL}{item.pk}/adjust-stock/"
    for body, field in [
        ({}, "delta"),
        ({"delta": 0}, "delta"),
        ({"delta": "abc"}, "delta"),
        ({"delta": 1.5}, "delta"),
        ({"delta": 2**31}, "delta"),
        ({"delta": 1, "reason": 5}, "reason"),
        ({"delta": 1, "reason": "r" * 201}, "reason"),
        ({"delta": 1, "item": 3}, "item"),
    ]:
        error = assert_error(staff_client.post(url, body, format="json"), 400, "validation_error")
        assert list(error["details"]) == [field], body
    item.refresh_from_db()
    assert item.stock_quantity == 5
    assert not item.stock_movements.exists()
