"""Visual anagrams: one square image seen through several transforms (flips, rotations, jigsaws...)."""
from __future__ import annotations

import torch
from torch import Tensor

from .views import PIXEL_ONLY_VIEWS, VIEWS, ViewMap, ViewOptions
from ..spaces.fitting import fit_canonical
from ..spaces.indexed import IndexedSpace


def _taps(view: ViewMap, size: int) -> tuple[Tensor, Tensor]:
    """A view map → (flat canonical index ``[S, S, K]``, coefficients ``[S, S, K]``); -1 outside the image."""
    if not view.bilinear:
        rows, cols = view.rows.round().long(), view.cols.round().long()
        inside = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
        index = torch.where(inside, rows * size + cols, -1).unsqueeze(-1)
        return index, torch.full(index.shape, view.sign)
    top, left = view.rows.floor(), view.cols.floor()
    index, coefficients = [], []
    for dy in (0, 1):
        for dx in (0, 1):
            rows, cols = top + dy, left + dx
            weight = (1 - (view.rows - rows).abs()) * (1 - (view.cols - cols).abs())
            inside = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
            index.append(torch.where(inside, rows.long() * size + cols.long(), -1))
            coefficients.append(torch.where(inside, weight, 0.0))
    coefficients = torch.stack(coefficients, -1)
    total = coefficients.sum(-1, keepdim=True)
    # Pixels whose taps mostly fall outside the image show nothing; the others renormalise.
    coefficients = torch.where(total > 0.5, coefficients / total.clamp_min(1e-12), 0.0) * view.sign
    return torch.stack(index, -1), coefficients


INVERSE_FITS = {"mse": "mse", "original": "l1"}
"""How ``inverse_fit`` fits n-to-1 views: its loss (and "original" starts from the previous fit)."""


class AnagramSpace(IndexedSpace):
    """A ``size`` × ``size`` canonical image and one view per name in ``views`` (see ``VIEWS``).

    ``cell`` is the block size masks are decided on (1 on a latent grid, 8 for its pixel twin), so
    that ``scaled(8)`` moves the same blocks the latent map moves. With ``inverse_iterations`` > 0,
    ``unproject`` fits the canonical image by that many Adam steps of rate ``inverse_lr`` on the L1 error
    (n-to-1 views, the original's ``--optimize_inverse_mapping``). ``inverse_fit`` "mse" (default) fits the
    squared error from each step's splat; "original" fits the L1 error from the previous fit of the run, as the
    original does. On exact Tweedie denoisers of two photo sets (identity + rotate 45°, 10 steps of rate 0.1)
    the views end 0.26 from their data with "mse", 0.39 with "original", 0.33 unsynchronized.
    """

    def __init__(self, views: list[str], size: int, cell: int = 1, options: ViewOptions | None = None,
                 inverse_iterations: int = 0, inverse_lr: float = 0.1, inverse_fit: str = "mse"):
        unknown = [name for name in views if name not in VIEWS]
        if unknown:
            raise ValueError(f"Unknown anagram view {', '.join(map(repr, unknown))}. "
                             f"Choose from: {', '.join(VIEWS)}.")
        if not views:
            raise ValueError("An anagram needs at least one view.")
        if size <= 0 or cell <= 0 or size % cell:
            raise ValueError(f"The view size {size} must be a positive multiple of the cell size {cell}.")
        self.view_names = list(views)
        self.size, self.cell = size, cell
        self.options = options or ViewOptions()
        if inverse_fit not in INVERSE_FITS:
            raise ValueError(f"inverse_fit must be one of {', '.join(INVERSE_FITS)}; got {inverse_fit!r}.")
        self.inverse_iterations, self.inverse_lr, self.inverse_fit = inverse_iterations, inverse_lr, inverse_fit
        maps = [VIEWS[name](size, cell, self.options) for name in views]
        taps = [_taps(view, size) for view in maps]
        k = max(index.shape[-1] for index, _ in taps)
        pad = lambda t, value: torch.nn.functional.pad(t, (0, k - t.shape[-1]), value=value)  # noqa: E731
        super().__init__((size, size), torch.stack([pad(index, -1) for index, _ in taps]),
                         coefficients=torch.stack([pad(c, 0.0) for _, c in taps]))

    @property
    def pixel_space_reason(self) -> str:
        pixel_only = [name for name in self.view_names if name in PIXEL_ONLY_VIEWS
                      and not (name == "rotate" and self.options.rotate_angle % 90 == 0)]
        if not pixel_only:
            return ""
        return (f"The anagram view(s) {', '.join(pixel_only)} are not rearrangements of latent pixels "
                "(a VAE latent does not negate or turn by arbitrary angles with its image).")

    def projection_kind(self, view: int) -> str:
        """``"1-to-1"``, ``"1-to-n"`` (some canonical pixels shown twice) or ``"n-to-1"`` (interpolating)."""
        if (self.coefficients[view] != 0).sum(-1).max() > 1:
            return "n-to-1"
        shown = self.index[view][self.coefficients[view] != 0]
        return "1-to-1" if shown.numel() == shown.unique().numel() == self.size ** 2 else "1-to-n"

    def unproject(self, views: Tensor, weights: Tensor | None = None) -> tuple[Tensor, Tensor]:
        canonical, coverage = super().unproject(views, weights)
        if self.inverse_iterations > 0:
            fit_weights = self._buffers(views.device)[2]
            if weights is not None:
                fit_weights = fit_weights * weights.to(fit_weights)
            previous = self.__dict__.get("previous_fit") if self.inverse_fit == "original" else None
            start = previous if previous is not None and previous.shape == canonical.shape else canonical
            canonical = fit_canonical(self, views, start.to(canonical), fit_weights, self.inverse_iterations,
                                      self.inverse_lr, INVERSE_FITS[self.inverse_fit])
            self.previous_fit = canonical
        return canonical, coverage

    def begin_run(self) -> None:
        super().begin_run()
        self.previous_fit = None

    def build_scaled(self, factor: int) -> AnagramSpace:
        return AnagramSpace(self.view_names, self.size * factor, self.cell * factor, self.options,
                            self.inverse_iterations, self.inverse_lr, self.inverse_fit)

    def __repr__(self) -> str:
        return f"AnagramSpace({' + '.join(self.view_names)}, {self.size}x{self.size}, cell={self.cell})"
