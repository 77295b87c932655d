"""The host's VAE with its decode and encode compiled by ``torch.compile`` (with group norms from per-channel sums,
:mod:`synctweedies.fast_group_norm`): the VAE work of RGB averaging (one decode and one encode of every view per
synchronized step) at compiled speed."""
from __future__ import annotations

import copy
from typing import Callable

import torch
from comfy_api.v0_0_2 import io

from ..synctweedies.fast_group_norm import compiled
from .notices import log
from .sockets import SAMPLING


class CompiledStage:
    """A VAE's autoencoder (the host's ``first_stage_model``) whose ``decode`` and ``encode`` run compiled; every
    other attribute is the module's own. ``torch.compile`` keeps what it compiled with the method's code, so every
    copy of a VAE with this autoencoder (a re-run of the node too) reuses it, and Inductor's cache on disk shortens
    the compile in a new ComfyUI process."""

    def __init__(self, module: torch.nn.Module, compiler: Callable[[Callable], Callable] = compiled):
        self.module = module
        self.decode = compiler(module.decode)
        self.encode = compiler(module.encode)

    def __getattr__(self, name: str):
        return getattr(self.module, name)


def compiled_vae(vae, compiler: Callable[[Callable], Callable] = compiled):
    """A copy of the host's ``vae`` whose autoencoder decodes and encodes compiled by ``compiler`` (``vae`` itself is
    unchanged)."""
    if vae.first_stage_model is None:
        raise ValueError("This VAE has no weights loaded; load a VAE file with weights before compiling it.")
    if isinstance(vae.first_stage_model, CompiledStage):
        return vae
    twin = copy.copy(vae)
    twin.first_stage_model = CompiledStage(vae.first_stage_model, compiler)
    return twin


class CompileVaeNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesCompileVAE",
            display_name="SyncTweedies Compile VAE",
            category=SAMPLING,
            description="The VAE with its decode and encode compiled by torch.compile, for RGB averaging (the "
                        "sampler's 'vae' input: panorama, anagrams, Gaussians in RGB). It compiles at the first "
                        "decode and encode of each image size (20-40 s on an H100 the first time; ComfyUI keeps it for "
                        "later runs), then decodes and encodes about 2x faster, as close to float32 as the plain "
                        "VAE.",
            inputs=[io.Vae.Input("vae", tooltip="The model's VAE (Load Checkpoint's, or Load VAE's).")],
            outputs=[io.Vae.Output(display_name="vae", tooltip="The same VAE, compiled.")],
        )

    @classmethod
    def execute(cls, vae) -> io.NodeOutput:
        log.info("SyncTweedies: the VAE compiles at its first decode and encode of each size (20-40 s on an H100 "
                 "the first time).")
        return io.NodeOutput(compiled_vae(vae))
