"""The one progress bar of the management commands: tqdm on a terminal, nothing otherwise.

Two forms of the same bar (same look, same stream, same terminal test):

- ``progress(iterable, stdout=self.stdout, ...)`` when the command iterates itself;
- ``with progress_counter(stdout=self.stdout, ...) as advance:`` when a service does the work and
  reports how far it got through a callback (``advance(n)``); ``advance`` is None off a terminal,
  so the service skips the reporting altogether.

The bar goes to stderr so stdout stays the command's parseable summary; cron and pipes get no bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tqdm import tqdm

T = TypeVar("T")


def is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _bar(
    *, total: int | None, desc: str, unit: str, iterable: Iterable[Any] | None = None
) -> tqdm[Any]:
    # Imported only for a bar: cron and pipes, which never draw one, start without tqdm.
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, unit_scale=True, dynamic_ncols=True)


def progress(
    iterable: Iterable[T],
    *,
    stdout: Any,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
) -> Iterator[T] | Iterable[T]:
    """``iterable`` with a bar on a terminal; the plain iterable otherwise."""
    if not is_terminal(stdout):
        return iterable
    return _bar(iterable=iterable, total=total, desc=desc, unit=unit)


@contextmanager
def progress_counter(
    *, stdout: Any, total: int | None = None, desc: str = "", unit: str = "it"
) -> Iterator[Callable[[int], None] | None]:
    """Yield ``advance(n)`` moving a bar on a terminal (closed on exit), or None otherwise."""
    if not is_terminal(stdout):
        yield None
        return
    bar = _bar(total=total, desc=desc, unit=unit)

    def advance(count: int) -> None:
        bar.update(count)

    try:
        yield advance
    finally:
        bar.close()
