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
"""Pixels per latent pixel of the SD-family VAEs the canvases are sized for."""

SPACE_TOOLTIP = "The canonical space (from a SyncTweedies space node) whose views are sampled together."
