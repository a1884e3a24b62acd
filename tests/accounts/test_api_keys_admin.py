"""The API keys admin: the key shown on one page, then only its prefix; revoke and rotate."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import ApiKey
from accounts.services import apikey_create

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/apikey/"


@pytest.fixture
def boss(make_user):
    return make_user("boss", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_browser(boss) -> Client:
    browser = Client()
    browser.force_login(boss)
    return browser


def test_adding_a_key_shows_it_once_and_the_list_shows_its_prefix(admin_browser, boss):
    response = admin_browser.post(
        f"{CHANGELIST}add/",
        {"owner": boss.pk, "name": "gateway", "scopes": ["items:write", "exports:read"]},
    )
    assert response.status_code == 200
    api_key = ApiKey.objects.get()
    page = response.content.decode()
    assert 'id="issued-key"' in page and api_key.prefix in page
    key = page.split('id="issued-key"')[1].split(">")[1].split("<")[0]
    assert key.startswith(api_key.prefix) and len(key) == 47
    assert "no-store" in response["Cache-Control"]

    listing = admin_browser.get(CHANGELIST).content.decode()
    change = admin_browser.get(f"{CHANGELIST}{api_key.pk}/change/").content.decode()
    for shown in (listing, change):
        assert api_key.prefix in shown
        assert key[12:] not in shown


def test_revoke_and_rotate_actions(admin_browser, boss):
    first = apikey_create(owner=boss, name="a", scopes=["items:write"]).api_key
    response = admin_browser.post(
        CHANGELIST, {"action": "revoke_selected", "_selected_action": [first.pk]}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.revoked_at is not None

    second = apikey_create(owner=boss, name="b", scopes=["items:write"]).api_key
    response = admin_browser.post(
        CHANGELIST,
        {"action": "rotate_selected", "_selected_action": [second.pk], "grace_hours": "2"},
    )
    assert response.status_code == 200
    assert 'id="issued-key"' in response.content.decode()
    second.refresh_from_db()
    assert second.rotated_to is not None and second.expires_at is not None
