"""Socket types shared by the pack's nodes."""
from comfy_api.v0_0_2 import io

SyncSpace = io.Custom("SYNCTWEEDIES_SPACE")
"""A :class:`synctweedies.CanonicalSpace` in latent units."""

SPACES = "SyncTweedies/spaces"
"""Categories by stage: what is painted (spaces), what guides it, sampling, output."""
GUIDANCE = "SyncTweedies/guidance"
SAMPLING = "SyncTweedies/sampling"
OUTPUT = "SyncTweedies/output"
LATENT_SCALE = 8
"""Pixels per latent pixel of the SD-family VAEs; a space node with its model's VAE connected uses that VAE's."""
SCALE_TOOLTIP = ("The model's VAE, whose pixels per latent pixel the sizes above are divided by (8 for SD, SDXL, "
                 "SD3, Flux, Qwen-Image; 16 for Wan 2.2, 32 for HunyuanImage 2.1). Unconnected: 8.")


def latent_scale(vae) -> int:
    """Pixels per latent pixel of ``vae`` (a host VAE), or :data:`LATENT_SCALE` without one."""
    return LATENT_SCALE if vae is None else int(vae.spacial_compression_decode())

SPACE_TOOLTIP = "The canonical space (from a SyncTweedies space node) whose views are sampled together."
