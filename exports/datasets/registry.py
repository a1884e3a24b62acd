"""The registry of datasets an export can read: their columns, order, filters and rows.

A dataset is available only when its model exists in this installation, so the exports app does
not depend on the other apps' internals beyond the columns listed here. The SQL that PostgreSQL's
COPY runs for each format is in ``exports.datasets.sql``; filter checking in
``exports.datasets.filters``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import DecimalField, Field, Model, QuerySet

from exports.choices import DATASET_NAMES
from targets_site.errors import InvalidInput

# Rows fetched per round trip: large enough to amortise it, small enough to keep memory flat.
CHUNK_SIZE = 5000


@dataclass(frozen=True)
class Column:
    name: str  # header / JSON key
    path: str  # ORM path, e.g. "sensor__code"
    kind: str  # text, int, float, decimal, bool, datetime, uuid
    # A text column of a related table with few rows next to the exported ones (a reading's
    # sensor): the JSON export computes its JSON text once per related row, not once per row.
    per_related_row: bool = False


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
    def model(self) -> type[Model]:
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

    def queryset(self, filters: Mapping[str, Any]) -> QuerySet[Model]:
        """The dataset's rows under ``filters`` (already cleaned), in a stable order."""
        queryset = self.model._default_manager.all()
        if filters.get("since"):
            queryset = queryset.filter(**{f"{self.time_path}__gte": _as_datetime(filters["since"])})
        if filters.get("until"):
            queryset = queryset.filter(**{f"{self.time_path}__lt": _as_datetime(filters["until"])})
        if self.sensor_path and filters.get("sensor"):
            queryset = queryset.filter(**{self.sensor_path: filters["sensor"]})
        if self.mode_path and filters.get("mode"):
            queryset = queryset.filter(**{self.mode_path: filters["mode"]})
        return queryset.order_by(*self.ordering)

    def decimal_digits(self, column: Column) -> tuple[int, int] | None:
        """(max_digits, decimal_places) of a decimal column's model field."""
        if column.kind != "decimal":
            return None
        field = self._fields(column)[-1]
        assert isinstance(field, DecimalField), f"{column.path} is not a DecimalField"
        return field.max_digits, field.decimal_places

    def nullable(self, column: Column) -> bool:
        """Whether the column can be NULL in a row: its field allows it, or a relation on its
        path does (a LEFT JOIN then gives NULL)."""
        return any(field.null for field in self._fields(column))

    def _fields(self, column: Column) -> list[Field[Any, Any]]:
        model = self.model
        fields: list[Field[Any, Any]] = []
        *hops, name = column.path.split("__")
        for hop in hops:
            field = model._meta.get_field(hop)
            related = field.related_model
            assert isinstance(field, Field) and isinstance(related, type), (
                f"{hop} in {column.path} is not a relation"
            )
            fields.append(field)
            model = related
        field = model._meta.get_field(name)
        assert isinstance(field, Field), f"{name} in {column.path} is not a field"
        fields.append(field)
        return fields

    def rows(self, filters: Mapping[str, Any]) -> Generator[tuple[Any, ...]]:
        """Rows as tuples in column order, fetched ``CHUNK_SIZE`` at a time (a server-side
        cursor on PostgreSQL), so memory does not grow with the row count. Closing the
        generator closes the cursor."""
        paths = [column.path for column in self.columns]
        yield from self.queryset(filters).values_list(*paths).iterator(chunk_size=CHUNK_SIZE)


def _as_datetime(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


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
        columns=(
            Column("sensor", "sensor__code", "text", per_related_row=True),
            _time("timestamp"),
            _float("value"),
        ),
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
            _float("duration_s"),
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
    """Every dataset whose model is installed, by name."""
    return {dataset.name: dataset for dataset in _DEFINITIONS if _model_exists(dataset.model_label)}


def dataset_get(name: str) -> Dataset:
    """The dataset called ``name``, or InvalidInput naming the ones there are."""
    available = datasets_available()
    if name not in available:
        choices = ", ".join(available)
        if name in DATASET_NAMES:
            raise InvalidInput.for_field(
                "dataset", f"Dataset {name!r} is not installed; choose one of {choices}."
            )
        raise InvalidInput.for_field(
            "dataset", f"Unknown dataset {name!r}; choose one of {choices}."
        )
    return available[name]


def dataset_for_model(model: type[Model]) -> Dataset | None:
    """The dataset that exports ``model``'s rows (for the admin's "export selected")."""
    label = model._meta.label
    return next((d for d in datasets_available().values() if d.model_label == label), None)
