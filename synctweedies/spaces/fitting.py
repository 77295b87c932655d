"""Unprojection by optimisation, for maps that interpolate (n-to-1) and have no exact inverse."""
from __future__ import annotations

import torch
from torch import Tensor

from ..progress import checkpoint
from .base import CanonicalSpace


def fit_canonical(space: CanonicalSpace, views: Tensor, start: Tensor, weights: Tensor,
                  iterations: int, lr: float, loss: str = "mse") -> Tensor:
    """The canonical ``[C, H, W]`` whose projection best matches ``views`` (``[N, C, h, w]``).

    Minimises the ``weights``-weighted (``[N, 1, h, w]``) mean squared ("mse") or absolute ("l1", the
    original's) error of ``space.project`` with ``iterations`` Adam steps of learning rate ``lr`` from
    ``start`` ``[C, H, W]``.
    """
    target = views.detach().float()
    weights = weights.detach().float().expand(-1, 1, -1, -1)
    total = weights.sum() * target.shape[1]
    canonical = start.detach().float().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([canonical], lr=lr)
    with torch.enable_grad():
        for _ in range(iterations):
            checkpoint()
            optimizer.zero_grad()
            error = space.project(canonical) - target
            ((weights * (error.abs() if loss == "l1" else error.square())).sum() / total).backward()
            optimizer.step()
    return canonical.detach().to(views.dtype)
