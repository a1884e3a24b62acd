"""GET /: a small landing page with links and the live health of the backing services."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from targets_site import views

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_health():
    views._landing_health["at"] = None
    yield
    views._landing_health["at"] = None


def health_rows(response) -> dict[str, str]:
    html = response.content.decode()
    return dict(re.findall(r'<th scope="row">([^<]+)</th><td class="\w+">([^<]+)</td>', html))


def test_the_landing_page_says_what_targets_is_and_links_the_admin_api_and_docs(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<h1>Targets</h1>" in html
    for href in ('href="/admin/"', 'href="/api/v1/"', 'href="/api/docs/"', 'href="/api/schema/"'):
        assert href in html
    assert health_rows(response) == {"Database": "ok", "Cache": "ok", "Export storage": "ok"}


def test_the_landing_page_shows_an_unusable_export_storage(client, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    from django.conf import settings

    storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": blocker / "exports"},
    }
    with override_settings(STORAGES={**settings.STORAGES, "exports": storage}):
        response = client.get("/")
    assert response.status_code == 200
    assert health_rows(response)["Export storage"] == "unavailable"
    assert str(blocker) not in response.content.decode()


def test_the_checks_run_at_most_once_per_interval(client, django_assert_num_queries):
    client.get("/")
    with django_assert_num_queries(0):  # the second view reuses the checks: no SELECT 1
        assert client.get("/").status_code == 200


def test_the_landing_page_refuses_writes(client):
    assert client.post("/").status_code == 405
