"""360° depth maps: reading the formats panorama pipelines use, and turning depth into ControlNet hints."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from .files import reason

DPT_TAG = 202021.25
"""The first four bytes of a ``.dpt`` file (the Sintel/360MonoDepth depth format), as a float32."""

DEPTH_SUFFIXES = (".dpt", ".png", ".npy", ".exr")


def read_dpt(path: Path) -> np.ndarray:
    """A ``.dpt`` depth map: float32 tag, int32 width, int32 height, then ``height * width`` float32."""
    data = Path(path).read_bytes()
    if len(data) < 12 or np.frombuffer(data[:4], "<f4")[0] != DPT_TAG:
        raise ValueError(f"it is not a .dpt depth map (its first 4 bytes are not the tag {DPT_TAG})")
    width, height = (int(v) for v in np.frombuffer(data[4:12], "<i4"))
    if width <= 0 or height <= 0 or len(data) != 12 + 4 * width * height:
        raise ValueError(f"it declares {width}x{height} depth values but holds {(len(data) - 12) // 4}")
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

    Raises a ValueError naming the file and the problem: missing, unreadable, an unknown format, not one 2D
    channel, not the equirectangular 2:1, or no positive finite depth at all.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in DEPTH_SUFFIXES:
        raise ValueError(f"{path.name}: depth maps must be one of {', '.join(DEPTH_SUFFIXES)}.")
    if not path.is_file():
        raise ValueError(f"Depth map {path.name} does not exist; put it in ComfyUI's input folder.")
    try:
        depth = np.asarray(READERS[suffix](path), dtype=np.float32)
    except (OSError, ValueError, TypeError, RuntimeError, EOFError, MemoryError, Image.DecompressionBombError) as error:
        raise ValueError(f"{path.name} cannot be read as a depth map ({reason(error)}); check or re-export "
                         "it.") from None
    depth = np.squeeze(depth)
    if depth.ndim != 2:
        raise ValueError(f"{path.name} holds an array of shape {list(depth.shape)}; a depth map is one 2D channel.")
    height, width = depth.shape
    if width != 2 * height or height == 0:
        raise ValueError(f"{path.name} is {width}x{height}; a 360° equirectangular depth map is twice as wide as "
                         "it is high (2:1).")
    if not (np.isfinite(depth) & (depth > 0)).any():
        raise ValueError(f"{path.name} has no positive finite depth anywhere (all zero, negative, NaN or inf).")
    return torch.from_numpy(depth.copy())


def read_npy(path: Path) -> np.ndarray:
    """A ``.npy`` array, memory-mapped first so that a header larger than the file fails before any allocation."""
    array = np.load(path, mmap_mode="r", allow_pickle=False)
    if array.size > 2 ** 28:
        raise ValueError(f"it holds {array.size:,} values, far more than a depth map")
    return np.array(array)


def read_png(path: Path) -> np.ndarray:
    """A PNG's one channel: 16-bit integer depth as stored, anything else as grey."""
    with Image.open(path) as image:
        return np.asarray(image if image.mode.startswith("I") else image.convert("L"))


READERS = {".dpt": read_dpt, ".npy": read_npy, ".exr": read_exr, ".png": read_png}


def depth_hint(depth: Tensor) -> Tensor:
    """Depth ``[..., H, W]`` → inverse depth scaled to [0, 1] over the whole map (near is bright), as ControlNet
    depth models expect; non-positive or non-finite depths count as farthest."""
    valid = torch.isfinite(depth) & (depth > 0)
    inverse = torch.where(valid, 1 / depth.clamp_min(1e-6), torch.zeros_like(depth))
    low, high = inverse[valid].min(), inverse[valid].max()
    return torch.where(valid, (inverse - low) / (high - low).clamp_min(1e-12), torch.zeros_like(depth))


def view_depth_hints(depth: Tensor, mask: Tensor, per_view: bool = True, blur: int = 5) -> Tensor:
    """The original's ControlNet depth hints of rendered views: inverse depth ``[N, S, S]`` scaled to [0, 1] where
    ``mask`` shows the object (nearest 1, farthest 0; the background 0), per view (meshes) or over all views
    together (Gaussians, ``per_view=False``), then a Gaussian blur of ``blur`` px, sigma ``blur // 3 + 1``. Where
    the depths span less than 0.1 % (a flat side seen straight on), the object is all nearest (1)."""
    from kornia.filters import gaussian_blur2d

    inverse = torch.where(mask, 1 / depth.clamp_min(1e-6), torch.zeros_like(depth))
    dims = (1, 2) if per_view else (0, 1, 2)
    high = inverse.amax(dims, keepdim=True)
    low = torch.where(mask, inverse, torch.full_like(inverse, float("inf"))).amin(dims, keepdim=True)
    span = high - low
    hint = torch.where(span > 1e-3 * high, (inverse - low) / span.clamp_min(1e-12), torch.ones_like(inverse))
    hint = hint.clamp(0, 1) * mask
    if blur <= 1:
        return hint
    sigma = float(blur // 3 + 1)
    return gaussian_blur2d(hint[:, None], (blur, blur), (sigma, sigma), border_type="reflect")[:, 0]
