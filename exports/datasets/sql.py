"""The SELECTs PostgreSQL's ``COPY … TO STDOUT`` runs, one per output, built on the ORM queryset.

Each builds in the database exactly the text the Python writers in ``exports.formats`` produce
(a differential test pins every one), so the client only moves bytes:

- ``csv``: one column per dataset column, text escaped against formulas as
  ``targets_site.csv_text`` says, booleans true/false;
- ``json``: one column holding the whole ``{"name":value,...}`` line;
- ``raw``: plain values for the Parquet converter (no escaping; times as epoch microseconds).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.db.models import Case, F, Func, QuerySet, TextField, Value, When
from django.db.models.expressions import Col
from django.db.models.functions import Concat, NullIf, Ord
from django.db.models.lookups import GreaterThan, In
from django.db.models.sql.datastructures import Join

from exports.datasets.registry import Column, Dataset
from targets_site.csv_text import ESCAPED_PREFIXES

# The first character's code point (ASCII() on PostgreSQL: 0 for ''), compared with these: in a
# COPY of 1M readings the regex it replaces ('^[=+\-@…]') cost ~0.4 s more server CPU than this.
_ESCAPED_CODES = [ord(char) for char in ESCAPED_PREFIXES]
_ESCAPED_CODE_MAX = max(_ESCAPED_CODES)  # '@', 64 (the quote is 39)


def csv_queryset(dataset: Dataset, filters: Mapping[str, Any]) -> QuerySet:
    """Rows whose COPY CSV text equals the Python CSV writer's. Times and numbers need nothing:
    the Python writer writes them as PostgreSQL does (in a UTC session)."""
    return _annotated(dataset, filters, [_csv_expression(column) for column in dataset.columns])


def json_queryset(
    dataset: Dataset, filters: Mapping[str, Any], *, element_end: str = ""
) -> QuerySet:
    """One text column per row: the row's JSON object, as ``formats.json_text`` writes it, then
    ``element_end`` (a JSON array's ``,``)."""
    nullable = tuple(dataset.nullable(column) for column in dataset.columns)
    line = JsonObjectLine(dataset.columns, nullable, end="}" + element_end)
    return _annotated(dataset, filters, [line])


def raw_queryset(dataset: Dataset, filters: Mapping[str, Any]) -> QuerySet:
    """Plain values for Parquet: NULL and '' stay apart (COPY quotes ''), times as epoch µs."""
    return _annotated(dataset, filters, [_raw_expression(column) for column in dataset.columns])


def _annotated(dataset: Dataset, filters: Mapping[str, Any], expressions: list) -> QuerySet:
    annotations = {f"c{index}": expression for index, expression in enumerate(expressions)}
    return dataset.queryset(filters).annotate(**annotations).values_list(*annotations)


def _csv_expression(column: Column):
    if column.kind == "text":
        return Case(
            # Most text starts with a letter: past every escaped character (and not empty), so
            # it is written as it is after one comparison (1M readings: 0.43 -> 0.38 s of
            # server CPU, a plain SELECT's 0.37).
            When(GreaterThan(Ord(F(column.path)), _ESCAPED_CODE_MAX), then=F(column.path)),
            When(In(Ord(F(column.path)), _ESCAPED_CODES), then=Concat(Value("'"), F(column.path))),
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
# Each is a list of pieces: SQL, or ``_Quote`` for a literal '"' (merged into the keys around it
# when the column is never NULL, which saves the server a concatenation per row).
class _Quote:
    pass


_QUOTE = _Quote()

# A time: the timestamp's own text with "T" for the space and "Z" appended — the digits and the
# trimmed fraction are to_json's (both come from PostgreSQL's EncodeDateTime) — in a UTC session
# with DateStyle ISO (``uses_postgres_copy`` checks both). Times before year 1 (" BC") and
# ±infinity take to_json with "+00:00" made "Z", as before. Per million readings this costs the
# server ~0.05 s less CPU than to_json + replace for every row (PostgreSQL 15).
_DATETIME_SQL = (
    "CASE WHEN {0} >= '0001-01-01 00:00:00+00'::timestamptz AND {0} < 'infinity'::timestamptz "
    "THEN replace(({0})::timestamp::text, ' ', 'T') || 'Z' "
    "ELSE btrim(replace(to_json({0})::text, '+00:00\"', 'Z\"'), '\"') END"
)

_JSON_SQL: dict[str, list[str | _Quote]] = {
    "text": ["to_json({0})::text"],
    "uuid": ["to_json({0})::text"],
    "int": ["({0})::text"],
    "float": ["({0})::text"],
    # A decimal's text is digits, sign and point (or NaN, Infinity): nothing to escape.
    "decimal": [_QUOTE, "({0})::text", _QUOTE],
    "bool": ["CASE WHEN {0} THEN 'true' WHEN NOT {0} THEN 'false' END"],
    "datetime": [_QUOTE, _DATETIME_SQL, _QUOTE],
}


class JsonObjectLine(Func):
    """``'{"a":' || <a as JSON> || ',"b":' || … || '}'``: compact, keys in column order; a
    NULL value is ``null``."""

    output_field = TextField()

    def __init__(
        self, columns: tuple[Column, ...], nullable: tuple[bool, ...], *, end: str = "}"
    ) -> None:
        super().__init__(*[F(column.path) for column in columns], output_field=TextField())
        self.columns = columns
        self.nullable = nullable
        self.end = end

    def resolve_expression(
        self,
        query: Any = None,
        allow_joins: bool = True,
        reuse: Any = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> JsonObjectLine:
        resolved = super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        if query is None:
            return resolved
        # Columns marked per_related_row are read from their join's derived table, which has
        # their JSON text already (see _JoinWithJson).
        for column, source in zip(self.columns, resolved.get_source_expressions(), strict=True):
            if not (column.per_related_row and column.kind == "text" and isinstance(source, Col)):
                continue
            join = query.alias_map.get(source.alias)
            if type(join) is Join:
                join = query.alias_map[source.alias] = _JoinWithJson.from_join(join)
            if isinstance(join, _JoinWithJson):
                join.json_columns = (*join.json_columns, source.target.column)
        return resolved

    # Builds its SQL itself: none of Func's template arguments (function, template, arg_joiner)
    # apply, so the override leaves them out.
    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]
        pieces: list[str | _Literal] = []
        params: list[Any] = []
        for index, (column, nullable, source) in enumerate(
            zip(self.columns, self.nullable, self.get_source_expressions(), strict=True)
        ):
            sql, source_params = compiler.compile(source)
            key = ("{" if index == 0 else ",") + json.dumps(column.name, ensure_ascii=False) + ":"
            pieces.append(_Literal(key))
            value: list[str | _Literal] = []
            kind_sql = _JSON_SQL[column.kind]
            if isinstance(source, Col) and isinstance(
                join := compiler.query.alias_map.get(source.alias), _JoinWithJson
            ):
                kind_sql = [f"{_qn(source.alias)}.{_qn(_json_name(source.target.column))}"]
                assert source.target.column in join.json_columns
            for piece in kind_sql:
                if isinstance(piece, _Quote):
                    value.append(_Literal('"'))
                else:
                    value.append(piece.format(f"({sql})"))
                    params.extend(list(source_params) * piece.count("{0}"))
            if nullable:
                value = [f"COALESCE({_joined(value)}, 'null')"]
            pieces.extend(value)
        pieces.append(_Literal(self.end))
        return "(" + _joined(pieces) + ")", params


class _JoinWithJson(Join):
    """A join to a related table through a derived table that also holds the JSON text of some
    of its text columns, so PostgreSQL runs ``to_json`` once per related row (ten sensors)
    instead of once per exported row (a million readings): the ``SELECT *`` keeps every column
    the rest of the query refers to, and ``OFFSET 0`` keeps the planner from folding the
    subquery back into the join (which would bring ``to_json`` back to every row). Put in place
    when the JSON line is added, the last step of the queryset (nothing joins after it). Measured
    on the COPY of 1M readings: 0.75 -> 0.62 s of server CPU (to_json per row cost ~0.15 s)."""

    json_columns: tuple[str, ...] = ()

    @classmethod
    def from_join(cls, join: Join) -> _JoinWithJson:
        copy = cls.__new__(cls)
        copy.__dict__.update(join.__dict__)
        return copy

    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)
        table = compiler.quote_name_unless_alias(self.table_name)
        head = f"{self.join_type} {table}"
        assert sql.startswith(head), sql
        texts = ", ".join(
            f"to_json({table}.{_qn(name)})::text AS {_qn(_json_name(name))}"
            for name in dict.fromkeys(self.json_columns)
        )
        # Table and column names from the models, never user input.
        derived = f"(SELECT {table}.*, {texts} FROM {table} OFFSET 0)"  # noqa: S608
        rest = sql[len(head) :]
        alias = f" {table}" if self.table_alias == self.table_name else ""
        return f"{self.join_type} {derived}{alias}{rest}", params


def _json_name(column: str) -> str:
    return f"json__{column}"


def _qn(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Literal(str):
    """Text to put in the SQL as a literal."""


def _joined(pieces: list[str | _Literal]) -> str:
    """The pieces concatenated with ``||``, adjacent literals merged into one."""
    merged: list[str] = []
    literal = ""
    for piece in pieces:
        if isinstance(piece, _Literal):
            literal += piece
            continue
        if literal:
            merged.append(_sql_literal(literal))
            literal = ""
        merged.append(piece)
    if literal:
        merged.append(_sql_literal(literal))
    return " || ".join(merged)


def _sql_literal(text: str) -> str:
    # Column names are ours (ASCII identifiers), never user input; '%' would clash with params.
    assert "%" not in text
    return "'" + text.replace("'", "''") + "'"
