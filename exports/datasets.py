"""The datasets an export can read: columns, filters and the rows of each, streamed.

A dataset is registered only when its model exists in this installation, so the exports app does
not depend on the other apps' internals beyond the columns listed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Case, F, QuerySet, TextField, Value, When
from django.db.models.functions import Concat, NullIf
from django.utils.dateparse import parse_date, parse_datetime

from exports.choices import DATASET_NAMES, FILTER_NAMES
from exports.formats import FORMULA_PREFIXES, datetime_text
from targets_site.errors import InvalidInput

# Rows fetched per round trip: large enough to amortise it, small enough to keep memory flat.
CHUNK_SIZE = 5000


@dataclass(frozen=True)
class Column:
    name: str  # header / JSON key
    path: str  # ORM path, e.g. "sensor__code"
    kind: str  # text, int, float, decimal, bool, datetime, uuid


@dataclass(frozen=True)
class Dataset:
    name: str
    model_label: str
    columns: tuple[Column, ...]
    ordering: tuple[str, ...]
    time_path: str | None = None  # what since/until compare with
    sensor_path: str | None = None
    mode_path: str | None = None
    mode_choices: tuple[str, ...] = ()

    @property
    def model(self):
        return apps.get_model(self.model_label)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def filter_names(self) -> tuple[str, ...]:
        names: list[str] = []
        if self.time_path:
            names += ["since", "until"]
        if self.sensor_path:
            names.append("sensor")
        if self.mode_path:
            names.append("mode")
        return tuple(names)

    def queryset(self, filters: Mapping[str, Any]) -> QuerySet:
        """The dataset's rows under ``filters`` (already cleaned), in a stable order."""
        queryset = self.model._default_manager.all()
        if filters.get("since"):
            queryset = queryset.filter(**{f"{self.time_path}__gte": _as_datetime(filters["since"])})
        if filters.get("until"):
            queryset = queryset.filter(**{f"{self.time_path}__lt": _as_datetime(filters["until"])})
        if filters.get("sensor"):
            queryset = queryset.filter(**{self.sensor_path: filters["sensor"]})
        if filters.get("mode"):
            queryset = queryset.filter(**{self.mode_path: filters["mode"]})
        return queryset.order_by(*self.ordering)

    def rows(self, filters: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
        """Rows as tuples in column order, fetched ``CHUNK_SIZE`` at a time (a server-side
        cursor on PostgreSQL), so memory does not grow with the row count."""
        paths = [column.path for column in self.columns]
        return self.queryset(filters).values_list(*paths).iterator(chunk_size=CHUNK_SIZE)

    def csv_copy_queryset(self, filters: Mapping[str, Any]) -> QuerySet:
        """The same rows as SQL whose COPY CSV text equals the Python writer's: text escaped
        against formulas, booleans as true/false. Times and numbers need nothing: the Python
        writer writes them as PostgreSQL does (in a UTC session)."""
        annotations = {
            f"c{index}": _csv_expression(column) for index, column in enumerate(self.columns)
        }
        return self.queryset(filters).annotate(**annotations).values_list(*annotations)


_FORMULA_REGEX = "^[" + "".join("\\-" if char == "-" else char for char in FORMULA_PREFIXES) + "]"


def _csv_expression(column: Column):
    if column.kind == "text":
        return Case(
            When(
                **{f"{column.path}__regex": _FORMULA_REGEX}, then=Concat(Value("'"), F(column.path))
            ),
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


def _as_datetime(value: Any) -> dt.datetime:
    return (
        value
        if isinstance(value, dt.datetime)
        else dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    )


def _text(name: str, path: str | None = None) -> Column:
    return Column(name, path or name, "text")


def _of(kind: str) -> Callable[..., Column]:
    return lambda name, path=None: Column(name, path or name, kind)


_int, _float, _decimal, _bool, _time, _uuid = (
    _of("int"),
    _of("float"),
    _of("decimal"),
    _of("bool"),
    _of("datetime"),
    _of("uuid"),
)

_DEFINITIONS: tuple[Dataset, ...] = (
    Dataset(
        name="items",
        model_label="items.Item",
        columns=(
            _int("id"),
            _text("sku"),
            _text("name"),
            _text("description"),
            _decimal("price"),
            _int("stock_quantity"),
            _bool("is_active"),
            _time("created_at"),
            _time("updated_at"),
        ),
        ordering=("id",),
        # Incremental exports want what changed, so since/until look at the last change.
        time_path="updated_at",
    ),
    Dataset(
        name="sensors",
        model_label="sensors.Sensor",
        columns=(
            _text("code"),
            _text("name"),
            _text("unit"),
            _float("low_threshold"),
            _float("high_threshold"),
            _float("hysteresis"),
            _int("min_duration"),
            _bool("is_active"),
            _time("created_at"),
            _time("updated_at"),
        ),
        ordering=("code",),
        time_path="updated_at",
        sensor_path="code",
    ),
    Dataset(
        name="readings",
        model_label="sensors.Reading",
        columns=(_text("sensor", "sensor__code"), _time("timestamp"), _float("value")),
        # The (sensor, timestamp) unique index gives this order without a sort.
        ordering=("sensor_id", "timestamp"),
        time_path="timestamp",
        sensor_path="sensor__code",
    ),
    Dataset(
        name="alerts",
        model_label="sensors.Alert",
        columns=(
            _int("id"),
            _text("sensor", "sensor__code"),
            _text("kind"),
            _time("opened_at"),
            _time("closed_at"),
            _float("peak_value"),
            _int("reading_count"),
            _text("acknowledged_by", "acknowledged_by__username"),
            _time("acknowledged_at"),
        ),
        ordering=("id",),
        time_path="opened_at",
        sensor_path="sensor__code",
    ),
    Dataset(
        name="scores",
        model_label="games.Score",
        columns=(
            _int("id"),
            _text("player", "player__username"),
            _text("mode"),
            _int("points"),
            _int("hits"),
            _int("misses"),
            _int("duration_s"),
            _bool("verified"),
            _text("client_version"),
            _time("played_at"),
            _uuid("submission_id"),
        ),
        ordering=("id",),
        time_path="played_at",
        mode_path="mode",
        mode_choices=("moving", "bullseye"),
    ),
)


def _model_exists(label: str) -> bool:
    try:
        apps.get_model(label)
    except LookupError:
        return False
    return True


def datasets_available() -> dict[str, Dataset]:
    return {dataset.name: dataset for dataset in _DEFINITIONS if _model_exists(dataset.model_label)}


def dataset_get(name: str) -> Dataset:
    """The dataset called ``name``, or an InvalidInput naming the ones there are."""
    available = datasets_available()
    if name not in available:
        choices = ", ".join(available)
        if name in DATASET_NAMES:
            raise InvalidInput(
                details={
                    "dataset": [f"Dataset {name!r} is not installed; choose one of {choices}."]
                }
            )
        raise InvalidInput(
            details={"dataset": [f"Unknown dataset {name!r}; choose one of {choices}."]}
        )
    return available[name]


def _filter_datetime(name: str, raw: Any) -> dt.datetime:
    value: dt.datetime | None
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str) and len(raw) <= 64 and "\x00" not in raw:
        text = raw.strip()
        try:
            # A bare date means midnight UTC (checked first: parse_datetime takes it as naive).
            day = parse_date(text) if len(text) == 10 else None
            if day is not None:
                value = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            else:
                value = parse_datetime(text.replace("z", "Z"))
        except ValueError:
            value = None
        if value is None:
            raise InvalidInput(
                details={name: ["Use an ISO 8601 date or date-time, e.g. 2026-01-31T00:00:00Z."]}
            )
    else:
        raise InvalidInput(details={name: ["Use an ISO 8601 date or date-time string."]})
    if value.tzinfo is None:
        raise InvalidInput(
            details={
                name: ["Give a UTC offset (e.g. 2026-01-31T00:00:00Z): a naive time is ambiguous."]
            }
        )
    return value


def filters_clean(dataset: Dataset, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check ``raw`` filters against ``dataset``; return them JSON-ready (times as ISO UTC)."""
    raw = {key: value for key, value in (raw or {}).items() if value not in (None, "")}
    errors: dict[str, list[str]] = {}
    for key in raw:
        if key not in FILTER_NAMES:
            errors[str(key)] = [f"Unknown filter; filters are {', '.join(FILTER_NAMES)}."]
        elif key not in dataset.filter_names:
            allowed = ", ".join(dataset.filter_names) or "none"
            errors[key] = [f"Dataset {dataset.name!r} has no {key!r} filter (it has: {allowed})."]
    if errors:
        raise InvalidInput(details=errors)
    cleaned: dict[str, Any] = {}
    for name in ("since", "until"):
        if name in raw:
            cleaned[name] = _filter_datetime(name, raw[name])
    if "since" in cleaned and "until" in cleaned and cleaned["since"] >= cleaned["until"]:
        raise InvalidInput(details={"until": ["'until' must be after 'since'."]})
    for name in ("sensor", "mode"):
        if name in raw:
            value = raw[name]
            if (
                not isinstance(value, str)
                or not value.strip()
                or len(value) > 50
                or "\x00" in value
            ):
                raise InvalidInput(
                    details={name: ["Give a non-empty text value of at most 50 characters."]}
                )
            cleaned[name] = value.strip()
    if "mode" in cleaned and cleaned["mode"] not in dataset.mode_choices:
        raise InvalidInput(
            details={"mode": [f"Unknown mode; choose one of {', '.join(dataset.mode_choices)}."]}
        )
    for name in ("since", "until"):
        if name in cleaned:
            cleaned[name] = datetime_text(cleaned[name])
    return cleaned
