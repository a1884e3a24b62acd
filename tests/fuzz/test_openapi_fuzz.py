"""Schemathesis over the whole OpenAPI schema, as anonymous, a player and a staff user.

Every generated request (NUL characters allowed in strings, the default) must get an answer that
is not a server error and that matches the schema: status code documented, JSON body valid
against the documented response (errors against the shared ``Error`` component). Runs in-process
through Django's WSGI handler, on whichever database the suite runs on (SQLite or PostgreSQL).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import positive_data_acceptance

from exports.services import export_request
from sensors.models import Alert
from tests.exports.factories import make_readings
from tests.fuzz.conftest import FuzzedSite
from tests.games.factories import PlayerFactory, make_score
from tests.items.factories import ItemFactory

# Bounded cost: each operation gets this many generated cases per role, on top of the schema's
# explicit and boundary cases. Three roles x ~30 operations keeps one database's run near a minute,
# with the same cases every run. For a deeper, random hunt: FUZZ_EXAMPLES=100 pytest tests/fuzz
DEEP_EXAMPLES = os.environ.get("FUZZ_EXAMPLES")
EXAMPLES_PER_OPERATION = int(DEEP_EXAMPLES) if DEEP_EXAMPLES else 6

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=not DEEP_EXAMPLES,
    suppress_health_check=list(HealthCheck),
)

# Loaded at collection (the schema view needs no database). schemathesis' lazy fixture loader
# does not work with pytest 9, which dropped the node attribute it rewrites.
schema = schemathesis.openapi.from_wsgi("/api/schema/", FuzzedSite())
schema.config.phases.coverage.enabled = False
# The coverage phase (every boundary and every kind of invalid value, per field) costs about a
# minute per role; it runs as staff, the one role whose requests reach every validator.
schema_with_boundaries = schemathesis.openapi.from_wsgi("/api/schema/", FuzzedSite())


@pytest.fixture
def world(in_test_transaction):
    """Rows for generated ids to land on: items, a sensor with readings and an alert, scores of
    two players, an export (schemathesis also reuses ids it sees in earlier answers)."""
    for _ in range(3):
        ItemFactory()
    sensor = make_readings("A", 30, high_threshold=60)
    Alert.objects.create(
        sensor=sensor, kind="high", opened_at=timezone.now(), peak_value=79, reading_count=20
    )
    player = PlayerFactory(username="fuzz-player")
    other = PlayerFactory(username="fuzz-other")
    for points in (40, 80):
        make_score(player, points=points, hits=1)
        make_score(other, points=points, hits=1)
    staff = PlayerFactory(username="fuzz-staff", is_staff=True)
    export_request(
        dataset="items", fmt="csv", compress=False, filters={}, storage=None, requested_by=staff
    )
    return {"player": player, "staff": staff}


# "Schema-valid data must be accepted" cannot hold for an API with business rules: a well-typed
# login with the wrong password, or a score whose points the hits cannot explain, is rightly a 400.
# Every other built-in check runs (server errors, status codes, content types, headers, response
# bodies, rejection of schema-invalid input, missing headers, unsupported methods, auth).
EXCLUDED_CHECKS = [positive_data_acceptance]


def _token_header(user) -> dict[str, str]:
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


@schema.parametrize()
@FUZZ_SETTINGS
def test_anonymous_requests_never_break_the_schema_or_the_server(case, world):
    case.call_and_validate(excluded_checks=EXCLUDED_CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_player_requests_never_break_the_schema_or_the_server(case, world):
    case.call_and_validate(headers=_token_header(world["player"]), excluded_checks=EXCLUDED_CHECKS)


@schema_with_boundaries.parametrize()
@FUZZ_SETTINGS
def test_staff_requests_never_break_the_schema_or_the_server(case, world):
    case.call_and_validate(headers=_token_header(world["staff"]), excluded_checks=EXCLUDED_CHECKS)
