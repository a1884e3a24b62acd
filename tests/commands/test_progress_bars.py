"""Long commands draw a progress bar on a terminal and print only a one-line summary otherwise.

The terminal is a real pseudo-terminal (``pty.openpty``), so ``isatty()`` is the operating
system's answer, as it is for a person at a shell; the "otherwise" case is a pipe-like StringIO,
as under cron.
"""

from __future__ import annotations

import io
import os
import pty
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.games.factories import PlayerFactory, make_score
from tests.items.factories import ItemFactory
from tests.sensors.factories import SensorFactory

pytestmark = pytest.mark.django_db

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# tqdm's status line: "<desc>: 30.0row [00:00, 19.1krow/s]" or "<desc>: 100%|████| 50/50 [00:00<…]".
TQDM_BAR = re.compile(r"\w: .*\[\d\d:\d\d")


@contextmanager
def terminal() -> Iterator[tuple[io.TextIOWrapper, Callable[[], str]]]:
    """A writable pseudo-terminal and a function returning what was written to it."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    chunks: list[bytes] = []

    def written() -> str:
        while True:
            try:
                chunk = os.read(master, 65536)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r\n", "\n")

    tty = os.fdopen(slave, "w", encoding="utf-8")
    try:
        yield tty, written
    finally:
        tty.close()
        os.close(master)


def import_items_args(tmp_path: Path) -> list[str]:
    rows = "".join(f"IMP-{n},Imported {n},{n}.50,{n}\n" for n in range(1, 51))
    path = tmp_path / "items.csv"
    path.write_text("sku,name,price,stock_quantity\n" + rows, encoding="utf-8")
    return ["import_items", str(path)]


def generate_readings_args(tmp_path: Path) -> list[str]:
    SensorFactory(code="G")
    return ["generate_readings", "--sensor", "G", "--days", "0.5", "--seed", "7"]


def import_readings_args(tmp_path: Path) -> list[str]:
    SensorFactory(code="R")
    rows = "".join(f"2026-01-01T00:{n:02d}:00Z,R,{50 + n}\n" for n in range(60))
    path = tmp_path / "readings.csv"
    path.write_text("timestamp,sensor,value\n" + rows, encoding="utf-8")
    return ["import_readings", str(path)]


def export_data_args(tmp_path: Path) -> list[str]:
    ItemFactory.create_batch(30)
    return ["export_data", "items", "--format", "csv", "--storage", "local"]


def rebuild_leaderboards_args(tmp_path: Path) -> list[str]:
    player = PlayerFactory(username="bar-player")
    for points in (300, 450, 120):
        make_score(player, points=points)
    return ["rebuild_leaderboards"]


LONG_COMMANDS = {
    "import_items": import_items_args,
    "generate_readings": generate_readings_args,
    "import_readings": import_readings_args,
    "export_data": export_data_args,
    "rebuild_leaderboards": rebuild_leaderboards_args,
}


def bar_expected(name: str) -> bool:
    # On PostgreSQL the leaderboards are rebuilt by one INSERT ... SELECT: no rows pass through
    # Python, so there is nothing to count and no bar.
    return not (name == "rebuild_leaderboards" and connection.vendor == "postgresql")


@pytest.mark.parametrize("name", sorted(LONG_COMMANDS))
def test_a_long_command_draws_a_progress_bar_on_a_terminal(name, tmp_path, capsys):
    args = LONG_COMMANDS[name](tmp_path)

    with terminal() as (tty, written):
        call_command(*args, stdout=tty)
        tty.flush()
        out = written()
    err = capsys.readouterr().err

    if bar_expected(name):
        assert TQDM_BAR.search(err), f"{name}: no progress bar on stderr:\n{err!r}"
    else:
        assert err == ""
    assert out.strip(), f"{name}: no summary on the terminal"


# export_data prints the key, rows and bytes on lines of their own for scripts (SPEC), then its
# summary; every other command prints one line.
SUMMARY_LINES = {"export_data": 5}


@pytest.mark.parametrize("name", sorted(LONG_COMMANDS))
def test_a_long_command_prints_one_summary_line_and_no_bar_in_a_pipe(name, tmp_path, capsys):
    args = LONG_COMMANDS[name](tmp_path)
    out = io.StringIO()

    call_command(*args, stdout=out)
    err = capsys.readouterr().err

    assert err == ""
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert len(lines) == SUMMARY_LINES.get(name, 1), f"{name}: {out.getvalue()!r}"
