"""The original's background schedule for mesh views: random solid colours early, black or white later."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

COLOURS = {"black": (-1, -1, -1), "white": (1, 1, 1), "maroon": (0, -1, -1), "red": (1, -1, -1),
           "olive": (0, 0, -1), "yellow": (1, 1, -1), "green": (-1, 0, -1), "lime": (-1, 1, -1),
           "teal": (-1, 0, 0), "aqua": (-1, 1, 1), "navy": (-1, -1, 0), "blue": (-1, -1, 1),
           "purple": (0, -1, 0), "fuchsia": (1, -1, 1)}
"""The original's background colours, RGB in [-1, 1]; black and white first."""


def colour_images(size: int = 64) -> Tensor:
    """Every colour of :data:`COLOURS` as a solid image ``[K, size, size, 3]`` in [0, 1] (for a VAE to encode), as
    the original encodes them: each channel ``c`` becomes ``c · (c + 1) / 2``, so a channel at 0 is black like one
    at -1 (maroon, olive, green, teal, navy and purple encode as black)."""
    colours = torch.tensor(list(COLOURS.values()), dtype=torch.float32)
    rgb = colours * (0.5 * colours + 0.5)
    return rgb[:, None, None, :].expand(-1, size, size, -1).contiguous()


@dataclass
class BackgroundSchedule:
    """Which colour of :data:`COLOURS` each view's background shows at each step.

    Until ``change`` of the schedule every view gets a new random colour each step, then a random black or
    white each step until ``end``, then keeps its last one (the original's ``shuffle_bg_change`` and
    ``shuffle_bg_end``). ``change = end = 0`` keeps one colour throughout: ``fixed``, a :data:`COLOURS` name.
    """

    change: float = 0.4
    end: float = 0.8
    seed: int = 0
    fixed: str = "black"

    def __post_init__(self):
        if not 0 <= self.change <= self.end <= 1:
            raise ValueError(f"Background shuffling needs 0 <= shuffle_bg_change <= shuffle_bg_end <= 1; got "
                             f"{self.change} and {self.end}.")
        if self.fixed not in COLOURS:
            raise ValueError(f"Unknown background colour {self.fixed!r}; pick one of {', '.join(COLOURS)}.")

    def colours(self, step: int, total: int, previous: Tensor | None, num_views: int) -> Tensor:
        """Colour indices ``[N]`` for ``step`` of ``total`` given the previous step's (None before the first)."""
        generator = torch.Generator().manual_seed(self.seed * 100003 + step)
        progress = step / max(total, 1)
        if progress < self.change:
            return torch.randint(len(COLOURS), (num_views,), generator=generator)
        if progress < self.end:
            return torch.randint(2, (num_views,), generator=generator)
        if previous is None:
            return torch.full((num_views,), list(COLOURS).index(self.fixed))
        return previous
