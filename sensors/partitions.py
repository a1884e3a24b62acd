"""Monthly partitions of the readings table: names and bounds, computed without a database.

PostgreSQL partitions ``sensors_reading`` by range of ``timestamp``, one partition per calendar
month in UTC, named ``sensors_reading_pYYYYMM`` (``[first instant of the month, first instant of
the next)``), plus ``sensors_reading_default`` for anything no monthly partition covers. Retention
drops a monthly partition once its *upper* bound is at or before the cut-off, so a month is only
dropped when every reading it can hold is older than what is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

READINGS_TABLE = "sensors_reading"
DEFAULT_PARTITION = f"{READINGS_TABLE}_default"
_NAME = re.compile(rf"^{READINGS_TABLE}_p(\d{{4}})(\d{{2}})$")


@dataclass(frozen=True, order=True)
class MonthPartition:
    year: int
    month: int

    @property
    def name(self) -> str:
        return f"{READINGS_TABLE}_p{self.year:04d}{self.month:02d}"

    @property
    def lower(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def upper(self) -> datetime:
        return self.next().lower

    def next(self) -> MonthPartition:
        if self.month == 12:
            return MonthPartition(self.year + 1, 1)
        return MonthPartition(self.year, self.month + 1)

    def is_older_than(self, cutoff: datetime) -> bool:
        """Every instant of the month is before ``cutoff``: the partition can be dropped whole."""
        return self.upper <= cutoff


def month_of(moment: datetime) -> MonthPartition:
    """The month (in UTC) that holds ``moment``, which must be timezone-aware."""
    if moment.tzinfo is None:
        raise ValueError("month_of needs an aware datetime")
    moment = moment.astimezone(UTC)
    return MonthPartition(moment.year, moment.month)


def months_ahead(moment: datetime, *, ahead: int = 2) -> list[MonthPartition]:
    """The month of ``moment`` and the ``ahead`` months after it."""
    months = [month_of(moment)]
    for _ in range(ahead):
        months.append(months[-1].next())
    return months


def partition_from_name(name: str) -> MonthPartition | None:
    """The month a partition name stands for; None for the default or a foreign name."""
    match = _NAME.match(name)
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    return MonthPartition(year, month)


def retention_cutoff(now: datetime, *, keep_days: int) -> datetime:
    """Readings strictly before this instant are removed when keeping ``keep_days`` days."""
    return now - timedelta(days=keep_days)
