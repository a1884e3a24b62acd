"""The files in deploy/ name only what the site really has."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
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


def test_the_whole_nginx_site_with_tls_passes_nginx_t(tmp_path):
    """The production file as shipped (TLS, redirect, unknown-host servers); only the certificate
    and log paths point at test files. ``nginx -t`` parses it without binding any port."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists() or shutil.which("openssl") is None:
        if os.environ.get("CI"):
            pytest.fail("nginx and openssl are needed; .ci/run installs nginx")
        pytest.skip("needs nginx and openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=targets.example.com", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    site = (DEPLOY / "nginx" / "targets.conf").read_text()
    site = re.sub(r"/etc/letsencrypt/\S+/fullchain\.pem", str(cert), site)
    site = re.sub(r"/etc/letsencrypt/\S+/privkey\.pem", str(key), site)
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    directives = re.sub(r"#.*", "", site)
    assert "/etc/" not in directives and "/var/" not in directives
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"{user}pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\nhttp {\n"
        + "".join(
            f"{name}_temp_path {tmp_path}/{name};\n"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + site
        + "\n}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "e.log")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
