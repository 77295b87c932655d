"""The original's ControlNet strength over the steps, as its code computes it: its help text says the strength
rises from ``--conditioning_scale`` to ``--conditioning_scale_end``, but the code makes it fall."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StrengthRamp:
    """The strength at each step: ``scale`` at the first; after it, from the previous step's timestep ``t`` (of
    ``timesteps``; pure noise at ``timesteps``), with progress ``p = 1 - t / timesteps``: ``scale`` before
    ``guidance_start``, ``end_scale`` after ``guidance_end``, and between them ``a * scale + (1 - a) * end_scale``
    with ``a`` rising from 0 to 1 (the original's meshes and Gaussians: 0.7, then about 0.89 falling to 0.70)."""

    scale: float = 0.7
    end_scale: float = 0.9
    guidance_start: float = 0.0
    guidance_end: float = 0.99

    def strength(self, step: int, previous_timestep: float | None, timesteps: int = 1000) -> float:
        if step == 0 or previous_timestep is None:
            return self.scale
        progress = 1 - previous_timestep / timesteps
        if progress < self.guidance_start:
            return self.scale
        if progress > self.guidance_end:
            return self.end_scale
        a = (progress - self.guidance_start) / (self.guidance_end - self.guidance_start)
        return a * self.scale + (1 - a) * self.end_scale
