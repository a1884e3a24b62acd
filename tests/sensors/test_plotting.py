from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
from matplotlib.image import imread

from sensors.plotting import BREACH_COLOUR, PlotSeries, render_plot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _series(code: str, high: float | None = None, low: float | None = None) -> PlotSeries:
    t = np.arange(0, 86_400, 60, dtype=float) + datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    v = 60 + 8 * np.sin(np.linspace(0, 6 * np.pi, t.size))
    mask = np.zeros(t.size, dtype=bool)
    if high is not None:
        mask |= v > high
    if low is not None:
        mask |= v < low
    return PlotSeries(code, f"Sensor {code}", "°C", t, v, t[mask], v[mask], low=low, high=high)


def _pixels(png: bytes) -> np.ndarray:
    return imread(io.BytesIO(png), format="png")


def test_the_plot_is_a_png_of_the_requested_size():
    png = render_plot([_series("A", high=65)], width=640, height=360, title="A")
    assert png.startswith(PNG_MAGIC)
    assert _pixels(png).shape[:2] == (360, 640)


def test_breach_points_are_drawn_in_the_highlight_colour():
    png = render_plot([_series("A", high=65)], width=640, height=360, title="A")
    red = np.array([int(BREACH_COLOUR[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    rgb = _pixels(png)[..., :3]
    assert np.any(np.all(np.abs(rgb - red) < 0.02, axis=-1))


def test_without_breaches_nothing_is_drawn_in_the_highlight_colour():
    png = render_plot([_series("A", high=100)], width=640, height=360, title="A")
    red = np.array([int(BREACH_COLOUR[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    rgb = _pixels(png)[..., :3]
    assert not np.any(np.all(np.abs(rgb - red) < 0.02, axis=-1))


def test_several_series_and_an_empty_plot_both_render():
    many = render_plot(
        [_series("A", high=65), _series("B", high=70), _series("C", low=48)],
        width=900,
        height=400,
        title="A, B, C",
    )
    empty = render_plot([], width=300, height=200, title="nothing")
    assert many.startswith(PNG_MAGIC) and empty.startswith(PNG_MAGIC)
    assert _pixels(empty).shape[:2] == (200, 300)


def test_names_and_units_are_drawn_as_plain_text_not_mathtext():
    series = _series("A", high=65)
    series.name, series.unit = "$\\frac{$", "$x^2$"
    png = render_plot([series], width=640, height=360, title="Sensor $\\frac{")
    assert png.startswith(PNG_MAGIC)


def test_each_sensors_breaches_are_its_own_colour_under_its_line():
    from matplotlib.colors import to_hex

    from sensors.plotting import plot_figure

    figure = plot_figure(
        [_series("A", high=65), _series("B", high=66)], width=900, height=400, title="A, B"
    )
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    for code in ("A", "B"):
        series_line = next(line for label, line in lines.items() if label.startswith(f"{code} "))
        breaches = lines[f"{code} breach"]
        assert to_hex(breaches.get_markerfacecolor()) == to_hex(series_line.get_color())
        assert to_hex(breaches.get_markeredgecolor()) == BREACH_COLOUR
        assert breaches.get_zorder() < series_line.get_zorder()  # the line stays visible
    face = {to_hex(lines[f"{code} breach"].get_markerfacecolor()) for code in ("A", "B")}
    assert len(face) == 2


def test_the_empty_plot_note_is_clear_of_the_threshold_lines():
    from sensors.plotting import plot_figure

    empty = PlotSeries("A", "Sensor A", "°C", np.empty(0), np.empty(0), low=40.0, high=65.0)
    figure = plot_figure([empty], width=640, height=360, title="A")
    axes = figure.axes[0]
    note = next(t for t in axes.texts if t.get_text() == "no readings in this range")
    low, high = axes.get_ylim()
    for threshold in (65.0, 40.0):
        assert abs(note.get_position()[1] - (threshold - low) / (high - low)) >= 0.15
