"""A score's target.png shows the target the round was played on."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.image import imread

from games import rules
from games.plots import target_png


def centre_rgb(png: bytes) -> np.ndarray:
    pixels = imread(io.BytesIO(png), format="png")[..., :3]
    height, width = pixels.shape[:2]
    return pixels[height // 2 - 3 : height // 2 + 3, width // 2 - 3 : width // 2 + 3].mean(
        axis=(0, 1)
    )


def test_a_moving_round_is_drawn_on_its_square_not_on_rings():
    square = np.array(rules.SQUARE_RGB) / 255
    moving = centre_rgb(target_png(mode="moving", shots=[]))
    bullseye = centre_rgb(target_png(mode="bullseye", shots=[]))
    assert np.allclose(moving, square, atol=0.03)
    assert np.allclose(bullseye, np.array(rules.RING_RGB[0]) / 255, atol=0.03)
