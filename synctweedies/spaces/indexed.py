"""Spaces whose view pixels are fixed linear combinations of canonical pixels (crops, flips, rotations)."""
from __future__ import annotations

import torch
from torch import Tensor

from .base import CanonicalSpace
from .taps import gather_taps, unit_variance


class IndexedSpace(CanonicalSpace):
    """View pixel ``(n, i, j)`` is ``sum_k coefficients[n, i, j, k] * canonical[index[n, i, j, k]]``.

    ``index`` is ``[N, h, w]`` (one tap) or ``[N, h, w, K]`` of flat canonical indices ``y * W + x``,
    -1 for a tap that reads nothing; ``coefficients`` (default 1) have the same shape and may be
    negative (a negated view). ``weights`` (``[N, h, w]``) weigh view pixels in ``unproject``.

    ``project`` is a gather and ``unproject`` the adjoint normalised by ``|coefficients|``: with one
    tap of coefficient ±1 it is the exact weighted mean of the views, with interpolating taps
    (n-to-1 maps) a weighted splat that :func:`~synctweedies.spaces.fitting.fit_canonical` refines.
    """

    def __init__(self, canonical_size: tuple[int, int], index: Tensor, weights: Tensor | None = None,
                 coefficients: Tensor | None = None):
        if index.ndim == 3:
            index = index.unsqueeze(-1)
        if index.ndim != 4:
            raise ValueError(f"index must be [N, h, w] or [N, h, w, K]; got shape {list(index.shape)}")
        self.canonical_size = (int(canonical_size[0]), int(canonical_size[1]))
        self.num_views = index.shape[0]
        self.view_size = (index.shape[1], index.shape[2])
        self.index = index.long()
        taps = torch.ones(index.shape) if coefficients is None else coefficients.float().reshape(index.shape)
        self.coefficients = taps * (self.index >= 0)
        valid = (self.coefficients != 0).any(-1).float()
        self.weights = valid if weights is None else weights.float() * valid
        self._on_device: dict[torch.device, tuple[Tensor, Tensor, Tensor]] = {}

    def _buffers(self, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
        """(index ``[N, h, w, K]`` with -1 read as 0, coefficients ``[N, h, w, K]``, weights ``[N, 1, h, w]``)
        on ``device``."""
        if device not in self._on_device:
            self._on_device[device] = (
                self.index.clamp(min=0).to(device),
                self.coefficients.to(device),
                self.weights.unsqueeze(1).to(device),
            )
        return self._on_device[device]

    def project(self, canonical: Tensor) -> Tensor:
        index, coefficients, _ = self._buffers(canonical.device)
        return gather_taps(canonical, index, coefficients)

    def unproject(self, views: Tensor, weights: Tensor | None = None) -> tuple[Tensor, Tensor]:
        index, coefficients, own_weights = self._buffers(views.device)
        flat_index, coefficients = index.flatten(), coefficients.unsqueeze(1)
        w = own_weights if weights is None else own_weights * weights.to(own_weights)
        c = views.shape[1]
        height, width = self.canonical_size
        weighted = ((views.float() * w).unsqueeze(-1) * coefficients).transpose(0, 1).reshape(c, -1)
        total = torch.zeros(c, height * width, device=views.device).index_add_(1, flat_index, weighted)
        tap_weights = (w.unsqueeze(-1) * coefficients.abs()).flatten()
        coverage = torch.zeros(height * width, device=views.device).index_add_(0, flat_index, tap_weights)
        canonical = total / coverage.clamp_min(1e-12)
        return canonical.reshape(c, height, width).to(views.dtype), coverage.reshape(1, height, width)

    def initial_noise(self, channels: int, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float32) -> Tensor:
        """Projected canonical noise, rescaled by the taps' norm so interpolated pixels keep unit variance."""
        return unit_variance(super().initial_noise(channels, generator, dtype), self.coefficients)
