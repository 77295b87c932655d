"""Animations that turn an anagram's canonical image into each of its views."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .space import AnagramSpace
from .views import in_circle

TURNS = {"rotate_cw": 90.0, "rotate_ccw": -90.0, "rotate_180": 180.0, "inner_circle": 180.0}
"""Clockwise degrees of the views animated as a turn (``rotate`` and ``inner_rotate`` use the space's angle)."""


def _sample(image: Tensor, rows: Tensor, cols: Tensor, background: float) -> Tensor:
    """Bilinear ``image`` ``[C, S, S]`` at pixel coordinates ``rows``/``cols`` ``[S, S]``; outside: ``background``."""
    size = image.shape[-1]
    grid = torch.stack([cols, rows], -1).float() * (2 / size) + (1 / size - 1)
    ones = torch.ones_like(image[:1])
    out = F.grid_sample(torch.cat([image, ones])[None], grid[None], align_corners=False)[0]
    return out[:-1] + (1 - out[-1:]) * background


def _turned(image: Tensor, degrees: float, inside: Tensor | None, background: float) -> Tensor:
    size = image.shape[-1]
    i = torch.arange(size, dtype=torch.float64)
    rows, cols = torch.meshgrid(i, i, indexing="ij")
    c, theta = (size - 1) / 2, math.radians(degrees)
    y, x = rows - c, cols - c
    turned = _sample(image, -x * math.sin(theta) + y * math.cos(theta) + c,
                     x * math.cos(theta) + y * math.sin(theta) + c, background)
    return turned if inside is None else torch.where(inside, turned, image)


def _folded(image: Tensor, t: float, dim: int, background: float) -> Tensor:
    """A card flip about the middle of ``dim`` (-2: rows, upside down; -1: columns, mirrored)."""
    size = image.shape[-1]
    i = torch.arange(size, dtype=torch.float64)
    rows, cols = torch.meshgrid(i, i, indexing="ij")
    c, scale = (size - 1) / 2, math.cos(math.pi * t)
    scale = math.copysign(max(abs(scale), 1e-3), scale)
    if dim == -2:
        rows = c + (rows - c) / scale
    else:
        cols = c + (cols - c) / scale
    return _sample(image, rows, cols, background)


def _moved(image: Tensor, index: Tensor, t: float, background: float) -> Tensor:
    """Each view pixel's canonical pixel carried in a straight line from its place to the view's place."""
    size = image.shape[-1]
    i = torch.arange(size)
    rows, cols = torch.meshgrid(i, i, indexing="ij")
    src_rows, src_cols = torch.div(index, size, rounding_mode="floor"), index % size
    at_rows = ((1 - t) * src_rows + t * rows).round().long().clamp(0, size - 1)
    at_cols = ((1 - t) * src_cols + t * cols).round().long().clamp(0, size - 1)
    frame = torch.full_like(image, background)
    frame[:, at_rows, at_cols] = image[:, src_rows, src_cols]
    return frame


def view_frame(image: Tensor, space: AnagramSpace, view: int, t: float, background: float = 1.0) -> Tensor:
    """``image`` ``[C, S, S]`` (the canonical image in [0, 1], any multiple of the space's size)
    a fraction ``t`` of the way to view ``view``; ``t = 1`` is the view itself."""
    name = space.view_names[view]
    pixels = space.scaled(image.shape[-1] // space.size)
    if name in TURNS or name in ("rotate", "inner_rotate"):
        inside = in_circle(pixels.size, pixels.cell, 0.375 * pixels.size) if name.startswith("inner_") else None
        return _turned(image, t * TURNS.get(name, space.options.rotate_angle), inside, background)
    if name in ("flip", "flip_horizontal"):
        return _folded(image, t, -2 if name == "flip" else -1, background)
    if name == "negate":
        return (1 - t) * image + t * (1 - image)
    return _moved(image, pixels.index[view, ..., 0], t, background)


def anagram_animation(image: Tensor, space: AnagramSpace, frames_per_turn: int = 24, hold: int = 12,
                      background: float = 1.0) -> Tensor:
    """Frames ``[F, C, S, S]``: from the canonical image to each view and back, pausing ``hold`` frames."""
    frames = []
    ease = [0.5 - 0.5 * math.cos(math.pi * k / (frames_per_turn - 1)) for k in range(frames_per_turn)]
    for view, name in enumerate(space.view_names):
        if name == "identity":
            continue
        there = [view_frame(image, space, view, t, background) for t in ease]
        frames += [there[0]] * hold + there + [there[-1]] * hold + there[::-1]
    return torch.stack(frames or [image])
