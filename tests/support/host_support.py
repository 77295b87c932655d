"""Helpers for tests and benchmarks that run the ComfyUI host: loading the pack, random-weight models.

The host recognises an SD1.5 checkpoint by its key names and shapes; a one-level UNet with
``model_channels`` 320 and ``context_dim`` 768, a TAESD autoencoder and a CLIP-L text encoder
are enough. Everything is built from the host's own model classes with random weights.
"""
from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import torch

REPO = Path(__file__).resolve().parents[2]
PACK = "comfyui_synctweedies"
SD15_UNET = dict(image_size=32, in_channels=4, out_channels=4, model_channels=320, num_res_blocks=[2] * 4,
                 channel_mult=(1, 2, 4, 4), transformer_depth=[1] * 6 + [0] * 2,
                 transformer_depth_output=[1] * 9 + [0] * 3, transformer_depth_middle=1, num_heads=8,
                 context_dim=768, use_linear_in_transformer=False, use_spatial_transformer=True, legacy=False)
TINY_UNET = dict(SD15_UNET, num_res_blocks=[1], channel_mult=(1,), transformer_depth=[1],
                 transformer_depth_output=[1, 1])


def load_pack() -> ModuleType:
    """Import the pack's ``__init__.py`` as the package ``comfyui_synctweedies`` (once)."""
    if PACK not in sys.modules:
        spec = importlib.util.spec_from_file_location(PACK, REPO / "__init__.py",
                                                      submodule_search_locations=[str(REPO)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACK] = module
        spec.loader.exec_module(module)
    return sys.modules[PACK]


def counting_calls(model) -> tuple:
    """A clone of ``model`` (a host ModelPatcher) that notes the batch size of every model call, and the list it
    notes them in."""
    counted, batches = model.clone(), []

    def count(apply_model, args):
        batches.append(args["input"].shape[0])
        return apply_model(args["input"], args["timestep"], **args["c"])

    counted.set_model_unet_function_wrapper(count)
    return counted, batches


def randomize(module: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """Fill a module's (possibly uninitialised) parameters with small random values; its state dict."""
    state = module.state_dict()
    generator = torch.Generator(next(iter(state.values())).device).manual_seed(seed)
    with torch.no_grad():
        for name, value in state.items():
            if name.endswith("weight") and value.ndim == 1:  # normalisation scales
                value.fill_(1.0)
            elif name.endswith("bias"):
                value.zero_()
            elif value.is_floating_point():
                value.normal_(0, 0.02, generator=generator)
    return state


def unet_state(config: dict = TINY_UNET, dtype: torch.dtype = torch.float32,
               device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """A random-weight UNet of ``config`` as a checkpoint's ``model.diffusion_model.*`` state dict."""
    from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel
    import comfy.ops

    config = copy.deepcopy(config)  # UNetModel consumes its depth lists
    unet = UNetModel(**config, dtype=dtype, device=device, operations=comfy.ops.disable_weight_init)
    return {f"model.diffusion_model.{k}": v for k, v in randomize(unet, 0).items()}


def unit_gain(state: dict[str, torch.Tensor], prefixes: tuple[str, ...] = ("",), seed: int = 4,
              gain: float = 1.0) -> None:
    """Redraw the convolution weights under ``prefixes`` with variance ``gain / fan_in``, in place,
    so that signals neither vanish nor explode through the random network."""
    generator = torch.Generator().manual_seed(seed)
    for name, value in state.items():
        if name.startswith(prefixes) and value.ndim == 4:
            value.normal_(0, (gain / value[0].numel()) ** 0.5, generator=generator)


def taesd_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A random-weight TAESD (the host's fast approximate SD VAE) as the host loads one: scale 1, shift 0."""
    import comfy.taesd.taesd

    state = randomize(comfy.taesd.taesd.TAESD(), seed)
    return {**state, "vae_scale": torch.tensor(1.0), "vae_shift": torch.tensor(0.0)}


def tiny_vae_state() -> dict[str, torch.Tensor]:
    """A random TAESD whose images vary and whose latents stay near unit size, as a checkpoint's VAE."""
    from comfy.taesd.taesd import TAESD

    state = randomize(TAESD(latent_channels=4), 1)
    unit_gain(state, ("taesd_decoder",), gain=2.0)  # He gain: ReLUs halve the variance
    unit_gain(state, ("taesd_encoder",), gain=0.5)
    return {f"first_stage_model.{k}": v for k, v in state.items()}


def clip_l_state() -> dict[str, torch.Tensor]:
    import comfy.sd1_clip

    clip = comfy.sd1_clip.SDClipModel(device="cpu")
    return {f"cond_stage_model.{k}": v for k, v in randomize(clip, 2).items()
            if k.startswith("transformer.")}


def write_tiny_sd15(path: Path) -> Path:
    """Write a random-weight SD1.5-shaped checkpoint (fp16) to ``path``; returns ``path``."""
    from safetensors.torch import save_file

    state = {**unet_state(), **tiny_vae_state(), **clip_l_state()}
    save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}, str(path))
    return path


def write_tiny_controlnet(path: Path) -> Path:
    """Write a random-weight ControlNet matching ``TINY_UNET`` (3-channel hints) to ``path``; returns ``path``."""
    from comfy.cldm.cldm import ControlNet
    import comfy.ops
    from safetensors.torch import save_file

    config = copy.deepcopy(TINY_UNET)
    config.pop("out_channels")
    config.pop("transformer_depth_output")
    net = ControlNet(**config, hint_channels=3, dtype=torch.float32, device="cpu",
                     operations=comfy.ops.disable_weight_init)
    state = randomize(net, 3)
    unit_gain(state, ("input_hint_block", "zero_convs", "middle_block_out"))  # hints visibly steer the result
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path


def room_depth(height: int, walls: tuple[tuple[float, float], ...] = ((1.2, 2.0), (1.0, 1.5), (2.0, 3.0))):
    """The equirectangular depth ``[H, 2H]`` (float32 array) seen from a point in a box room, the walls at
    distances (behind, ahead) along x, y and z."""
    import numpy as np

    lat = (0.5 - (np.arange(height) + 0.5) / height) * np.pi
    lon = ((np.arange(2 * height) + 0.5) / (2 * height) - 0.5) * 2 * np.pi
    lat, lon = np.meshgrid(lat, lon, indexing="ij")
    direction = np.stack([np.cos(lat) * np.sin(lon), np.sin(lat), np.cos(lat) * np.cos(lon)])
    wall = np.array([[behind, ahead] for behind, ahead in walls])
    distance = np.where(direction > 0, wall[:, 1, None, None], wall[:, 0, None, None])
    return np.min(distance / np.maximum(np.abs(direction), 1e-9), axis=0).astype(np.float32)
