"""The SELECTs PostgreSQL's ``COPY … TO STDOUT`` runs, one per output, built on the ORM queryset.

Each builds in the database exactly the text the Python writers in ``exports.formats`` produce
(a differential test pins every one), so the client only moves bytes:

- ``csv``: one column per dataset column, text escaped against formulas, booleans true/false;
- ``json``: one column holding the whole ``{"name":value,...}`` line;
- ``raw``: plain values for the Parquet converter (no escaping; times as epoch microseconds).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.db.models import Case, F, Func, QuerySet, TextField, Value, When
from django.db.models.functions import Concat, NullIf, Ord
from django.db.models.lookups import In

from exports.datasets.registry import Column, Dataset
from exports.formats import FORMULA_PREFIXES

# The first character's code point (ASCII() on PostgreSQL: 0 for ''), compared with these: in a
# COPY of 1M readings the regex it replaces ('^[=+\-@…]') cost ~0.4 s more server CPU than this.
_FORMULA_CODES = [ord(char) for char in FORMULA_PREFIXES]


def csv_queryset(dataset: Dataset, filters: Mapping[str, Any]) -> QuerySet:
    """Rows whose COPY CSV text equals the Python CSV writer's. Times and numbers need nothing:
    the Python writer writes them as PostgreSQL does (in a UTC session)."""
    return _annotated(dataset, filters, [_csv_expression(column) for column in dataset.columns])


def json_queryset(dataset: Dataset, filters: Mapping[str, Any]) -> QuerySet:
    """One text column per row: the row's JSON object, as ``formats.json_text`` writes it."""
    return _annotated(dataset, filters, [JsonObjectLine(dataset.columns)])


def raw_queryset(dataset: Dataset, filters: Mapping[str, Any]) -> QuerySet:
    """Plain values for Parquet: NULL and '' stay apart (COPY quotes ''), times as epoch µs."""
    return _annotated(dataset, filters, [_raw_expression(column) for column in dataset.columns])


def _annotated(dataset: Dataset, filters: Mapping[str, Any], expressions: list) -> QuerySet:
    annotations = {f"c{index}": expression for index, expression in enumerate(expressions)}
    return dataset.queryset(filters).annotate(**annotations).values_list(*annotations)


def _csv_expression(column: Column):
    if column.kind == "text":
        return Case(
            When(In(Ord(F(column.path)), _FORMULA_CODES), then=Concat(Value("'"), F(column.path))),
            # COPY would write '' as "" (to tell it from NULL); the Python writer cannot, so
            # both write an empty cell.
            default=NullIf(F(column.path), Value("")),
            output_field=TextField(),
        )
    if column.kind == "bool":
        return Case(
            When(**{column.path: True}, then=Value("true")),
            When(**{column.path: False}, then=Value("false")),
            default=None,
            output_field=TextField(),
        )
    return F(column.path)


class _EpochMicroseconds(Func):
    # EXTRACT gives numeric on PostgreSQL 14+, so the product is exact.
    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"


def _raw_expression(column: Column):
    if column.kind == "datetime":
        return _EpochMicroseconds(F(column.path))
    return F(column.path)


# SQL for one value's JSON text, given the SQL of the value (``{0}``): what ``json_text`` writes.
_JSON_SQL = {
    "text": "COALESCE(to_json({0})::text, 'null')",
    "uuid": "COALESCE(to_json({0})::text, 'null')",
    "int": "COALESCE(({0})::text, 'null')",
    "float": "COALESCE(({0})::text, 'null')",
    "decimal": "COALESCE(to_json(({0})::text)::text, 'null')",
    "bool": "CASE WHEN {0} THEN 'true' WHEN NOT {0} THEN 'false' ELSE 'null' END",
    # to_json's ISO 8601 (a UTC session: "+00:00") with Z, as formats.datetime_json_text.
    "datetime": "COALESCE(replace(to_json({0})::text, '+00:00\"', 'Z\"'), 'null')",
}


class JsonObjectLine(Func):
    """``'{"a":' || <a as JSON> || ',"b":' || … || '}'``: compact, keys in column order."""

    output_field = TextField()

    def __init__(self, columns: tuple[Column, ...]) -> None:
        super().__init__(*[F(column.path) for column in columns], output_field=TextField())
        self.columns = columns

    # Builds its SQL itself: none of Func's template arguments (function, template, arg_joiner)
    # apply, so the override leaves them out.
    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]
        pieces: list[str] = []
        params: list[Any] = []
        for index, (column, source) in enumerate(
            zip(self.columns, self.get_source_expressions(), strict=True)
        ):
            sql, source_params = compiler.compile(source)
            uses = _JSON_SQL[column.kind].count("{0}")
            key = ("{" if index == 0 else ",") + json.dumps(column.name, ensure_ascii=False) + ":"
            pieces.append(_sql_literal(key))
            pieces.append(_JSON_SQL[column.kind].format(f"({sql})"))
            params.extend(list(source_params) * uses)
        pieces.append("'}'")
        return "(" + " || ".join(pieces) + ")", params


def _sql_literal(text: str) -> str:
    # Column names are ours (ASCII identifiers), never user input; '%' would clash with params.
    assert "%" not in text
    return "'" + text.replace("'", "''") + "'"
