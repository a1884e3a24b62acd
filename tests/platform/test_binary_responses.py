"""Sensor plots, score targets and export downloads: the file on success, JSON errors otherwise,
whatever the client's Accept header says (targets_site/responses.py)."""

from __future__ import annotations

import pytest

from exports import services as export_services
from tests.exports.factories import make_items
from tests.games.factories import PlayerFactory, bot_payload
from tests.helpers import assert_error
from tests.sensors.factories import SensorFactory

pytestmark = pytest.mark.django_db

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("accept", ["image/png", "application/json", "*/*", "text/html"])
def test_a_sensor_plot_is_a_png_whatever_the_client_accepts(api_client, accept):
    SensorFactory(code="A")
    for url in ("/api/v1/sensors/A/plot.png", "/api/v1/plots/readings.png?sensors=A"):
        response = api_client.get(url, HTTP_ACCEPT=accept)
        assert response.status_code == 200, response.content[:200]
        assert response["Content-Type"] == "image/png"
        assert response["Cache-Control"] == "no-store"
        assert response.content.startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/sensors/NOPE/plot.png", 404),
        ("/api/v1/sensors/A/plot.png?width=1", 400),
        ("/api/v1/sensors/A/plot.png?from=yesterday", 400),
        ("/api/v1/plots/readings.png?sensors=NOPE", 400),
        ("/api/v1/plots/readings.png", 400),
    ],
)
def test_a_plot_error_is_json_even_to_a_client_asking_only_for_png(api_client, url, status):
    SensorFactory(code="A")
    assert_error(api_client.get(url, HTTP_ACCEPT="image/png"), status)


def test_a_score_target_is_a_private_png_and_its_errors_are_json(client_for):
    alice = client_for(PlayerFactory(username="alice"))
    score_id = alice.post("/api/v1/scores/", bot_payload(seed=4), format="json").json()["id"]
    response = alice.get(f"/api/v1/scores/{score_id}/target.png", HTTP_ACCEPT="image/png")
    assert response.status_code == 200
    assert response.content.startswith(PNG_MAGIC)
    assert response["Cache-Control"] == "private, max-age=60"
    missing = alice.get("/api/v1/scores/999999/target.png", HTTP_ACCEPT="image/png")
    assert_error(missing, 404)


def test_an_export_download_is_the_file_and_its_errors_are_json(staff_client):
    make_items(2)
    export = export_services.export_run(dataset="items", fmt="csv")
    url = f"/api/v1/exports/{export.pk}/download/"
    response = staff_client.get(url, HTTP_ACCEPT="image/png")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"id,")
    assert_error(staff_client.get("/api/v1/exports/999999/download/", HTTP_ACCEPT="text/csv"), 404)
