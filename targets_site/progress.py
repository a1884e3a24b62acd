from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def progress(
    iterable: Iterable[T],
    *,
    stdout: Any,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
) -> Iterator[T] | Iterable[T]:
    """A tqdm bar on a terminal (written to stderr so stdout stays parseable); plain otherwise.

    Cron and pipes get no bar, only the command's one-line summary.
    """
    if not is_terminal(stdout):
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit=unit, unit_scale=True, dynamic_ncols=True)
