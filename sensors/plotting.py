"""Render sensor series to PNG with matplotlib's object API (Figure + Agg canvas, never pyplot).

pyplot keeps global figure state, leaks figures that are not closed and is not thread-safe; a
``Figure`` bound to its own Agg canvas is a plain object that is garbage-collected with the request.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

import matplotlib.dates as mdates
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100
SECONDS_PER_DAY = 86400.0
BREACH_COLOUR = "#d62728"
SERIES_COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]


@dataclass
class PlotSeries:
    """One sensor's decimated line and its full-resolution breach points (seconds since epoch)."""

    code: str
    name: str
    unit: str
    t: np.ndarray
    v: np.ndarray
    breach_t: np.ndarray = field(default_factory=lambda: np.empty(0))
    breach_v: np.ndarray = field(default_factory=lambda: np.empty(0))
    low: float | None = None
    high: float | None = None


def _as_dates(seconds: np.ndarray) -> np.ndarray:
    # Matplotlib's default date epoch is 1970-01-01, so days since the Unix epoch are its dates.
    return np.asarray(seconds, dtype=np.float64) / SECONDS_PER_DAY


def _label(series: PlotSeries) -> str:
    name = series.code if series.name in ("", series.code) else f"{series.code} ({series.name})"
    return f"{name} [{series.unit}]" if series.unit else name


def render_plot(
    series: list[PlotSeries],
    *,
    width: int,
    height: int,
    title: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> bytes:
    """Draw every series, its dashed thresholds and its breach points; return PNG bytes."""
    figure = plot_figure(series, width=width, height=height, title=title, start=start, end=end)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def plot_figure(
    series: list[PlotSeries],
    *,
    width: int,
    height: int,
    title: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Figure:
    """The plot as a Figure: each series' line above its breach markers, which are filled in the
    series' own colour and ringed in the breach red (so several sensors' breaches stay apart, and
    a run of breaches never hides the line)."""
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    # Every text is drawn as written: a name or unit holding "$...$" is not mathtext (which
    # fails on "$\frac{$" and would turn any other pair of dollars into formulas).
    axes.set_title(title, parse_math=False)
    axes.set_xlabel("time (UTC)", parse_math=False)
    units = sorted({s.unit for s in series if s.unit})
    axes.set_ylabel(f"value [{', '.join(units)}]" if units else "value", parse_math=False)
    axes.grid(True, color="#dddddd", linewidth=0.6)

    drawn = 0
    thresholds: list[float] = []
    for index, item in enumerate(series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        axes.plot(
            _as_dates(item.t), item.v, color=colour, linewidth=1.0, label=_label(item), zorder=3
        )
        drawn += item.t.size
        for name, threshold in (("high", item.high), ("low", item.low)):
            if threshold is not None:
                thresholds.append(threshold)
                axes.axhline(
                    threshold,
                    color=colour,
                    linestyle="--",
                    linewidth=1.0,
                    label=f"{item.code} {name} threshold {threshold:g}",
                )
        if item.breach_t.size:
            axes.plot(
                _as_dates(item.breach_t),
                item.breach_v,
                linestyle="none",
                marker="o",
                markersize=4,
                markerfacecolor=colour,
                markeredgecolor=BREACH_COLOUR,
                markeredgewidth=1.0,
                label=f"{item.code} breach",
                zorder=2,
            )

    if start is not None and end is not None and end > start:
        axes.set_xlim(
            _as_dates(np.array([start.timestamp()]))[0], _as_dates(np.array([end.timestamp()]))[0]
        )
    if drawn == 0:
        axes.text(
            0.5,
            _clear_of(thresholds, axes.get_ylim()),
            "no readings in this range",
            ha="center",
            va="center",
            transform=axes.transAxes,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9},
        )
    locator = mdates.AutoDateLocator(tz=UTC)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
    if series:
        # Outside the axes, so the legend never hides the data it explains.
        legend = axes.legend(
            loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=8
        )
        for text in legend.get_texts():
            text.set_parse_math(False)
    figure.tight_layout()
    return figure


def _clear_of(thresholds: list[float], ylim: tuple[float, float]) -> float:
    """The height (axes fraction) for a note that no threshold line runs through."""
    low, high = ylim
    if not thresholds or high <= low:
        return 0.5
    lines = [(value - low) / (high - low) for value in thresholds]
    return max((0.5, 0.25, 0.75, 0.1, 0.9), key=lambda y: min(abs(y - line) for line in lines))
