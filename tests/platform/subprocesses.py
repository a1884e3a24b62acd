"""Run the project in a fresh Python process with exactly the environment a test gives it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)

# Every variable settings read. Each is passed explicitly (empty means "not set"), so neither the
# test run's own environment nor a developer's .env file (read with override=False) leaks in.
SETTINGS_VARIABLES = [
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_SECURE_SSL_REDIRECT",
    "DJANGO_SECURE_HSTS_SECONDS",
    "DJANGO_SECURE_COOKIES",
    "DJANGO_LOG_LEVEL",
    "DATABASE_URL",
    "REDIS_URL",
    "EXPORTS_STORAGE",
    "EXPORTS_S3_BUCKET",
    "AWS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_S3_REGION_NAME",
    "API_THROTTLE_RATES",
    "NUM_PROXIES",
    "LEADERBOARD_VERIFIED_ONLY",
    "READYZ_MIN_FREE_MB",
    "METRICS_ENABLED",
    "METRICS_ALLOWED_IPS",
    "PROMETHEUS_MULTIPROC_DIR",
    "MQTT_URL",
    "MQTT_CLIENT_ID",
    "MQTT_TOPIC_PREFIX",
    "MQTT_SHARED_GROUP",
    "MQTT_BATCH_SIZE",
    "MQTT_BATCH_MS",
    "MQTT_SESSION_EXPIRY",
    "EMAIL_URL",
    "EMAIL_FROM",
]

PRODUCTION_KEY = "p9XqL2vR7sT1wY4zB8nM3kJ6hG5fD0aC-" * 2


def project_env(**overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "targets_site.settings",
        **dict.fromkeys(SETTINGS_VARIABLES, ""),
        "DJANGO_SECRET_KEY": PRODUCTION_KEY,
    }
    env.update(overrides)
    return env


def run_python(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=project_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_manage(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    return run_python("manage.py", *args, timeout=timeout, **env)
