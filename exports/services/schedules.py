"""Scheduled exports: ``run_exports`` requests each due run once, whatever the number of machines.

A run of a schedule covers ``[last_until, now)``: its ``since`` is the previous run's ``until``
(none for the first run, which starts from the beginning of the data), so consecutive files
neither overlap nor leave a gap. Claiming a run is a compare-and-set on ``(next_run_at,
last_until)`` inside the transaction that records the export: of any number of ``run_exports``
processes looking at one due schedule, exactly one moves it on and records the export (on
PostgreSQL ``FOR UPDATE SKIP LOCKED`` spares the others even the wait).

A run that ends failed (at run time, cancelled, its lease expired, or refused when requested)
gives its window back: ``export_finish`` calls ``schedule_window_reopen`` in the transaction
that records the failure, which moves ``last_until`` back to the run's ``since`` (to none for a
first run) if it is still the run's ``until``. The schedule's next due run then covers the failed
window as well as its own: one run per period, no retry loop, and a schedule that keeps failing
keeps widening its next window until a run succeeds. If a later run was requested meanwhile
(``last_until`` has moved on), nothing is moved: the failed export's reason ends with the window
that was not exported and the ``export_data`` command that exports it.
"""

from __future__ import annotations

import datetime as dt
import logging
import shlex
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exports.choices import Every, Status
from exports.models import Export, ExportSchedule
from exports.services.lifecycle import export_finish, export_validate
from targets_site.errors import DomainError, InvalidInput

logger = logging.getLogger("targets.exports")

PERIODS = {
    Every.HOUR: dt.timedelta(hours=1),
    Every.DAY: dt.timedelta(days=1),
    Every.WEEK: dt.timedelta(weeks=1),
}


def schedule_validate(
    *,
    dataset: str,
    fmt: str,
    compress: bool,
    filters: Any,
    storage: str | None,
    last_until: dt.datetime | None = None,
) -> dict[str, Any]:
    """Check a schedule's export settings as a request would be; return its cleaned filters.

    ``since`` and ``until`` are the schedule's own (its window), so they are refused here, and
    so is a ``last_until`` after now (the schedule would never run: its window would be empty).
    """
    if last_until is not None and last_until > timezone.now():
        raise InvalidInput.for_field(
            "last_until",
            "'last_until' is in the future, so the schedule would never run; give a time up to "
            "now, or leave it empty to start from the beginning of the data.",
        )
    if filters is None:
        filters = {}
    if not isinstance(filters, dict):
        raise InvalidInput.for_field(
            "filters", 'Give the filters as a JSON object, e.g. {"sensor": "A"} (or {} for none).'
        )
    filters = dict(filters)
    for name in ("since", "until"):
        if filters.get(name) not in (None, ""):
            raise InvalidInput.for_field(
                "filters",
                f"A schedule sets '{name}' itself: each run covers [previous until, now).",
            )
    fields = export_validate(
        dataset=dataset, fmt=fmt, compress=compress, filters=filters, storage=storage
    )
    cleaned: dict[str, Any] = fields["filters"]
    return cleaned


_SCHEDULE_FIELDS = (
    "name",
    "dataset",
    "format",
    "gzip",
    "filters",
    "storage",
    "every",
    "is_active",
    "next_run_at",
    "last_until",
)


def schedule_save(
    *, fields: dict[str, Any], schedule: ExportSchedule | None = None, by: Any = None
) -> ExportSchedule:
    """Create (``schedule`` None) or change a schedule; its export settings are checked as a
    request's would be (InvalidInput names the bad part)."""
    unknown = set(fields) - set(_SCHEDULE_FIELDS)
    assert not unknown, unknown
    if schedule is None:
        schedule = ExportSchedule(
            created_by=by,
            next_run_at=timezone.now(),
            storage=settings.EXPORTS_STORAGE,
        )
    for name, value in fields.items():
        if name == "next_run_at" and value is None:
            continue
        setattr(schedule, name, value)
    schedule.filters = schedule_validate(
        dataset=schedule.dataset,
        fmt=schedule.format,
        compress=schedule.gzip,
        filters=schedule.filters,
        storage=schedule.storage,
        last_until=fields.get("last_until"),
    )
    schedule.save()
    return schedule


def schedule_window_reopen(*, export: Export) -> str:
    """Give a failed scheduled run's window back to its schedule (see the module's docstring).

    Returns "" when the window is back with the schedule, else the sentence that tells people
    the window was not exported and how to export it.
    """
    assert export.schedule_id is not None
    since, until = export.filters.get("since"), export.filters.get("until")
    if not until:
        return ""  # not a scheduled window (every run of a schedule has an until)
    reopened = ExportSchedule.objects.filter(
        pk=export.schedule_id, last_until=dt.datetime.fromisoformat(until)
    ).update(last_until=dt.datetime.fromisoformat(since) if since else None)
    if reopened:
        return ""
    command = ["manage.py", "export_data", export.dataset, "--format", export.format]
    if export.gzip:
        command.append("--gzip")
    for name in ("sensor", "mode", "since", "until"):
        if export.filters.get(name):
            command += [f"--{name}", export.filters[name]]
    command += ["--storage", export.storage]
    start = since or "the beginning of the data"
    return (
        f"A later run of the schedule was already requested, so the rows from {start} until"
        f" {until} were not exported; to export them, run: {shlex.join(command)}"
    )


def _next_run_after(schedule: ExportSchedule, now: dt.datetime) -> dt.datetime:
    """The first of ``next_run_at + k * period`` after ``now``: a steady cadence, missed
    periods skipped (their rows are in this run's window: nothing is lost)."""
    period = PERIODS[Every(schedule.every)]
    missed = (now - schedule.next_run_at) // period
    return schedule.next_run_at + (missed + 1) * period


def schedules_run_due(*, now: dt.datetime | None = None) -> list[Export]:
    """Record one pending export for every active schedule that is due; return them."""
    now = now or timezone.now()
    due = (
        ExportSchedule.objects.filter(is_active=True, next_run_at__lte=now)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    created = []
    for pk in list(due):
        export = _schedule_run(pk, now)
        if export is not None:
            created.append(export)
    return created


def _schedule_run(pk: int, now: dt.datetime) -> Export | None:
    with transaction.atomic():
        schedule = (
            ExportSchedule.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, is_active=True, next_run_at__lte=now)
            .first()
        )
        if schedule is None:
            return None  # another process has it, or it is no longer due
        since = schedule.last_until
        if since is not None and since >= now:
            return None  # the previous run's window already reaches now (a clock behind)
        claimed = (
            ExportSchedule.objects.filter(
                pk=pk, next_run_at=schedule.next_run_at, last_until=schedule.last_until
            )
            if since is not None
            else ExportSchedule.objects.filter(
                pk=pk, next_run_at=schedule.next_run_at, last_until__isnull=True
            )
        ).update(next_run_at=_next_run_after(schedule, now), last_until=now)
        if not claimed:
            return None
        window = {"until": now.isoformat()}
        if since is not None:
            window["since"] = since.isoformat()
        request: dict[str, Any] = {
            "dataset": schedule.dataset,
            "fmt": schedule.format,
            "compress": schedule.gzip,
            "filters": {**schedule.filters, **window},
            "storage": schedule.storage,
        }
        try:
            fields = export_validate(**request)
        except DomainError as exc:
            # The schedule no longer makes a valid export (say S3 lost its settings): its run is
            # recorded as failed with the reason, and its window goes back to the schedule like
            # any failed run's.
            failed = Export.objects.create(
                status=Status.PENDING,
                schedule=schedule,
                requested_by=schedule.created_by,
                dataset=schedule.dataset,
                format=schedule.format,
                gzip=schedule.gzip,
                filters=request["filters"],
                storage=schedule.storage,
                fingerprint="",
            )
            # Ended where every export ends (export_finish), so it is reported like any other.
            export_finish(
                export=failed,
                status=Status.FAILED,
                reason=f"Schedule {schedule.name!r}: {exc}",
                from_statuses=(Status.PENDING,),
            )
            failed.refresh_from_db()
            return failed
        return Export.objects.create(
            status=Status.PENDING, schedule=schedule, requested_by=schedule.created_by, **fields
        )
