"""Random-weight models shaped like SD1.5 for tests that run the ComfyUI host.

The host recognises an SD1.5 checkpoint by its key names and shapes; a one-level UNet with
``model_channels`` 320 and ``context_dim`` 768, a TAESD autoencoder and a CLIP-L text encoder
are enough. Everything is built from the host's own model classes with random weights.
"""
from __future__ import annotations

from pathlib import Path

import torch


def randomize(module: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """Fill a module's (possibly uninitialised) parameters with small random values; its state dict."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name, value in module.state_dict().items():
        if name.endswith("weight") and value.ndim == 1:  # normalisation scales
            value = torch.ones_like(value)
        elif name.endswith("bias"):
            value = torch.zeros_like(value)
        elif value.is_floating_point():
            value = torch.randn(value.shape, generator=generator) * 0.02
        state[name] = value
    return state


def tiny_unet_state() -> dict[str, torch.Tensor]:
    from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel
    import comfy.ops

    unet = UNetModel(image_size=32, in_channels=4, out_channels=4, model_channels=320, num_res_blocks=[1],
                     channel_mult=(1,), transformer_depth=[1], transformer_depth_output=[1, 1],
                     transformer_depth_middle=1, num_heads=8, context_dim=768, use_linear_in_transformer=False,
                     use_spatial_transformer=True, legacy=False, operations=comfy.ops.disable_weight_init)
    return {f"model.diffusion_model.{k}": v for k, v in randomize(unet, 0).items()}


def tiny_vae_state() -> dict[str, torch.Tensor]:
    from comfy.taesd.taesd import TAESD

    return {f"first_stage_model.{k}": v for k, v in randomize(TAESD(latent_channels=4), 1).items()}


def clip_l_state() -> dict[str, torch.Tensor]:
    import comfy.sd1_clip

    clip = comfy.sd1_clip.SDClipModel(device="cpu")
    return {f"cond_stage_model.{k}": v for k, v in randomize(clip, 2).items()
            if k.startswith("transformer.")}


def write_tiny_sd15(path: Path) -> Path:
    """Write a random-weight SD1.5-shaped checkpoint (fp16) to ``path``; returns ``path``."""
    from safetensors.torch import save_file

    state = {**tiny_unet_state(), **tiny_vae_state(), **clip_l_state()}
    save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}, str(path))
    return path
