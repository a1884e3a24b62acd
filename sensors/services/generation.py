from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sensors.models import Sensor
from sensors.services.ingest import IngestResult, ReadingWriter, write_readings

if TYPE_CHECKING:
    from sensors.synthetic import SineSpec

_CHUNK = 10_000


def readings_generate(
    *,
    sensor: Sensor,
    start: datetime,
    step_s: float,
    count: int,
    spec: SineSpec,
    seed: int,
    on_chunk: Callable[[int], object] | None = None,
) -> IngestResult:
    """Store a seeded sine-plus-noise series for ``sensor``; existing timestamps are kept."""
    # numpy, imported where it is used: the admin imports these services in every command.
    from sensors.synthetic import sine_series

    timestamps, values = sine_series(start=start, step_s=step_s, count=count, spec=spec, seed=seed)

    def produce(writer: ReadingWriter) -> None:
        for begin in range(0, count, _CHUNK):
            chunk = zip(
                timestamps[begin : begin + _CHUNK],
                values[begin : begin + _CHUNK].tolist(),
                strict=True,
            )
            writer.write((sensor.id, ts, value) for ts, value in chunk)
            if on_chunk is not None:
                on_chunk(min(_CHUNK, count - begin))

    writer = write_readings(produce)
    return IngestResult(received=count, created=writer.created)
