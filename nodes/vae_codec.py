"""The host's VAE as the decode and encode between a model's latent views and images that RGB averaging needs."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch import Tensor

from .frames import as_views, decode_views, encode_views, has_frames

@contextmanager
def outputs_on(vae, device: torch.device) -> Iterator[None]:
    """``vae``'s decode/encode return tensors on ``device`` (not the host's intermediate device, the CPU) inside
    the block: the views stay where the sampler keeps them."""
    previous, vae.output_device = vae.output_device, device
    try:
        yield
    finally:
        vae.output_device = previous


def vae_codec(vae, model) -> tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]:
    """(decode, encode) between ``model``'s latent views ``[N, c, h, w]`` and images ``[N, 3, H, W]`` in [-1, 1]
    through the host's ``vae`` (a video VAE too), on the views' device."""

    frames = lambda views: views.unsqueeze(2) if has_frames(vae) else views  # noqa: E731

    def decode(views: Tensor) -> Tensor:  # contiguous, as encode's images
        with outputs_on(vae, views.device):
            images = decode_views(vae, model.process_latent_out(frames(views.contiguous())))
        return images.movedim(-1, 1).to(views) * 2 - 1

    def encode(images: Tensor) -> Tensor:  # contiguous: a compiled VAE sees the layout of every other call
        pixels = ((images.contiguous() + 1) / 2).clamp(0, 1).movedim(1, -1)
        with outputs_on(vae, images.device):
            return as_views(model.process_latent_in(encode_views(vae, pixels).to(images)))

    return decode, encode
