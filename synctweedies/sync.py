"""Synchronization modes: one implementation for every canonical space.

A sampler calls a denoiser ``D(x, sigma) -> x0`` (the k-diffusion convention: ``x = x0 + sigma * eps``
up to the model's own scaling). :class:`Synchronizer` wraps the views' denoiser for one
(space, mode) pair, so that any sampler and schedule runs synchronized.
"""
from __future__ import annotations

from enum import IntEnum
from functools import partial
from typing import Callable

import torch
from torch import Tensor

from .spaces import CanonicalSpace, ViewSubset

ViewDenoiser = Callable[[Tensor, Tensor], Tensor]
"""``(x [N, C, h, w], sigma []) -> x0 [N, C, h, w]``: the model run on every view."""


class SyncMode(IntEnum):
    """What is averaged across views, and where the sampler runs (the paper's cases)."""

    NONE = 0
    """Independent views: nothing is averaged."""
    NOISE = 1
    """Average the noise estimate ``(x - x0) / sigma`` in the instance spaces."""
    TWEEDIE = 2
    """Average the Tweedie estimate ``x0`` in the instance spaces (SyncTweedies)."""
    STATE = 3
    """Average the sampler's state ``x_{t-1}`` in the instance spaces (MultiDiffusion-style)."""
    CANONICAL_NOISE = 4
    """Run the sampler on the canonical latent; average the views' noise estimates."""
    CANONICAL_TWEEDIE = 5
    """Run the sampler on the canonical latent; average the views' ``x0``."""

    @property
    def on_canonical(self) -> bool:
        """Whether the sampler's state is the canonical latent ``[1, C, H, W]`` rather than the views."""
        return self in (SyncMode.CANONICAL_NOISE, SyncMode.CANONICAL_TWEEDIE)


MODE_DESCRIPTIONS = {
    SyncMode.NONE: "0: independent views (no synchronization)",
    SyncMode.NOISE: "1: average the noise estimate in view space",
    SyncMode.TWEEDIE: "2: average the Tweedie estimate x0 in view space (SyncTweedies)",
    SyncMode.STATE: "3: average x_{t-1} in view space (MultiDiffusion)",
    SyncMode.CANONICAL_NOISE: "4: sample the canonical latent, average the noise estimate",
    SyncMode.CANONICAL_TWEEDIE: "5: sample the canonical latent, average x0",
}


class Synchronizer:
    """Turns a view denoiser into the denoiser a sampler sees, for one space and mode.

    The sampler's state is the views ``[N, C, h, w]`` for modes 0–3 and the canonical latent
    ``[1, C, H, W]`` for modes 4–5. ``to_sampler``/``from_sampler`` convert between the views and
    that state; ``denoise`` is the synchronized ``D(x, sigma)``.
    """

    def __init__(self, space: CanonicalSpace, mode: SyncMode | int):
        self.space = space
        self.mode = SyncMode(mode)

    def to_sampler(self, views: Tensor) -> Tensor:
        """``[N, C, h, w]`` views → the sampler's state."""
        if self.mode.on_canonical:
            return self.space.unproject(views)[0].unsqueeze(0)
        return views

    def from_sampler(self, x: Tensor) -> Tensor:
        """The sampler's state → ``[N, C, h, w]`` views (for mode 3, synchronized once more)."""
        if self.mode.on_canonical:
            return self.space.project(x[0])
        if self.mode == SyncMode.STATE:
            return self.space.synchronize(x)
        return x

    def canvas(self, x: Tensor) -> Tensor:
        """The sampler's state or x0 → what a preview shows: the canonical state itself, or
        :meth:`CanonicalSpace.preview` of the views."""
        return x if self.mode.on_canonical else self.space.preview(x)

    def model_views(self) -> ViewSubset | None:
        """The views the model runs at this step: the space's :meth:`~CanonicalSpace.step_views` while an
        estimate is averaged (modes 1, 2, 4, 5), whose mean gives the other views theirs; None (every view) in
        modes 0 and 3, where every view needs its own."""
        return None if self.mode in (SyncMode.NONE, SyncMode.STATE) else self.space.step_views()

    def denoise(self, denoise_views: ViewDenoiser, x: Tensor, sigma: Tensor) -> Tensor:
        """The synchronized ``D(x, sigma)`` for a sampler whose state is ``x``.

        The model sees the views of :meth:`model_views` (``denoise_views`` gets ``[M, C, h, w]``). Mode 3 writes
        the synchronized state into ``x`` in place: samplers evaluate the model on their own state tensor, so the
        average of ``x_{t-1}`` becomes the state the sampler continues from, whatever the sampler.
        """
        s = sigma.reshape(-1)[0]
        space, mode, subset = self.space, self.mode, self.model_views()
        if mode.on_canonical:
            seen = space if subset is None else subset.space
            views = seen.project(x[0])
            x0_views = denoise_views(views, s)
            if mode == SyncMode.CANONICAL_TWEEDIE:
                return seen.unproject(x0_views)[0].unsqueeze(0)
            eps = seen.unproject((views - x0_views) / s)[0].unsqueeze(0)
            return x - s * eps
        if mode == SyncMode.STATE:
            with torch.no_grad():
                x.copy_(space.synchronize(x))
        if subset is None:
            model_x, average = x, space.synchronize
        else:
            model_x, average = x[subset.views], partial(space.synchronize_subset, subset=subset)
        x0 = denoise_views(model_x, s)
        if mode == SyncMode.TWEEDIE:
            return average(x0)
        if mode == SyncMode.NOISE:
            return x - s * average((model_x - x0) / s)
        return x0


def step_index(schedule: Tensor, sigma: Tensor | float) -> int:
    """The index in ``schedule`` (noise levels, decreasing) of the step at noise level ``sigma``."""
    return int((schedule.cpu() > float(sigma) * (1 + 1e-5)).sum())


def steps_until(end: float, steps: int, timesteps: Tensor | None = None) -> int:
    """How many of the first ``steps`` steps lie before ``end``: with ``timesteps`` (``[>= steps]``, the model
    timestep, 0 to 1000, each step starts at) the steps that start at t > 1000 · (1 − ``end``), as the original
    tests its ``mvd_end`` and ``ref_attention_end``, whatever the step count or denoise; without them the first
    ``end`` of the steps."""
    if not 0.0 <= end <= 1.0:
        raise ValueError(f"The end of a phase must be in [0, 1]; got {end}.")
    if timesteps is None:
        return round(end * steps)
    if end >= 1.0:  # t > 0: every step (the original's last step is at t = 1; a schedule here may end at t = 0)
        return steps
    return int((timesteps[:steps].float().cpu() > 1000 * (1 - end) + 1e-3).sum())


def split_schedule(sigmas: Tensor, sync_end: float, timesteps: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Split ``sigmas`` (``[S + 1]``) into the synchronized steps (those :func:`steps_until` ``sync_end`` counts,
    by ``timesteps`` ``[S + 1]`` where given) and the rest.

    Both parts share the sigma at the split; a part with fewer than two sigmas has no steps.
    """
    split = steps_until(sync_end, len(sigmas) - 1, timesteps)
    return sigmas[: split + 1], sigmas[split:]


def variance_kept(space: CanonicalSpace, noise: Tensor) -> float:
    """Std of ``unproject(noise)`` where views see the canonical space, over the std of ``noise``.

    About 1 for noise drawn canonically (:meth:`CanonicalSpace.initial_noise`) when views pick
    canonical elements; below 1 for independent noise averaged over overlaps, or for views that
    interpolate the canonical space.
    """
    if not noise.any():
        return 1.0
    canonical, coverage = space.unproject(noise.float())
    return (canonical[:, coverage[0] > 0].std() / noise.float().std()).item()


def check_canonical_noise(space: CanonicalSpace, mode: SyncMode, noise: Tensor) -> None:
    """Refuse a canonical-space mode whose starting noise would lose variance in the canonical space."""
    if variance_kept(space, noise) >= 0.95:
        return
    own = variance_kept(space, space.initial_noise(noise.shape[1], torch.Generator().manual_seed(0)))
    if own < 0.95:
        raise ValueError(f"Mode {int(mode)} samples the canonical latent, but {space!r} interpolates between views "
                         f"and canvas, so noise mapped into the canvas keeps only {own:.0%} of its spread; "
                         "use modes 0-3 (or an unprojection that fits, where the space offers one).")
    raise ValueError(f"Mode {int(mode)} samples the canonical latent and needs canonically consistent "
                     "noise (the same noise wherever views overlap). Use 'SyncTweedies Noise'.")


SamplerRun = Callable[[Synchronizer, Tensor, Tensor, Tensor, int], Tensor]
"""``(synchronizer, noise, latent, sigmas, first_step) -> final state``, both in the sampler's space.

The callee runs any sampler whose denoiser is ``synchronizer.denoise``; ``first_step`` is the index
of ``sigmas[0]`` in the whole schedule (for progress bars).
"""


def sample_synchronized(run: SamplerRun, space: CanonicalSpace, mode: SyncMode | int, sync_end: float,
                        noise: Tensor, latent: Tensor, sigmas: Tensor, timesteps: Tensor | None = None) -> Tensor:
    """Sample views with synchronization until ``sync_end`` of the schedule (:func:`split_schedule`: by the
    model ``timesteps`` of ``sigmas`` where given, as the original), then independently.

    ``noise`` and ``latent`` are views ``[N, C, h, w]``; returns the final views ``[N, C, h, w]``.
    The second phase starts from the first phase's result with zero added noise.
    """
    mode = SyncMode(mode)
    space.check_views(latent)
    space.check_views(noise, "noise")
    if int(mode) not in space.supported_modes:
        raise ValueError(f"Mode {int(mode)} does not apply to {space!r}; use one of modes "
                         f"{', '.join(map(str, space.supported_modes))}.")
    if mode.on_canonical:
        check_canonical_noise(space, mode, noise)
    space.begin_run()
    first_step = 0
    for phase_mode, phase_sigmas in zip((mode, SyncMode.NONE), split_schedule(sigmas, sync_end, timesteps)):
        if len(phase_sigmas) < 2:
            continue
        sync = Synchronizer(space, phase_mode)
        state = run(sync, sync.to_sampler(noise), sync.to_sampler(latent), phase_sigmas, first_step)
        latent = sync.from_sampler(state)
        noise = torch.zeros_like(noise)
        first_step += len(phase_sigmas) - 1
    return latent
