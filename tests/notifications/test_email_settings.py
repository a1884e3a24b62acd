"""EMAIL_URL and EMAIL_FROM: parsed strictly at start, like every other variable."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from targets_site.env import EmailConfig, parse_email_url
from tests.platform.subprocesses import run_manage, run_python

SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("console://", EmailConfig(backend="django.core.mail.backends.console.EmailBackend")),
        ("locmem://", EmailConfig(backend="django.core.mail.backends.locmem.EmailBackend")),
        ("smtp://mail.example.com", EmailConfig(backend=SMTP, host="mail.example.com", port=25)),
        (
            "smtp+tls://ops%40example.com:p%3Ass@mail.example.com?timeout=3",
            EmailConfig(
                backend=SMTP,
                host="mail.example.com",
                port=587,
                user="ops@example.com",
                password="p:ss",
                use_tls=True,
                timeout=3,
            ),
        ),
        (
            "smtps://u:p@mail.example.com:2465",
            EmailConfig(
                backend=SMTP,
                host="mail.example.com",
                port=2465,
                user="u",
                password="p",
                use_ssl=True,
            ),
        ),
    ],
)
def test_email_urls_that_parse(url, expected):
    assert parse_email_url("EMAIL_URL", url) == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("gopher://mail.example.com", "unknown scheme 'gopher'"),
        ("mail.example.com", "no scheme"),
        ("smtp://", "no host"),
        ("smtp://mail.example.com:port", "Port could not be cast"),
        ("smtp://mail.example.com/inbox", "no path"),
        ("smtp://mail.example.com?timeout=0", "timeout must be a whole number"),
        ("smtp://mail.example.com?tls=1", "unknown option 'tls'"),
        ("console://somewhere", "takes no host"),
    ],
)
def test_email_urls_that_do_not_parse_say_why(url, says):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL must be") as error:
        parse_email_url("EMAIL_URL", url)
    assert says in str(error.value)


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [("EMAIL_URL", "smtp:/nohost", "no host"), ("EMAIL_FROM", "targets", "email address")],
)
def test_a_bad_email_setting_stops_the_start(variable, value, says):
    result = run_manage("check", **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr and says in result.stderr
    assert "Traceback" not in result.stderr


def test_email_url_reaches_the_settings_and_console_is_the_default():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, "
        "s.DEFAULT_FROM_EMAIL]))"
    )
    configured = run_python(
        "-c", code, EMAIL_URL="smtp+tls://mail.example.com", EMAIL_FROM="alerts@example.com"
    )
    assert json.loads(configured.stdout) == [
        SMTP,
        "mail.example.com",
        587,
        True,
        "alerts@example.com",
    ]
    default = run_python("-c", code)
    assert json.loads(default.stdout)[0] == "django.core.mail.backends.console.EmailBackend"
