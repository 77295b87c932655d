"""Latents with a time axis, ``[N, C, 1, h, w]`` (Qwen-Image, Wan and other models whose VAE encodes video, used
for single images), as the views ``[N, C, h, w]`` the library works on, and back; and the VAE calls for both."""
from __future__ import annotations

import torch
from torch import Tensor


def as_views(latent: Tensor) -> Tensor:
    """``[N, C, h, w]`` views of a latent that is that, or ``[N, C, 1, h, w]`` (a view of it: writes go through)."""
    if latent.ndim == 5:
        if latent.shape[2] != 1:
            raise ValueError(f"The latent has {latent.shape[2]} frames per view, but views are single images: make "
                             "it with one frame (length 1), e.g. with 'SyncTweedies Empty Latent'.")
        return latent[:, :, 0]
    return latent


def shaped_like(views: Tensor, latent: Tensor) -> Tensor:
    """``views`` ``[N, C, h, w]`` with ``latent``'s time axis, if it has one."""
    return views.unsqueeze(2) if latent.ndim == 5 else views


def has_frames(vae) -> bool:
    """Whether ``vae`` encodes videos (its latents are ``[N, C, T, h, w]``)."""
    return getattr(vae, "latent_dim", 2) == 3


def decode_views(vae, latents: Tensor) -> Tensor:
    """The images ``[N, H, W, 3]`` of latent views ``[N, C, h, w]`` or ``[N, C, 1, h, w]``."""
    if has_frames(vae) and latents.ndim == 4:
        latents = latents.unsqueeze(2)
    images = vae.decode(latents)
    return images.reshape(-1, *images.shape[-3:])


def encode_views(vae, images: Tensor) -> Tensor:
    """Latent views of images ``[N, H, W, 3]``: ``[N, C, h, w]``, or ``[N, C, 1, h, w]`` from a video VAE, which
    reads a batch of images as the frames of one video, so each view is encoded by itself."""
    if not has_frames(vae):
        return vae.encode(images)
    return torch.cat([vae.encode(image[None]) for image in images])
