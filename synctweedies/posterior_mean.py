"""The exact Tweedie denoiser of a finite data set: a closed-form model for tests and benchmarks."""
from __future__ import annotations

import torch
from torch import Tensor


class PosteriorMeanDenoiser:
    """``D(x, sigma) = E[x0 | x]`` for ``x = x0 + sigma * eps`` and ``x0`` uniform over ``data``.

    ``data`` is ``[M, C, h, w]``; calls take ``x`` ``[N, C, h, w]`` and return ``[N, C, h, w]``.
    """

    def __init__(self, data: Tensor):
        self.data = data.double().flatten(1)
        self.shape = data.shape[1:]
        self.sq_norms = (self.data ** 2).sum(1)

    def __call__(self, x: Tensor, sigma: Tensor | float) -> Tensor:
        flat = x.double().flatten(1)
        sq_dist = (flat ** 2).sum(1, keepdim=True) - 2 * flat @ self.data.T + self.sq_norms
        weights = torch.softmax(-sq_dist / (2 * float(sigma) ** 2), dim=1)
        return (weights @ self.data).reshape(x.shape).to(x.dtype)

    def distance_to_data(self, x: Tensor) -> Tensor:
        """Root-mean-square distance of each of ``x`` (``[N, C, h, w]``) to its nearest data item, ``[N]``."""
        flat = x.double().flatten(1)
        sq_dist = (flat ** 2).sum(1, keepdim=True) - 2 * flat @ self.data.T + self.sq_norms
        return (sq_dist.min(1).values.clamp_min(0) / flat.shape[1]).sqrt()


def per_view_denoiser(denoisers: list[PosteriorMeanDenoiser]):
    """A view denoiser that runs ``denoisers[n]`` on view ``n`` (``[N, C, h, w]`` → ``[N, C, h, w]``)."""
    def denoise(x: Tensor, sigma: Tensor | float) -> Tensor:
        return torch.cat([denoiser(view[None], sigma) for denoiser, view in zip(denoisers, x)])
    return denoise
