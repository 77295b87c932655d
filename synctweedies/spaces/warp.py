"""Unprojection by backward warping: every canonical element reads each view that sees it.

A panorama pixel or a mesh texel knows where it lands in each view that sees it; it samples that view there
(bilinear) and the canonical element is the weighted mean over those views. Every view thus covers all the
canonical elements it sees, whatever the ratio of canonical to view resolution.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class BackwardWarp:
    """``P`` (canonical element, view) pairs: element ``target[p]`` (flat index into ``[H * W]``) reads the views
    at the flat pixels ``taps[p]`` (``[P, 4]`` into ``[N * h * w]``) with bilinear ``tap_weights[p]`` and counts
    with ``weight[p]`` (``[P]``) in the mean."""

    target: Tensor
    taps: Tensor
    tap_weights: Tensor
    weight: Tensor
    size: tuple[int, int]

    @classmethod
    def join(cls, parts: list[BackwardWarp]) -> BackwardWarp:
        """The pairs of several warps of the same canonical size (e.g. one per view)."""
        return cls(*(torch.cat([getattr(part, name) for part in parts]) for name in
                     ("target", "taps", "tap_weights", "weight")), parts[0].size)

    def to(self, device: torch.device) -> BackwardWarp:
        return BackwardWarp(self.target.to(device), self.taps.to(device), self.tap_weights.to(device),
                            self.weight.to(device), self.size)

    def seen(self) -> Tensor:
        """``[H, W]`` bool: the elements some view sees with a positive weight."""
        seen = torch.zeros(self.size[0] * self.size[1], dtype=torch.bool, device=self.target.device)
        seen[self.target[self.weight > 0]] = True
        return seen.reshape(self.size)

    def unproject(self, views: Tensor, weight: Tensor | None = None,
                  view_weights: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Views ``[N, C, h, w]`` → (weighted mean ``[C, H, W]``, 0 where no view sees; total weight ``[1, H, W]``).

        ``weight`` (``[P]``) replaces the pairs' own weights; ``view_weights`` (``[N, 1, h, w]``) multiply them,
        sampled like the views.
        """
        c = views.shape[1]
        weight = self.weight if weight is None else weight
        flat = views.float().transpose(0, 1).reshape(c, -1)
        values = (flat[:, self.taps.flatten()].reshape(c, *self.taps.shape) * self.tap_weights).sum(-1)
        if view_weights is not None:
            weight = weight * (view_weights.float().reshape(-1)[self.taps] * self.tap_weights).sum(-1)
        elements = self.size[0] * self.size[1]
        total = torch.zeros(c, elements, device=views.device).index_add_(1, self.target, values * weight)
        coverage = torch.zeros(elements, device=views.device).index_add_(0, self.target, weight)
        canonical = total / coverage.clamp_min(1e-12)
        return canonical.reshape(c, *self.size).to(views.dtype), coverage.reshape(1, *self.size)
