from __future__ import annotations

import pytest
from django.db import connection

from targets_site.env import parse_email_url
from tests.notifications.servers import Receiver, SMTPServer


@pytest.fixture
def receiver():
    """``receiver(statuses=[500, 204], ...)`` -> a running webhook receiver on loopback."""
    started: list[Receiver] = []

    def start(**options) -> Receiver:
        server = Receiver(**options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free port, with the site's email settings pointed at it
    through the same EMAIL_URL parser settings.py uses."""
    server = SMTPServer()
    config = parse_email_url("EMAIL_URL", server.url)
    settings.EMAIL_BACKEND = config.backend
    settings.EMAIL_HOST = config.host
    settings.EMAIL_PORT = config.port
    settings.EMAIL_USE_TLS = config.use_tls
    settings.EMAIL_USE_SSL = config.use_ssl
    settings.EMAIL_TIMEOUT = config.timeout
    yield server
    server.close()


@pytest.fixture
def database_url() -> str:
    """The test database, for worker processes started by a test (PostgreSQL only)."""
    options = connection.settings_dict
    assert connection.vendor == "postgresql"
    password = f":{options['PASSWORD']}" if options.get("PASSWORD") else ""
    return (
        f"postgres://{options['USER']}{password}@{options['HOST'] or '127.0.0.1'}:"
        f"{options['PORT'] or 5432}/{options['NAME']}"
    )
