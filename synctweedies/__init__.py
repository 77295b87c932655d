"""SyncTweedies: synchronized diffusion sampling over the views of one canonical space.

A plain PyTorch library; it never imports ComfyUI.
"""
from .posterior_mean import PosteriorMeanDenoiser, per_view_denoiser
from .sampling import karras_sigmas, sample, sample_euler
from .spaces import (AnagramSpace, CanonicalSpace, IndexedSpace, Panorama, PanoramaCameras, PixelSynchronizedSpace,
                     WideCanvas)
from .sync import MODE_DESCRIPTIONS, SyncMode, Synchronizer, sample_synchronized, split_schedule

__all__ = [
    "CanonicalSpace", "IndexedSpace", "WideCanvas", "AnagramSpace", "Panorama", "PanoramaCameras",
    "PixelSynchronizedSpace",
    "SyncMode", "Synchronizer", "MODE_DESCRIPTIONS",
    "sample_synchronized", "split_schedule", "sample", "sample_euler", "karras_sigmas",
    "PosteriorMeanDenoiser", "per_view_denoiser",
]
