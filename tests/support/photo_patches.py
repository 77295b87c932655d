"""Small image sets from the sample photos scikit-image ships, for the closed-form denoiser."""
from __future__ import annotations

import torch
from torch import Tensor


FOUR_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
EIGHT_PHOTOS = FOUR_PHOTOS + ("hubble_deep_field", "immunohistochemistry", "retina", "logo")


def photo_strips(size: int, stride: int, height: int = 64, photos: tuple[str, ...] = FOUR_PHOTOS) -> Tensor:
    """``size`` × ``size`` crops every ``stride`` px along rows of scikit-image's sample ``photos`` scaled to
    ``height``.

    Values in [-1, 1], ``[M, 3, size, size]``.
    """
    from skimage import data, transform

    patches = []
    for photo in (getattr(data, name)()[..., :3] for name in photos):
        scaled = transform.resize(photo, (height, round(height * photo.shape[1] / photo.shape[0])), anti_aliasing=True)
        image = torch.tensor(scaled, dtype=torch.float32).permute(2, 0, 1) * 2 - 1
        crops = image.unfold(1, size, size).unfold(2, size, stride)
        patches.append(crops.permute(1, 2, 0, 3, 4).reshape(-1, 3, size, size))
    return torch.cat(patches)


TEXTURES = ("brick", "grass", "gravel", "text", "moon", "camera")
"""Grey scikit-image samples: regular and irregular textures, printed text, a surface, a portrait."""


def texture_strips(size: int, stride: int = 3, textures: tuple[str, ...] = TEXTURES) -> Tensor:
    """``size`` × ``size`` crops every ``stride`` px (3: no alignment with a canvas's 8-pixel window stride) along
    scikit-image's grey ``textures`` scaled to ``size`` high, as 3 equal channels in [-1, 1], ``[M, 3, size, size]``:
    a second kind of data beside the colour photos."""
    from skimage import data, transform

    patches = []
    for name in textures:
        image = getattr(data, name)()
        grey = image if image.ndim == 2 else image[..., 0]
        scaled = transform.resize(grey, (size, round(size * grey.shape[1] / grey.shape[0])), anti_aliasing=True)
        strip = torch.tensor(scaled, dtype=torch.float32)[None].expand(3, -1, -1) * 2 - 1
        crops = strip.unfold(1, size, size).unfold(2, size, stride)
        patches.append(crops.permute(1, 2, 0, 3, 4).reshape(-1, 3, size, size))
    return torch.cat(patches)


def smooth_fields(size: int, count: int = 32, seed: int = 0) -> Tensor:
    """``count`` random smooth colour fields (sums of six plane waves per channel, longest period above 25 px),
    ``[count, 3, size, size]`` in [-1, 1]: a third kind of data, with no edges at all."""
    generator = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(), indexing="ij")
    fields = torch.zeros(count, 3, size, size)
    for _ in range(6):
        frequency = torch.rand(count, 3, 2, generator=generator) * 0.5 - 0.25
        phase = torch.rand(count, 3, 1, 1, generator=generator) * 2 * torch.pi
        fields += torch.cos(frequency[..., 0, None, None] * x + frequency[..., 1, None, None] * y + phase)
    return fields / fields.abs().amax((1, 2, 3), keepdim=True)


def two_photo_sets(size: int = 16, stride: int = 4) -> list[Tensor]:
    """Crops of two different photos (astronaut, coffee) scaled to 64 px: two 'prompts' of an anagram.

    Values in [-1, 1], each ``[M, 3, size, size]``.
    """
    from skimage import data, transform

    sets = []
    for photo in (data.astronaut(), data.coffee()):
        image = torch.tensor(transform.resize(photo, (64, 64), anti_aliasing=True), dtype=torch.float32)
        crops = (image.permute(2, 0, 1) * 2 - 1).unfold(1, size, stride).unfold(2, size, stride)
        sets.append(crops.permute(1, 2, 0, 3, 4).reshape(-1, 3, size, size))
    return sets
