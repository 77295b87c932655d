"""A minimal k-diffusion-style sampler for running the library without a host."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .spaces import CanonicalSpace
from .sync import SyncMode, Synchronizer, ViewDenoiser, sample_synchronized, step_index

Denoiser = Callable[[Tensor, Tensor], Tensor]


def karras_sigmas(steps: int, sigma_min: float = 0.03, sigma_max: float = 14.6, rho: float = 7.0) -> Tensor:
    """Karras et al. (2022) noise levels, ``[steps + 1]``, ending with 0."""
    ramp = torch.linspace(0, 1, steps)
    inv_max, inv_min = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    sigmas = (inv_max + ramp * (inv_min - inv_max)) ** rho
    return torch.cat([sigmas, sigmas.new_zeros(1)])


@torch.no_grad()
def sample_euler(denoiser: Denoiser, x: Tensor, sigmas: Tensor,
                 callback: Callable[[int, Tensor], None] | None = None) -> Tensor:
    """Euler steps of the probability-flow ODE ``dx/dsigma = (x - D(x, sigma)) / sigma``."""
    for i in range(len(sigmas) - 1):
        denoised = denoiser(x, sigmas[i])
        if callback is not None:
            callback(i, denoised)
        x = x + (x - denoised) / sigmas[i] * (sigmas[i + 1] - sigmas[i])
    return x


def sample(denoise_views: ViewDenoiser, space: CanonicalSpace, noise: Tensor, sigmas: Tensor,
           mode: SyncMode | int = SyncMode.TWEEDIE, sync_end: float = 1.0, latent: Tensor | None = None,
           sampler: Callable[[Denoiser, Tensor, Tensor], Tensor] = sample_euler) -> Tensor:
    """Sample the views of ``space`` from unit ``noise`` (``[N, C, h, w]``) with ``denoise_views``.

    ``latent`` (default zeros) is the clean start for partial denoising. Returns views ``[N, C, h, w]``.
    """
    def run(sync: Synchronizer, noise: Tensor, latent: Tensor, phase_sigmas: Tensor, first_step: int) -> Tensor:
        def denoiser(x: Tensor, s: Tensor) -> Tensor:
            sync.space.begin_step(step_index(sigmas, s), len(sigmas) - 1)
            return sync.denoise(denoise_views, x, s)

        return sampler(denoiser, latent + noise * phase_sigmas[0], phase_sigmas)

    start = torch.zeros_like(noise) if latent is None else latent
    return sample_synchronized(run, space, mode, sync_end, noise, start, sigmas)
