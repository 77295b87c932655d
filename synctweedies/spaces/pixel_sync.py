"""Latent views synchronized in pixel space: decode x0, average the images, encode back."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .base import CanonicalSpace, ViewSubset

Codec = Callable[[Tensor], Tensor]


class PixelSynchronizedSpace(CanonicalSpace):
    """``space`` (latent units) whose ``synchronize`` averages decoded images in ``space.scaled(factor)``.

    ``decode`` maps latent views ``[N, c, h, w]`` to images ``[N, 3, h*f, w*f]`` in [-1, 1] and
    ``encode`` maps them back. ``project``/``unproject`` stay in latent space (noise, previews), so
    only the modes whose averaged quantity is an image — x0 (mode 2), or nothing (mode 0) — apply.
    ``draft``, a faster (decode, encode) pair, replaces them for the first ``draft_end`` of the steps.
    """

    supported_modes = (0, 2)

    def __init__(self, space: CanonicalSpace, decode: Codec, encode: Codec, factor: int = 8,
                 draft: tuple[Codec, Codec] | None = None, draft_end: float = 0.0):
        self.latent, self.factor = space, factor
        self.pixels = space.scaled(factor)
        self.full, self.draft, self.draft_end = (decode, encode), draft, draft_end
        self.decode, self.encode = decode, encode
        self.num_views, self.view_size, self.canonical_size = space.num_views, space.view_size, space.canonical_size

    def project(self, canonical: Tensor) -> Tensor:
        return self.latent.project(canonical)

    def unproject(self, views: Tensor, weights: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.latent.unproject(views, weights)

    def build_scaled(self, factor: int) -> CanonicalSpace:
        return self.latent.scaled(factor)

    def preview(self, views: Tensor) -> Tensor:
        return self.latent.preview(views)

    def begin_run(self) -> None:
        self.latent.begin_run()

    def begin_step(self, step: int, total: int) -> None:
        self.latent.begin_step(step, total)
        drafting = self.draft is not None and step < self.draft_end * total
        self.decode, self.encode = self.draft if drafting else self.full

    def step_views(self) -> ViewSubset | None:
        return self.latent.step_views()

    def initial_noise(self, channels: int, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float32) -> Tensor:
        return self.latent.initial_noise(channels, generator, dtype)

    def synchronize(self, views: Tensor) -> Tensor:
        """Decode ``[N, c, h, w]`` latents, synchronize the images, encode: one batched call each way."""
        return self.encode(self.pixels.synchronize(self.decode(views))).to(views)

    def synchronize_subset(self, views: Tensor, subset: ViewSubset) -> Tensor:
        """Decode the ``[M, c, h, w]`` latents of ``subset`` only, average their images, encode every view's."""
        images = subset.space.scaled(self.factor).unproject(self.decode(views))[0]
        return self.encode(self.pixels.project(images)).to(views)
