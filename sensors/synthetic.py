"""Seeded sine-plus-noise series for demos and benchmarks (framework-free)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np


@dataclass(frozen=True)
class SineSpec:
    base: float = 55.0
    amplitude: float = 10.0
    period_s: float = 86_400.0
    noise: float = 1.0
    phase: float = 0.0


def sine_series(
    *, start: datetime, step_s: float, count: int, spec: SineSpec, seed: int
) -> tuple[list[datetime], np.ndarray]:
    """``count`` timestamps ``step_s`` apart from ``start``, and their values (seeded)."""
    if count < 0 or step_s <= 0:
        raise ValueError("count must be >= 0 and step_s > 0")
    rng = np.random.default_rng(seed)
    offsets = np.arange(count, dtype=np.float64) * step_s
    values = (
        spec.base
        + spec.amplitude * np.sin(2 * np.pi * offsets / spec.period_s + spec.phase)
        + rng.normal(0.0, spec.noise, size=count)
    )
    timestamps = [start + timedelta(seconds=float(offset)) for offset in offsets]
    return timestamps, np.round(values, 3)
