"""A wide (or tall) canvas covered by overlapping square windows."""
from __future__ import annotations

from functools import cached_property

import torch

from ..spaces.base import ViewSubset
from ..spaces.indexed import IndexedSpace


def window_starts(length: int, window: int, stride: int, wrap: bool) -> list[int]:
    """Start offsets of windows along one axis; the last window ends at the edge unless ``wrap``."""
    if wrap:
        return list(range(0, length, stride))
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


MAX_WINDOWS = 10_000
"""The most windows a canvas may have: each is a model input at every step (41 for the original's wide image, 441
for an 8192² image at window 64 and stride 48 latent pixels)."""


def window_count(height: int, width: int, window: int, stride: int, wrap: bool, wrap_vertical: bool = False) -> int:
    """How many windows a canvas has (without building them)."""
    return len(window_starts(height, window, stride, wrap_vertical)) * len(window_starts(width, window, stride, wrap))


def windows_problem(height: int, width: int, window: int, stride: int, wrap: bool, unit: int = 1,
                    name: str = "latent pixels", wrap_vertical: bool = False) -> str | None:
    """Why a canvas has too many windows to sample, with the numbers and the fix (None when it has few enough).
    Sizes are in latent pixels; the message gives them times ``unit`` in ``name``."""
    count = lambda step: window_count(height, width, window, step, wrap, wrap_vertical)  # noqa: E731
    if count(stride) <= MAX_WINDOWS:
        return None
    enough = next((s for s in range(stride, window + 1) if count(s) <= MAX_WINDOWS), None)
    fix = f"raise the stride to at least {enough * unit} {name}" if enough else "make the canvas smaller or the " \
                                                                               "window larger"
    return (f"A {height * unit}x{width * unit} canvas seen through {window * unit}x{window * unit} windows every "
            f"{stride * unit} {name} has {count(stride):,} windows, more than the {MAX_WINDOWS:,} that can be sampled "
            f"(each is a model input at every step): {fix}.")


def coarse_problem(window: int, stride: int, coarse_until: float, unit: int = 1, name: str = "latent pixels") -> \
        str | None:
    """Why a canvas cannot run its first ``coarse_until`` of the steps on windows twice the ``stride`` apart (None
    when it can); sizes are in latent pixels, given times ``unit`` in ``name``."""
    if not 0.0 <= coarse_until <= 1.0:
        return f"coarse_until is a fraction of the steps, in [0, 1]; got {coarse_until}."
    if coarse_until > 0 and 2 * stride > window:
        return (f"coarse_until runs windows {2 * stride * unit} {name} apart (twice the stride), which leaves gaps "
                f"between windows {window * unit} {name} wide: use a stride of at most half the window, or set "
                "coarse_until to 0.")
    return None


def _centres(window: int) -> torch.Tensor:
    return torch.arange(window, dtype=torch.float32) + 0.5


WEIGHTINGS = {
    "taper": lambda window, stride: (torch.minimum(_centres(window), window - _centres(window))
                                     / max(stride / 2, 1)).clamp(max=1),
    "flat": lambda window, stride: torch.ones(window),
    "pyramid": lambda window, stride: 1 - (2 * _centres(window) / window - 1).abs(),
}
"""Weight profiles ``[window]`` of a window's pixels along each axis (the 2D weight is their product)."""


class WideCanvas(IndexedSpace):
    """A ``height`` × ``width`` canvas seen through ``window`` × ``window`` crops every ``stride``.

    Sizes are in tensor units (latent pixels for a latent canvas); ``window_origins`` ``[N, 2]`` are the
    windows' top-left corners (row, column). Windows cover every canvas pixel,
    the right and bottom edges included; with ``wrap`` the canvas is a horizontal loop, so windows
    run over the right edge back to the left and the result tiles seamlessly left to right; with
    ``wrap_vertical`` likewise top to bottom (both: a torus, a texture that tiles in both directions).

    ``weighting`` says how windows are averaged: "taper" (default) weighs each window's pixels less over
    half a stride at its borders, so a window enters and leaves the mean gradually and leaves no seam;
    "flat" is the original's plain mean; "pyramid" falls linearly from the centre (ComfyUI's context
    windows). Measured on exact Tweedie denoisers of photo patches, grey textures and smooth fields at the
    workflow's 512×3072 canvas, window 64 and stride 8 (benchmarks/wide_canvas_seams.py, 30 seeds each): seams
    (jumps at window borders over jumps elsewhere) 0.98–1.02 tapered vs 1.19–3.37 flat; the windows' distance to
    the data within 0.5 % of the flat mean's (pyramid: 2–5 % farther).

    ``coarse_until``: for that first fraction of the steps the model runs only the windows of twice the stride (every
    other window; :attr:`coarse_windows`), whose tapered mean gives the others their x0; 0 runs every window at every
    step (the original). At the workflow's canvas, 0.8 keeps seams and distance to the data within 1.3 % of every
    window's on photos, textures and fields (benchmarks/wide_canvas_frontier.py) with 25 windows per step for 41.
    """

    def __init__(self, height: int, width: int, window: int = 64, stride: int = 8, wrap: bool = False,
                 weighting: str = "taper", wrap_vertical: bool = False, coarse_until: float = 0.0):
        if window <= 0 or stride <= 0:
            raise ValueError(f"window and stride must be positive; got window={window}, stride={stride}.")
        if stride > window:
            raise ValueError(f"stride {stride} is larger than the window {window}: the windows would leave gaps. "
                             "Use a stride no larger than the window.")
        if height < window or width < window:
            raise ValueError(f"The canvas {height}x{width} is smaller than one {window}x{window} window. "
                             "Make the canvas at least one window high and wide.")
        if weighting not in WEIGHTINGS:
            raise ValueError(f"Unknown window weighting {weighting!r}; use one of {', '.join(WEIGHTINGS)}.")
        problem = coarse_problem(window, stride, coarse_until) \
            or windows_problem(height, width, window, stride, wrap, wrap_vertical=wrap_vertical)
        if problem:
            raise ValueError(problem)
        self.height, self.width, self.window, self.stride, self.wrap = height, width, window, stride, wrap
        self.weighting, self.wrap_vertical, self.coarse_until = weighting, wrap_vertical, coarse_until
        self.coarse_step = False
        rows = torch.tensor(window_starts(height, window, stride, wrap_vertical))
        cols = torch.tensor(window_starts(width, window, stride, wrap))
        offsets = torch.arange(window)
        y = (rows[:, None, None, None] + offsets[None, None, :, None]).expand(-1, len(cols), window, window)
        x = (cols[None, :, None, None] + offsets[None, None, None, :]).expand(len(rows), -1, window, window)
        x, y = (x % width if wrap else x), (y % height if wrap_vertical else y)
        index = (y * width + x).reshape(-1, window, window)
        self.window_origins = torch.cartesian_prod(rows, cols)
        """Each window's top-left corner on the canvas, ``[N, 2]`` (row, column), in the views' order."""
        profile = WEIGHTINGS[weighting](window, stride)
        super().__init__((height, width), index, (profile[:, None] * profile[None, :]).expand(len(index), -1, -1))

    @cached_property
    def coarse_windows(self) -> ViewSubset:
        """The windows every twice the stride: their indices among this canvas's windows ``[M]`` and their canvas,
        tapered for that stride (every such window is one of this canvas's: its start is a multiple of the stride, or
        the last start)."""
        coarse = WideCanvas(self.height, self.width, self.window, 2 * self.stride, self.wrap, self.weighting,
                            self.wrap_vertical)
        index = {origin: view for view, origin in enumerate(map(tuple, self.window_origins.tolist()))}
        return ViewSubset(torch.tensor([index[tuple(origin)] for origin in coarse.window_origins.tolist()]), coarse)

    def begin_run(self) -> None:
        super().begin_run()
        self.coarse_step = False

    def begin_step(self, step: int, total: int) -> None:
        self.coarse_step = step < self.coarse_until * total

    def step_views(self) -> ViewSubset | None:
        return self.coarse_windows if self.coarse_step else None

    def build_scaled(self, factor: int) -> WideCanvas:
        return WideCanvas(self.height * factor, self.width * factor, self.window * factor,
                          self.stride * factor, self.wrap, self.weighting, self.wrap_vertical, self.coarse_until)

    def __repr__(self) -> str:
        coarse = f", coarse_until={self.coarse_until}" if self.coarse_until else ""
        return (f"WideCanvas({self.height}x{self.width}, window={self.window}, stride={self.stride}, "
                f"wrap={self.wrap}, wrap_vertical={self.wrap_vertical}, {self.weighting}, views={self.num_views}"
                f"{coarse})")
