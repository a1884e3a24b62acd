"""The files in deploy/ name only what the site really has."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import get_commands
from prometheus_client.parser import text_string_to_metric_families

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")
# Commands whose app is built beside this one; each unit is checked once its command exists.
NOT_YET_EVERYWHERE = {"deliver_notifications"}


def exported_names(client) -> set[str]:
    client.get("/healthz")  # one request, so the histogram has a labelled series
    text = client.get("/metrics").content.decode()
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    } | {family.name for family in text_string_to_metric_families(text)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [DEPLOY / "prometheus" / "targets-rules.yml", DEPLOY / "grafana" / "targets-dashboard.json"],
    ids=lambda path: path.name,
)
def test_alert_rules_and_dashboard_use_only_exported_metrics(client, path):
    text = path.read_text()
    if path.suffix == ".json":
        json.loads(text)
    used = set(re.findall(r"\btargets_[a-z_]+", text)) - {"targets_gunicorn"}
    exported = exported_names(client)
    if not apps.is_installed("notifications"):
        used = {name for name in used if not name.startswith("targets_notifications")}
    missing = {name for name in used if name not in exported and name + "_total" not in exported}
    assert used and not missing, missing


@pytest.mark.parametrize("unit", sorted(DEPLOY.glob("*.service")), ids=lambda path: path.name)
def test_each_systemd_unit_runs_a_real_command(unit):
    text = unit.read_text()
    (exec_start,) = re.findall(r"^ExecStart=(.+)$", text, re.M)
    if "gunicorn" in exec_start:
        assert "targets_site.wsgi" in exec_start and "gunicorn.conf.py" in exec_start
        return
    command = re.search(r"manage\.py (\w+)", exec_start).group(1)
    if command in NOT_YET_EVERYWHERE and command not in get_commands():
        pytest.skip(f"{command} lands with its app")
    assert command in get_commands(), command
