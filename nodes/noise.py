"""Canonically consistent initial noise."""
from __future__ import annotations

import torch
from comfy_api.v0_0_2 import io

from ..synctweedies import CanonicalSpace
from .frames import as_views, shaped_like
from .sockets import SAMPLING, SPACE_TOOLTIP, SyncSpace


class CanonicalNoise:
    """A NOISE source (``seed``, ``generate_noise``) that agrees wherever views overlap."""

    def __init__(self, seed: int, space: CanonicalSpace):
        self.seed = seed
        self.space = space

    def generate_noise(self, input_latent: dict) -> torch.Tensor:
        """Unit-variance noise for the latent's views (``[N, C, h, w]`` or ``[N, C, 1, h, w]``), on the CPU."""
        latent = input_latent["samples"]
        self.space.check_views(as_views(latent))
        generator = torch.Generator().manual_seed(self.seed)
        return shaped_like(self.space.initial_noise(latent.shape[1], generator), latent)


class NoiseNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesNoise",
            display_name="SyncTweedies Noise",
            category=SAMPLING,
            description="Noise drawn in the canonical space and mapped to the views, so overlaps start equal.",
            inputs=[io.Int.Input("noise_seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True,
                                 tooltip="Seed of the canonical noise."),
                    SyncSpace.Input("space", tooltip=SPACE_TOOLTIP)],
            outputs=[io.Noise.Output()],
        )

    @classmethod
    def execute(cls, noise_seed: int, space) -> io.NodeOutput:
        return io.NodeOutput(CanonicalNoise(noise_seed, space))
