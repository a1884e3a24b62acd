"""Bounds of the sensors endpoints' query parameters (parsed by ``targets_site.query``)."""

from __future__ import annotations

PLOT_WIDTH = (200, 4000, 1000)  # min, max, default (pixels)
PLOT_HEIGHT = (150, 3000, 450)
