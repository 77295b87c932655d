"""Spaces whose every view pixel shows one canonical pixel (crops, flips, permutations)."""
from __future__ import annotations

import torch
from torch import Tensor

from .base import CanonicalSpace


class IndexedSpace(CanonicalSpace):
    """View pixel ``(n, i, j)`` shows canonical pixel ``index[n, i, j]`` (flat ``y * W + x``; -1: none).

    ``project`` is a gather and ``unproject`` a weighted scatter-mean, both vectorised over views.
    """

    def __init__(self, canonical_size: tuple[int, int], index: Tensor, weights: Tensor | None = None):
        if index.ndim != 3:
            raise ValueError(f"index must be [N, h, w]; got shape {list(index.shape)}")
        self.canonical_size = (int(canonical_size[0]), int(canonical_size[1]))
        self.num_views = index.shape[0]
        self.view_size = (index.shape[1], index.shape[2])
        self.index = index.long()
        valid = (self.index >= 0).float()
        self.weights = valid if weights is None else weights.float() * valid
        self._on_device: dict[torch.device, tuple[Tensor, Tensor, Tensor]] = {}

    def _buffers(self, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
        """(flat gather index ``[N*h*w]``, valid mask ``[N, 1, h, w]``, weights ``[N, 1, h, w]``) on ``device``."""
        if device not in self._on_device:
            self._on_device[device] = (
                self.index.clamp(min=0).flatten().to(device),
                (self.index >= 0).unsqueeze(1).to(device),
                self.weights.unsqueeze(1).to(device),
            )
        return self._on_device[device]

    def project(self, canonical: Tensor) -> Tensor:
        flat_index, valid, _ = self._buffers(canonical.device)
        c = canonical.shape[0]
        views = canonical.reshape(c, -1)[:, flat_index].reshape(c, self.num_views, *self.view_size)
        return views.transpose(0, 1) * valid

    def unproject(self, views: Tensor, weights: Tensor | None = None) -> tuple[Tensor, Tensor]:
        flat_index, _, own_weights = self._buffers(views.device)
        w = own_weights if weights is None else own_weights * weights.to(own_weights)
        c = views.shape[1]
        height, width = self.canonical_size
        weighted = (views.float() * w).transpose(0, 1).reshape(c, -1)
        total = torch.zeros(c, height * width, device=views.device).index_add_(1, flat_index, weighted)
        coverage = torch.zeros(height * width, device=views.device).index_add_(0, flat_index, w.flatten())
        canonical = total / coverage.clamp_min(1e-12)
        return canonical.reshape(c, height, width).to(views.dtype), coverage.reshape(1, height, width)
