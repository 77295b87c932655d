"""360° depth maps: reading the formats panorama pipelines use, and turning depth into ControlNet hints."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

DPT_TAG = 202021.25
"""The first four bytes of a ``.dpt`` file (the Sintel/360MonoDepth depth format), as a float32."""

DEPTH_SUFFIXES = (".dpt", ".png", ".npy", ".exr")


def read_dpt(path: Path) -> np.ndarray:
    """A ``.dpt`` depth map: float32 tag, int32 width, int32 height, then ``height * width`` float32."""
    data = Path(path).read_bytes()
    if len(data) < 12 or np.frombuffer(data[:4], "<f4")[0] != DPT_TAG:
        raise ValueError(f"{path} is not a .dpt depth map (its first 4 bytes are not the tag {DPT_TAG}).")
    width, height = (int(v) for v in np.frombuffer(data[4:12], "<i4"))
    if len(data) != 12 + 4 * width * height:
        raise ValueError(f"{path} declares {width}x{height} depth values but holds {(len(data) - 12) // 4}.")
    return np.frombuffer(data[12:], "<f4").reshape(height, width)


def write_dpt(path: Path, depth: np.ndarray) -> None:
    """Write ``depth`` ``[H, W]`` as a ``.dpt`` file."""
    height, width = depth.shape
    header = np.array([DPT_TAG], "<f4").tobytes() + np.array([width, height], "<i4").tobytes()
    Path(path).write_bytes(header + depth.astype("<f4").tobytes())


def read_exr(path: Path) -> np.ndarray:
    """The depth channel (``Z``, ``Y``, ``R`` or the first) of an OpenEXR file, with the ``OpenEXR`` package."""
    try:
        import OpenEXR
    except ImportError:
        raise ValueError(f"Reading {path.name} needs the OpenEXR package: pip install OpenEXR "
                         "(or save the depth as .dpt, 16-bit .png or .npy).") from None
    with OpenEXR.File(str(path)) as exr:
        channels = exr.channels()
        name = next((c for c in ("Z", "depth", "Y", "R") if c in channels), next(iter(channels)))
        pixels = np.asarray(channels[name].pixels)
    return pixels if pixels.ndim == 2 else pixels[..., 0]


def read_depth(path: str | Path) -> Tensor:
    """A 360° depth map ``[H, W]`` (float32, larger = farther) from ``.dpt``, 16-bit ``.png``, ``.npy`` or ``.exr``.

    Raises a ValueError naming the problem for a missing file, an unknown format or an aspect that is
    not the equirectangular 2:1.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Depth map {path} does not exist; put it in ComfyUI's input folder.")
    suffix = path.suffix.lower()
    if suffix == ".dpt":
        depth = read_dpt(path)
    elif suffix == ".npy":
        depth = np.load(path)
    elif suffix == ".exr":
        depth = read_exr(path)
    elif suffix == ".png":
        from PIL import Image

        with Image.open(path) as image:
            depth = np.asarray(image if image.mode.startswith("I") else image.convert("L"))
    else:
        raise ValueError(f"{path.name}: depth maps must be one of {', '.join(DEPTH_SUFFIXES)}.")
    depth = np.squeeze(np.asarray(depth, dtype=np.float32))
    if depth.ndim != 2:
        raise ValueError(f"{path.name} holds an array of shape {list(depth.shape)}; a depth map is one 2D channel.")
    height, width = depth.shape
    if width != 2 * height:
        raise ValueError(f"{path.name} is {width}x{height}; a 360° equirectangular depth map is twice as wide as "
                         "it is high (2:1).")
    return torch.from_numpy(depth.copy())


def depth_hint(depth: Tensor) -> Tensor:
    """Depth ``[..., H, W]`` → inverse depth scaled to [0, 1] over the whole map (near is bright), as ControlNet
    depth models expect; non-positive or non-finite depths count as farthest."""
    valid = torch.isfinite(depth) & (depth > 0)
    inverse = torch.where(valid, 1 / depth.clamp_min(1e-6), torch.zeros_like(depth))
    low, high = inverse[valid].min(), inverse[valid].max()
    return torch.where(valid, (inverse - low) / (high - low).clamp_min(1e-12), torch.zeros_like(depth))
