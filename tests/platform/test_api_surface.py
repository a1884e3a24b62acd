from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.test import Client
from drf_spectacular.validation import validate_schema

from items.models import Item
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def test_the_api_root_links_the_catalogue_the_token_endpoint_and_the_docs(api_client):
    response = api_client.get("/api/v1/")
    assert response.status_code == 200
    links = response.json()
    assert links["items"] == "http://testserver/api/v1/items/"
    assert links["token"] == "http://testserver/api/v1/auth/token/"
    assert links["schema"] == "http://testserver/api/schema/"
    assert links["docs"] == "http://testserver/api/docs/"


def test_the_schema_is_valid_openapi_3_in_yaml_and_json(api_client):
    as_yaml = api_client.get("/api/schema/")
    assert as_yaml.status_code == 200
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    schema = yaml.safe_load(as_yaml.content)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/items/", "/api/v1/items/{id}/", "/api/v1/items/{id}/adjust-stock/"):
        assert path in schema["paths"], path
    assert "/api/v1/auth/token/" in schema["paths"]

    as_json = api_client.get("/api/schema/", {"format": "json"})
    assert as_json.status_code == 200
    assert as_json.json() == schema


def test_the_schema_describes_item_prices_as_decimal_strings_and_the_filters(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    price = schema["components"]["schemas"]["Item"]["properties"]["price"]
    assert price["type"] == "string"
    assert price["format"] == "decimal"
    parameters = {p["name"] for p in schema["paths"]["/api/v1/items/"]["get"]["parameters"]}
    expected = {"search", "ordering", "min_price", "max_price", "in_stock", "is_active"}
    assert expected | {"page", "page_size"} <= parameters


class _AssetLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def test_the_swagger_ui_uses_only_local_static_assets(api_client):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    parser = _AssetLinks()
    parser.feed(html)
    assert parser.urls
    for url in parser.urls:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), url
    # Nothing fetched from another host, in markup or in inline script.
    assert not re.search(r"https?://(?!testserver)", html), re.findall(r"https?://\S+", html)
    assert "cdn" not in html.lower()
    assert "/api/schema/" in html


def test_good_credentials_get_a_token_that_authenticates(api_client, make_user):
    make_user("alice", perms=["items.add_item"])
    response = api_client.post(
        TOKEN_URL, {"username": "alice", "password": "correct horse battery"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["token"]
    assert len(body["token"]) == 40
    again = api_client.post(
        TOKEN_URL, {"username": "alice", "password": "correct horse battery"}, format="json"
    )
    assert again.json() == body

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    created = api_client.post("/api/v1/items/", {"name": "t", "price": "1"}, format="json")
    assert created.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": "wrong"},
        {"username": "nobody", "password": "correct horse battery"},
        {"username": "alice"},
        {},
    ],
)
def test_bad_credentials_are_a_400_in_the_error_shape(api_client, make_user, body):
    make_user("alice")
    assert_error(api_client.post(TOKEN_URL, body, format="json"), 400, "validation_error")


def test_unknown_fields_on_the_token_endpoint_are_a_400(api_client, make_user):
    make_user("alice")
    body = {"username": "alice", "password": "correct horse battery", "is_staff": True}
    error = assert_error(api_client.post(TOKEN_URL, body, format="json"), 400)
    assert error["details"] == {"is_staff": ["Unknown or read-only field."]}


def test_an_inactive_user_gets_no_token(api_client, make_user):
    make_user("gone", is_active=False)
    body = {"username": "gone", "password": "correct horse battery"}
    assert_error(api_client.post(TOKEN_URL, body, format="json"), 400)


def test_a_staff_user_logged_in_to_the_site_uses_the_api_with_the_session(make_user):
    boss = make_user("boss", is_staff=True)
    browser = Client(enforce_csrf_checks=True)
    # force_login: django-axes (admin login guard) needs a request for authenticate().
    browser.force_login(boss)

    page = browser.get("/api/v1/items/")
    assert page.status_code == 200

    # Session writes need the CSRF token, exactly as in the browser.
    refused = browser.post(
        "/api/v1/items/", {"name": "s", "price": "1"}, content_type="application/json"
    )
    assert_error(refused, 403, "permission_denied")
    assert "CSRF" in refused.json()["error"]["message"]

    assert browser.get("/admin/").status_code == 200
    token = browser.cookies["csrftoken"].value
    created = browser.post(
        "/api/v1/items/",
        {"name": "s", "price": "1"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert created.status_code == 201, created.content
    assert Item.objects.count() == 1


def test_the_admin_login_page_loads(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert b"/static/admin/css/base.css" in response.content
