"""Settings come only from the environment, strictly parsed: a bad value stops the start."""

from __future__ import annotations

import pytest
import trustme

from tests.platform.subprocesses import BASE_DIR, PRODUCTION_KEY, run_manage, run_python


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DJANGO_DEBUG", "maybe", "must be a boolean"),
        ("NUM_PROXIES", "-1", "must be >= 0"),
        ("NUM_PROXIES", "two", "must be an integer"),
        ("API_THROTTLE_RATES", "bad", "scope=N/period"),
        ("API_THROTTLE_RATES", "anon=120/fortnight", "scope=N/period"),
        ("DATABASE_URL", "mysql://root@localhost/targets", "sqlite:// or postgres://"),
        ("DATABASE_URL", "not a url", "DATABASE_URL"),
        ("REDIS_URL", "http://127.0.0.1:6379", "must start with redis://"),
        ("EXPORTS_STORAGE", "ftp", "must be one of local, s3"),
        ("DJANGO_SECURE_HSTS_SECONDS", "-5", "must be >= 0"),
        ("DJANGO_SECURE_SSL_REDIRECT", "perhaps", "must be a boolean"),
        ("DJANGO_LOG_LEVEL", "loud", "must be one of"),
        ("MQTT_URL", "http://broker:1883", "must start with mqtt:// or mqtts://"),
        ("MQTT_URL", "mqtt://:1883", "must name a host"),
        ("MQTT_URL", "mqtt://broker:port", "not a valid MQTT URL"),
        ("MQTT_URL", "mqtt://broker/targets", "takes no path"),
        ("MQTT_CLIENT_ID", "has spaces", "1-64 letters"),
        ("MQTT_TOPIC_PREFIX", "targets/#", "without wildcards"),
        ("MQTT_TOPIC_PREFIX", "/targets", "without wildcards"),
        ("MQTT_SHARED_GROUP", "a/b", "share group name"),
        ("MQTT_BATCH_SIZE", "0", "must be >= 1"),
        ("MQTT_BATCH_SIZE", "50000", "must be <= 30000"),
        ("MQTT_SESSION_EXPIRY", "soon", "must be an integer"),
    ],
)
def test_a_bad_value_stops_the_start_with_a_message_naming_the_variable(variable, value, says):
    result = run_manage("check", **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("mqtt_url", "ca_file", "says"),
    [
        ("mqtts://broker", "/nonexistent/ca.pem", "cannot be read: No such file or directory"),
        ("mqtts://broker", "/tmp", "cannot be read: Is a directory"),
        ("mqtts://broker", str(BASE_DIR / "README.md"), "holds no PEM certificate"),
    ],
)
def test_an_mqtt_ca_file_that_cannot_serve_stops_the_start(mqtt_url, ca_file, says):
    result = run_manage("check", MQTT_URL=mqtt_url, MQTT_CA_FILE=ca_file)
    assert result.returncode != 0
    assert "MQTT_CA_FILE" in result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_an_mqtt_ca_file_is_read_at_start_and_only_with_mqtts(tmp_path):
    ca_file = tmp_path / "private-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    code = (
        "import django; django.setup(); "
        "from django.conf import settings; print(settings.MQTT_CA_FILE)"
    )
    accepted = run_python("-c", code, MQTT_URL="mqtts://broker", MQTT_CA_FILE=str(ca_file))
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.strip() == str(ca_file)
    refused = run_manage("check", MQTT_URL="mqtt://broker", MQTT_CA_FILE=str(ca_file))
    assert refused.returncode != 0
    assert "MQTT_CA_FILE is only used over TLS: MQTT_URL must start with mqtts://" in (
        refused.stderr
    )


def test_s3_exports_without_a_bucket_stop_the_start():
    result = run_manage("check", EXPORTS_STORAGE="s3")
    assert result.returncode != 0
    assert "EXPORTS_S3_BUCKET is required when EXPORTS_STORAGE=s3" in result.stderr


def test_debug_off_without_a_secret_key_refuses_to_start():
    result = run_manage("check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_debug_on_without_a_secret_key_starts_with_a_generated_key():
    code = (
        "import django; django.setup(); "
        "from django.conf import settings; print(settings.SECRET_KEY)"
    )
    result = run_python("-c", code, DJANGO_DEBUG="1", DJANGO_SECRET_KEY="")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert len(key) >= 50
    # Generated at start, never a fallback written in the code.
    assert key not in (BASE_DIR / "targets_site" / "settings.py").read_text()


def test_check_deploy_passes_with_a_production_environment():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=PRODUCTION_KEY,
        DJANGO_ALLOWED_HOSTS="targets.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_the_secure_defaults_are_turned_off():
    result = run_manage(
        "check",
        "--deploy",
        "--tag",
        "security",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="targets.example.com",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_HSTS_SECONDS="0",
        DJANGO_SECURE_COOKIES="0",
    )
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


SHOW_SETTINGS = """
import django, json
django.setup()
from django.conf import settings
print(json.dumps({
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "hsts": settings.SECURE_HSTS_SECONDS,
    "secure_cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "hosts": settings.ALLOWED_HOSTS,
    "db": settings.DATABASES["default"]["ENGINE"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "exports": settings.STORAGES["exports"]["BACKEND"],
    "rates": settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
    "proxies": settings.REST_FRAMEWORK["NUM_PROXIES"],
}))
"""


def show_settings(**env: str) -> dict:
    import json

    result = run_python("-c", SHOW_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_off_holds_the_secure_defaults_and_the_embedded_defaults():
    shown = show_settings(DJANGO_DEBUG="0")
    assert shown["ssl_redirect"] is True
    assert shown["hsts"] >= 31_536_000
    assert shown["secure_cookies"] == [True, True]
    assert shown["db"] == "django.db.backends.sqlite3"
    assert shown["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert shown["exports"] == "django.core.files.storage.FileSystemStorage"
    assert shown["proxies"] == 0
    assert shown["rates"] == {
        "anon": "120/min",
        "user": "2000/min",
        "key": "2000/min",
        "login": "10/min",
        "register": "30/hour",
        "scores": "120/min",
        "readings": "600/min",
    }


def test_environment_values_reach_the_settings():
    shown = show_settings(
        DJANGO_ALLOWED_HOSTS="a.example.com, b.example.com",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/anything",
        API_THROTTLE_RATES="anon=7/min,login=3/hour",
        NUM_PROXIES="1",
        EXPORTS_STORAGE="s3",
        EXPORTS_S3_BUCKET="exports",
    )
    assert shown["hosts"] == ["a.example.com", "b.example.com"]
    assert shown["db"] == "django.db.backends.postgresql"
    assert shown["rates"]["anon"] == "7/min"
    assert shown["rates"]["login"] == "3/hour"
    assert shown["rates"]["user"] == "2000/min"
    assert shown["proxies"] == 1
    assert shown["exports"] == "storages.backends.s3.S3Storage"


REDIS_ROUND_TRIP = """
import django, uuid
django.setup()
from django.conf import settings
from django.core.cache import cache
import redis
key, value = "settings-test-" + uuid.uuid4().hex, uuid.uuid4().hex
cache.set(key, value, 30)
raw = redis.Redis.from_url(settings.REDIS_URL)
stored = [k for k in raw.keys("*" + key)]
print(settings.CACHES["default"]["BACKEND"], cache.get(key) == value, len(stored))
cache.delete(key)
"""


def test_with_redis_url_set_the_cache_is_redis_and_shared():
    result = run_python("-c", REDIS_ROUND_TRIP, REDIS_URL="redis://127.0.0.1:6379/14")
    assert result.returncode == 0, result.stderr
    # Django's Redis backend, keeping its client (targets_site/cache.py).
    assert result.stdout.split() == ["targets_site.cache.RedisCache", "True", "1"]


def test_mqtt_url_gives_the_broker_credentials_and_tls_from_one_variable():
    code = (
        "import django; django.setup(); "
        "from django.conf import settings; print(sorted(settings.MQTT_BROKER.items()))"
    )
    result = run_python("-c", code, MQTT_URL="mqtts://ingest:p%40ss@broker.internal")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        sorted(
            {
                "host": "broker.internal",
                "port": 8883,
                "username": "ingest",
                "password": "p@ss",
                "tls": True,
            }.items()
        )
    )
