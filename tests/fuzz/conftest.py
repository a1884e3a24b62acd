"""In-process WSGI fuzzing support: the real Django handler, inside the test's transaction."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections


class FuzzedSite:
    """Django's WSGI application as a real server runs it, minus two test-hostile habits.

    Django closes "old" database connections at the start and end of each request; inside a test
    transaction that would close the test's own connection, so (as Django's test client does) the
    handler is disconnected from those signals. Throttle counters are cleared before each request:
    the fuzzer sends hundreds of requests a minute from one address, and a 429 on every later case
    would hide the answers worth checking (throttling has its own tests in tests/security).
    """

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ, start_response):
        cache.clear()
        return self.handler(environ, start_response)


@pytest.fixture
def in_test_transaction(db):
    """Requests through ``FuzzedSite`` run inside this test's database transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
