"""/metrics under gunicorn: every worker's samples add up, whichever worker answers the scrape."""

from __future__ import annotations

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.servers import Gunicorn, production_env, sqlite_site_copy

pytestmark = pytest.mark.slow


def healthz_count(base: str) -> float:
    text = requests.get(f"{base}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "targets_http_request_duration_seconds_count"
                and sample.labels.get("view") == "healthz"
            ):
                return sample.value
    return 0.0


def test_a_scrape_adds_up_the_requests_every_worker_served(tmp_path):
    database_url, _token = sqlite_site_copy(tmp_path)
    metrics_dir = tmp_path / "metrics"
    env = production_env(DATABASE_URL=database_url, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    server = Gunicorn(env, workers=3, log=tmp_path / "gunicorn.log").start()
    try:
        before = healthz_count(server.url)
        # Fresh connections each time, so the requests spread over the workers.
        for _ in range(60):
            assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
        counts = {healthz_count(server.url) - before for _ in range(6)}
        worker_files = {path.name.rsplit("_", 1)[-1] for path in metrics_dir.glob("*.db")}
    finally:
        server.stop()

    assert counts == {60.0}, counts  # every scrape, whichever worker answered it
    assert len(worker_files) >= 2, worker_files  # more than one worker did serve requests
