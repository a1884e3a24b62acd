"""The shot group drawn on the bullseye, as PNG bytes (matplotlib Figure + Agg, no pyplot)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from games import rules

MAX_VIEW = 400  # pixels from the centre; shots further out are drawn at the edge


def _rgb(colour: tuple[int, int, int]) -> tuple[float, float, float]:
    red, green, blue = colour
    return (red / 255, green / 255, blue / 255)


def target_png(
    *, mode: str, shots: Sequence[dict[str, Any]] | None, title: str = "", size_px: int = 480
) -> bytes:
    """Rings red, white, blue, yellow, green, black, orange from the centre out; hits are dots,
    misses are crosses. In ``moving`` mode the target is the square the round was played on."""
    shots = list(shots or [])
    dpi = 100
    figure = Figure(figsize=(size_px / dpi, size_px / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if mode == "moving":
        # The target was the bouncing square: draw it as it was, not rings it never had.
        half = rules.SQUARE_HALF
        radius = half
        axes.add_patch(
            Rectangle(
                (-half, -half),
                2 * half,
                2 * half,
                facecolor=_rgb(rules.SQUARE_RGB),
                edgecolor="0.2",
                linewidth=1.5,
            )
        )
    else:
        radius = rules.BULLSEYE_RADIUS
        for ring in range(len(rules.RING_POINTS), 0, -1):
            axes.add_patch(
                Circle(
                    (0, 0),
                    ring * rules.RING_WIDTH,
                    facecolor=_rgb(rules.RING_RGB[ring - 1]),
                    edgecolor="0.4",
                    linewidth=0.6,
                )
            )
    far = max([radius * 1.3, *(max(abs(s["x"]), abs(s["y"])) + 10 for s in shots)])
    view: float = min(far, MAX_VIEW)

    def clip(value: float) -> float:
        return max(-view, min(view, value))

    hits = [(clip(s["x"]), -clip(s["y"])) for s in shots if s["hit"]]
    misses = [(clip(s["x"]), -clip(s["y"])) for s in shots if not s["hit"]]
    if hits:
        xs, ys = zip(*hits, strict=True)
        axes.scatter(
            xs,
            ys,
            s=28,
            c="lime",
            edgecolors="black",
            zorder=3,
            label=f"hits ({len(hits)})",
        )
    if misses:
        xs, ys = zip(*misses, strict=True)
        axes.scatter(
            xs,
            ys,
            s=40,
            c="magenta",
            marker="x",
            zorder=3,
            label=f"misses ({len(misses)})",
        )
    axes.set_xlim(-view, view)
    axes.set_ylim(-view, view)
    axes.set_aspect("equal")
    axes.set_facecolor("0.92")
    axes.set_xticks([])
    axes.set_yticks([])
    if hits or misses:
        axes.legend(loc="upper right", fontsize=8, framealpha=0.9)
    if title:
        axes.set_title(title, fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
