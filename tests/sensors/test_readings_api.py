from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pytest
from matplotlib.image import imread

from sensors.services import readings_store
from tests.helpers import assert_error
from tests.sensors.factories import SensorFactory, store

pytestmark = pytest.mark.django_db
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def series():
    a = SensorFactory(code="A", high_threshold=65)
    b = SensorFactory(code="B", low_threshold=48, high_threshold=None)
    store(a, *range(60, 70))  # minutes 0..9
    store(b, *range(45, 55))
    return a, b


def test_readings_are_listed_by_sensor_and_time(api_client, series):
    body = api_client.get("/api/v1/readings/", {"sensor": "A", "page_size": 3}).json()
    assert body["count"] == 10
    assert body["results"][0] == {"sensor": "A", "timestamp": "2026-01-01T00:00:00Z", "value": 60.0}
    assert body["next"] is not None


def test_readings_filter_by_an_inclusive_time_range(api_client, series):
    params = {"sensor": "B", "from": "2026-01-01T00:02:00Z", "to": "2026-01-01T01:04:00+01:00"}
    body = api_client.get("/api/v1/readings/", params).json()
    assert [row["value"] for row in body["results"]] == [47, 48, 49]


def test_reading_list_query_count_is_fixed(api_client, series, django_assert_num_queries):
    with django_assert_num_queries(2):  # count, page with the sensor joined
        api_client.get("/api/v1/readings/", {"page_size": 20})
    with django_assert_num_queries(3):  # + the sensor code lookup
        api_client.get("/api/v1/readings/", {"sensor": "A"})


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-01-01T00:00:00"}, "from"),
        ({"to": "soon"}, "to"),
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"sensor": "NOPE"}, "sensor"),
    ],
)
def test_bad_list_parameters_are_400(api_client, series, params, field):
    error = assert_error(api_client.get("/api/v1/readings/", params), 400)
    assert field in error["details"]


def test_a_nul_byte_in_a_query_string_is_400(api_client, series):
    assert_error(api_client.get("/api/v1/readings/?sensor=A%00"), 400)


def test_page_size_is_capped_at_500(api_client, series):
    body = api_client.get("/api/v1/readings/", {"page_size": 10_000}).json()
    assert len(body["results"]) == 20


def test_stats_resample_into_buckets(api_client, series):
    body = api_client.get("/api/v1/sensors/A/stats/", {"bucket": "5min"}).json()
    assert body == [
        {"start": "2026-01-01T00:00:00Z", "count": 5, "min": 60.0, "max": 64.0, "mean": 62.0},
        {"start": "2026-01-01T00:05:00Z", "count": 5, "min": 65.0, "max": 69.0, "mean": 67.0},
    ]


def test_stats_keep_empty_buckets_in_a_range_and_default_to_hourly(api_client, series):
    params = {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T02:30:00Z"}
    body = api_client.get("/api/v1/sensors/A/stats/", params).json()
    assert [(row["start"][11:16], row["count"]) for row in body] == [("00:00", 10)]
    store(series[0], 99, start=150)
    body = api_client.get("/api/v1/sensors/A/stats/", params).json()
    assert [(row["count"], row["mean"]) for row in body] == [(10, 64.5), (0, None), (1, 99.0)]


@pytest.mark.parametrize("bucket", ["1", "h", "0h", "-1h", "1y", "1.5h", "10000000h", "1h\x00"])
def test_a_bad_bucket_is_400(api_client, series, bucket):
    assert_error(api_client.get("/api/v1/sensors/A/stats/", {"bucket": bucket}), 400)


def test_too_many_buckets_is_400(api_client, series):
    params = {"from": "2000-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "bucket": "1s"}
    assert_error(api_client.get("/api/v1/sensors/A/stats/", params), 400, "too_many_buckets")


def test_a_bucket_reaching_before_the_year_1_is_a_named_400(api_client):
    sensor = SensorFactory(code="OLD")
    readings_store(rows=[(sensor.id, datetime(1, 1, 1, 5, tzinfo=UTC), 1.0)])
    response = api_client.get("/api/v1/sensors/OLD/stats/", {"bucket": "366d"})
    assert_error(response, 400, "bucket_before_calendar")
    body = api_client.get("/api/v1/sensors/OLD/stats/", {"bucket": "1d"}).json()
    assert body[0]["start"].startswith("0001-01-01") and body[0]["count"] == 1


def test_a_non_ascii_digit_as_plot_width_is_400(api_client, series):
    error = assert_error(api_client.get("/api/v1/sensors/A/plot.png?width=%C2%B2"), 400)
    assert "width" in error["details"]


def test_a_sensor_name_with_dollars_still_plots(api_client):
    sensor = SensorFactory(code="TEX", name="$\\frac{$ and $x$", unit="$")
    store(sensor, 1, 2, 3)
    response = api_client.get("/api/v1/sensors/TEX/plot.png")
    assert response.status_code == 200
    assert response.content.startswith(PNG_MAGIC)


def test_the_sensor_plot_is_a_png_of_the_asked_size(api_client, series):
    response = api_client.get("/api/v1/sensors/A/plot.png", {"width": 640, "height": 320})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(PNG_MAGIC)
    assert imread(io.BytesIO(response.content), format="png").shape[:2] == (320, 640)


def test_a_client_asking_only_for_png_gets_it_and_json_errors(api_client, series):
    ok = api_client.get("/api/v1/sensors/A/plot.png", HTTP_ACCEPT="image/png")
    assert ok.status_code == 200 and ok.content.startswith(PNG_MAGIC)
    bad = api_client.get("/api/v1/sensors/A/plot.png", {"width": 10**6}, HTTP_ACCEPT="image/png")
    assert_error(bad, 400)


@pytest.mark.parametrize(
    "params",
    [
        {"width": 10**6},
        {"width": 199},
        {"height": 3001},
        {"width": "wide"},
        {"width": "-5"},
        {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"from": "2026-01-01"},
    ],
)
def test_bad_plot_parameters_are_400(api_client, series, params):
    assert_error(api_client.get("/api/v1/sensors/A/plot.png", params), 400)
    assert_error(api_client.get("/api/v1/plots/readings.png", {"sensors": "A", **params}), 400)


def test_the_multi_sensor_plot_draws_each_sensor(api_client, series):
    response = api_client.get("/api/v1/plots/readings.png", {"sensors": "A,B"})
    assert response.status_code == 200 and response.content.startswith(PNG_MAGIC)
    pixels = imread(io.BytesIO(response.content), format="png")
    assert pixels.shape[:2] == (450, 1000)
    # Breach points are highlighted in red (#d62728).
    red = np.array([0xD6, 0x27, 0x28]) / 255
    assert np.any(np.all(np.abs(pixels[..., :3] - red) < 0.02, axis=-1))


@pytest.mark.parametrize("sensors", ["", ",", "A,NOPE", ",".join(f"S{i}" for i in range(11))])
def test_the_multi_sensor_plot_refuses_missing_unknown_or_too_many_sensors(
    api_client, series, sensors
):
    assert_error(api_client.get("/api/v1/plots/readings.png", {"sensors": sensors}), 400)


def test_an_empty_range_still_plots(api_client, series):
    params = {"from": "2030-01-01T00:00:00Z", "to": "2030-01-02T00:00:00Z"}
    response = api_client.get("/api/v1/sensors/A/plot.png", params)
    assert response.status_code == 200 and response.content.startswith(PNG_MAGIC)


def test_plot_reads_a_bounded_number_of_queries(api_client, series, django_assert_max_num_queries):
    store(series[0], *np.linspace(0, 100, 3000).tolist(), start=100, step=0.01)
    # sensor, first and last reading, oldest rollup, oldest raw reading (pruned?), the readings
    with django_assert_max_num_queries(6):
        response = api_client.get("/api/v1/sensors/A/plot.png")
    assert response.status_code == 200


def test_the_api_root_links_the_sensor_routes(api_client):
    body = api_client.get("/api/v1/").json()
    assert body["sensors"].endswith("/api/v1/sensors/")
    assert body["readings"].endswith("/api/v1/readings/")
    assert body["plots"].endswith("/api/v1/plots/readings.png")
