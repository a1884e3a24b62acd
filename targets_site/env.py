"""Strict parsing of environment variables for settings.

Every variable is read once, here, at start-up. A value that does not parse stops the start with
an ``ImproperlyConfigured`` naming the variable, rather than running with a silently wrong setting.
"""

from __future__ import annotations

import os
import re
import ssl
from dataclasses import dataclass
from typing import TypedDict, overload
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return value or default


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    # Empty means "not set", as for every other type: a blank DJANGO_SECURE_SSL_REDIRECT= line
    # must not quietly turn a secure default off.
    if not value:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be a boolean (1/0, true/false, yes/no), got {value!r}."
    )


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    value = _raw(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {number}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be <= {maximum}, got {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if not value:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}.")
    return value


def env_rates(name: str, defaults: dict[str, str]) -> dict[str, str]:
    """Parse ``scope=rate`` pairs (``anon=120/min,login=10/min``) over the defaults."""
    rates = dict(defaults)
    for pair in env_list(name, []):
        scope, sep, rate = pair.partition("=")
        scope, rate = scope.strip(), rate.strip()
        if not sep or not scope or not _RATE.match(rate):
            raise ImproperlyConfigured(
                f"{name} must be comma-separated scope=N/period pairs "
                f"(period s, min, hour or day), got {pair!r}."
            )
        rates[scope] = rate
    return rates


_MQTT_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


class MqttBroker(TypedDict):
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def env_mqtt_url(name: str, default: str) -> MqttBroker:
    """``mqtt://[user[:password]@]host[:port]`` (``mqtts://`` for TLS) as connection options:
    ``host``, ``port``, ``username``, ``password`` (percent-decoded) and ``tls``."""
    raw = env_str(name, default) or default
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid MQTT URL: {exc}.") from None
    if parts.scheme not in _MQTT_DEFAULT_PORTS:
        raise ImproperlyConfigured(
            f"{name} must start with mqtt:// or mqtts:// (TLS), got {raw.split('://')[0]!r}."
        )
    if not parts.hostname:
        raise ImproperlyConfigured(f"{name} must name a host, e.g. mqtt://127.0.0.1:1883.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{name} takes no path or query: the topics come from MQTT_TOPIC_PREFIX."
        )
    return {
        "host": parts.hostname,
        "port": port or _MQTT_DEFAULT_PORTS[parts.scheme],
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password is not None else None,
        "tls": parts.scheme == "mqtts",
    }


def env_ca_file(name: str) -> str | None:
    """An optional PEM bundle of CA certificates, loaded once here: a missing, unreadable or
    non-PEM file stops the start, not the first TLS connection an hour later."""
    path = env_str(name)
    if path is None:
        return None
    try:
        ssl.create_default_context(cafile=path)
    except ssl.SSLError as exc:
        raise ImproperlyConfigured(
            f"{name}={path} holds no PEM certificate ({exc.reason or exc})."
        ) from None
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}={path} cannot be read: {exc.strerror}.") from None
    return path


def env_match(name: str, default: str, pattern: str, *, says: str) -> str:
    """A string that must match ``pattern`` entirely; ``says`` describes the accepted form."""
    value = env_str(name, default)
    if value is None or not re.fullmatch(pattern, value):
        raise ImproperlyConfigured(f"{name} must be {says}, got {value!r}.")
    return value


@dataclass(frozen=True)
class EmailConfig:
    backend: str
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    timeout: int = 10


_EMAIL_SCHEMES = {
    # scheme: (backend, default port, STARTTLS, implicit TLS)
    "smtp": ("django.core.mail.backends.smtp.EmailBackend", 25, False, False),
    "smtp+tls": ("django.core.mail.backends.smtp.EmailBackend", 587, True, False),
    "smtps": ("django.core.mail.backends.smtp.EmailBackend", 465, False, True),
}
_EMAIL_LOCAL = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}


def parse_email_url(name: str, value: str) -> EmailConfig:
    """``console://`` (default), ``locmem://``, ``smtp://[user:pass@]host[:port]`` (plain),
    ``smtp+tls://…`` (STARTTLS, port 587) or ``smtps://…`` (TLS, port 465); ``?timeout=S``."""

    def bad(why: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(
            f"{name} must be console://, locmem://, smtp://, smtp+tls:// or smtps:// "
            f"(e.g. smtp+tls://user:password@mail.example.com:587): {why}."
        )

    try:
        url = urlsplit(value)
        port = url.port
    except ValueError as exc:
        raise bad(str(exc)) from None
    scheme = url.scheme.lower()
    query = parse_qs(url.query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(query) - {"timeout"})
    if unknown:
        raise bad(f"unknown option {unknown[0]!r}")
    timeout = 10
    if "timeout" in query:
        raw = query["timeout"][-1]
        if not raw.isdigit() or int(raw) < 1:
            raise bad(f"timeout must be a whole number of seconds >= 1, got {raw!r}")
        timeout = int(raw)
    if scheme in _EMAIL_LOCAL:
        if url.netloc or url.path.strip("/"):
            raise bad(f"{scheme}:// takes no host or path")
        return EmailConfig(backend=_EMAIL_LOCAL[scheme], timeout=timeout)
    if scheme not in _EMAIL_SCHEMES:
        raise bad(f"unknown scheme {scheme!r}" if scheme else "no scheme")
    if not url.hostname:
        raise bad("no host")
    if url.path.strip("/"):
        raise bad("an SMTP URL has no path")
    backend, default_port, use_tls, use_ssl = _EMAIL_SCHEMES[scheme]
    return EmailConfig(
        backend=backend,
        host=url.hostname,
        port=port or default_port,
        user=unquote(url.username or ""),
        password=unquote(url.password or ""),
        use_tls=use_tls,
        use_ssl=use_ssl,
        timeout=timeout,
    )
