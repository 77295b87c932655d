"""The original's view-dependent prompts for meshes: ", front view.", ", side view.", ... per camera."""
from __future__ import annotations

import math

from torch import Tensor


def camera_angles(positions: Tensor) -> list[tuple[float, float]]:
    """(elevation, azimuth) in degrees of cameras at ``positions`` ``[N, 3]`` around the origin (y up, azimuth 0
    on +z, the mesh's front), rounded to 1e-6° so that a rig's 30° stays 30°."""
    return [(round(math.degrees(math.asin(max(-1.0, min(1.0, y / math.hypot(x, y, z))))), 6),
             round(math.degrees(math.atan2(x, z)), 6)) for x, y, z in positions.tolist()]


def view_direction(elevation: float, azimuth: float) -> str:
    """The direction word of the prompt for a camera: "top" or "bottom" beyond 30° of elevation, otherwise
    "front" within 30° of azimuth 0, "back" from 120° on, "side" between (the original's ``azim_prompt``: its
    two top cameras, at exactly 30°, get "front" and "back")."""
    azimuth = (azimuth + 180) % 360 - 180
    if elevation > 30:
        return "top"
    if elevation < -30:
        return "bottom"
    if abs(azimuth) <= 30:
        return "front"
    return "back" if abs(azimuth) >= 120 else "side"


def negative_direction(azimuth: float) -> str:
    """The direction word of the negative prompt: none for the front cameras (strictly within 30°), "front" for
    every other camera (the original's ``azim_neg_prompt``), which keeps faces off the sides and back."""
    return "" if abs((azimuth + 180) % 360 - 180) < 30 else "front"


def with_direction(prompt: str, direction: str) -> str:
    """``prompt`` with the original's suffix: ``", front view."`` (``", view."`` for no direction)."""
    return f"{prompt}, {direction + ' ' if direction else ''}view."
