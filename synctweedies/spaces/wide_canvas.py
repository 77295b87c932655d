"""A wide (or tall) canvas covered by overlapping square windows."""
from __future__ import annotations

import torch

from .indexed import IndexedSpace


def window_starts(length: int, window: int, stride: int, wrap: bool) -> list[int]:
    """Start offsets of windows along one axis; the last window ends at the edge unless ``wrap``."""
    if wrap:
        return list(range(0, length, stride))
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


class WideCanvas(IndexedSpace):
    """A ``height`` × ``width`` canvas seen through ``window`` × ``window`` crops every ``stride``.

    Sizes are in tensor units (latent pixels for a latent canvas). Windows cover every canvas pixel,
    the right and bottom edges included; with ``wrap`` the canvas is a horizontal loop, so windows
    run over the right edge back to the left and the result tiles seamlessly left to right.
    """

    def __init__(self, height: int, width: int, window: int = 64, stride: int = 8, wrap: bool = False):
        if window <= 0 or stride <= 0:
            raise ValueError(f"window and stride must be positive; got window={window}, stride={stride}.")
        if stride > window:
            raise ValueError(f"stride {stride} is larger than the window {window}: the windows would leave gaps. "
                             "Use a stride no larger than the window.")
        if height < window or width < window:
            raise ValueError(f"The canvas {height}x{width} is smaller than one {window}x{window} window. "
                             "Make the canvas at least one window high and wide.")
        self.height, self.width, self.window, self.stride, self.wrap = height, width, window, stride, wrap
        rows = torch.tensor(window_starts(height, window, stride, wrap=False))
        cols = torch.tensor(window_starts(width, window, stride, wrap))
        offsets = torch.arange(window)
        y = (rows[:, None, None, None] + offsets[None, None, :, None]).expand(-1, len(cols), window, window)
        x = (cols[None, :, None, None] + offsets[None, None, None, :]).expand(len(rows), -1, window, window)
        if wrap:
            x = x % width
        index = (y * width + x).reshape(-1, window, window)
        super().__init__((height, width), index)

    def build_scaled(self, factor: int) -> WideCanvas:
        return WideCanvas(self.height * factor, self.width * factor, self.window * factor,
                          self.stride * factor, self.wrap)

    def __repr__(self) -> str:
        return (f"WideCanvas({self.height}x{self.width}, window={self.window}, stride={self.stride}, "
                f"wrap={self.wrap}, views={self.num_views})")
