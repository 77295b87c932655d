"""SyncTweedies: synchronized diffusion sampling over the views of one canonical space.

A plain PyTorch library; it never imports ComfyUI. Its names load on first use, so the modules that need no torch
(the job runner, manifests and the ComfyUI client) import without it.
"""
from importlib import import_module

_HOMES = {
    "PosteriorMeanDenoiser": ".posterior_mean", "per_view_denoiser": ".posterior_mean",
    "karras_sigmas": ".sampling", "sample": ".sampling", "sample_euler": ".sampling",
    "AnagramSpace": ".anagram", "CanonicalSpace": ".spaces", "IndexedSpace": ".spaces", "Panorama": ".panorama",
    "PanoramaRig": ".panorama", "PixelSynchronizedSpace": ".spaces", "ViewSubset": ".spaces", "WideCanvas": ".canvas",
    "ImageCanvas": ".canvas",
    "MODE_DESCRIPTIONS": ".sync", "SyncMode": ".sync", "Synchronizer": ".sync", "sample_synchronized": ".sync",
    "split_schedule": ".sync",
}
__all__ = list(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name], __name__), name)
