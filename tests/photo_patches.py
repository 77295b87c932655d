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
