"""The low-resolution upsampling that benchmarks/vae_floor.py times: the RGB-averaging floor it reports counts on
it computing exactly what the VAE decoder's own upsampling computes."""
from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from vae_floor import subpixel_upsample  # noqa: E402


class NearestThenConv(torch.nn.Module):
    """The SD VAE decoder's upsampling: nearest 2x, then a 3x3 convolution (padding 1)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = torch.nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def test_upsampling_as_four_small_convolutions_equals_the_decoders():
    torch.manual_seed(0)
    upsample = NearestThenConv(6).double()
    x = torch.randn(2, 6, 9, 7, dtype=torch.float64)
    expected = upsample(x)
    subpixel_upsample(upsample)
    assert upsample(x).shape == (2, 6, 18, 14)
    torch.testing.assert_close(upsample(x), expected, rtol=0, atol=1e-12)
