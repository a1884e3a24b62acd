"""Shared pieces for the security probes: the API's operations, read from its own schema."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from drf_spectacular.generators import SchemaGenerator

# Endpoints meant for people who have no account yet.
PUBLIC_WRITES = {("POST", "/api/v1/auth/token/"), ("POST", "/api/v1/players/")}
UNSAFE = {"post", "put", "patch", "delete"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in the schema, e.g. /api/v1/items/{id}/
    takes_body: bool = False

    def url(self, **values: str) -> str:
        """The path with every ``{param}`` filled (``values`` by name, else ``1``)."""
        return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), "1")), self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def api_operations() -> list[Operation]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        Operation(method.upper(), path, takes_body="requestBody" in operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in UNSAFE | {"get"}
    ]


def write_operations() -> list[Operation]:
    return [op for op in api_operations() if op.method.lower() in UNSAFE]


def list_operations() -> list[Operation]:
    """GET operations whose answer is a paginated list (they take ``page_size``)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if not get:
            continue
        body = get["responses"].get("200", {}).get("content", {}).get("application/json", {})
        if body.get("schema", {}).get("$ref", "").startswith("#/components/schemas/Paginated"):
            found.append(Operation("GET", path))
    return found


@pytest.fixture
def player(make_user):
    return make_user("alice")


@pytest.fixture
def other_player(make_user):
    return make_user("mallory")


@pytest.fixture
def player_client(client_for, player):
    return client_for(player)
