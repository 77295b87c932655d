"""A mesh's UV texture as the canonical space: views render it, and are splatted back into texels."""
from __future__ import annotations

import torch
from torch import Tensor

from ..spaces.indexed import IndexedSpace
from ..spaces.fill import nearest_seen
from ..spaces.taps import bilinear_taps
from .cameras import Cameras
from .obj import Mesh
from .rasterize import Fragments, rasterize


class MeshTexture(IndexedSpace):
    """A ``texture_size``² texture ``[C, T, T]`` of ``mesh`` seen by ``cameras`` in ``view_size``² views.

    ``project`` samples the texture (bilinear) at each pixel's UV; background pixels show
    ``background``. ``unproject`` splats every view pixel into its texels with weight
    ``cosine ** weight_exponent`` (the view-angle cosine), normalised by the accumulated weight; texels
    no view sees are filled from the nearest seen texel and keep coverage 0. The mesh is rasterised
    once, here.
    """

    def __init__(self, mesh: Mesh, cameras: Cameras, view_size: int = 96, texture_size: int = 1536,
                 pixel_texture_size: int = 1024, weight_exponent: float = 6.0, background: float = 0.0):
        self.mesh, self.cameras = mesh, cameras
        self.pixel_texture_size, self.weight_exponent, self.background = pixel_texture_size, weight_exponent, background
        self.fragments: Fragments = rasterize(mesh, cameras, view_size)
        index, coefficients = texel_taps(self.fragments, texture_size)
        weights = self.fragments.cosine.clamp_min(0) ** weight_exponent
        super().__init__((texture_size, texture_size), index, weights, coefficients)
        seen = torch.zeros(texture_size * texture_size, dtype=torch.bool)
        seen[index[coefficients != 0]] = True
        self.seen = seen.reshape(texture_size, texture_size)
        self.fill_index = nearest_seen(self.seen, wrap=False).flatten()

    def project(self, canonical: Tensor) -> Tensor:
        views = super().project(canonical)
        mask = self.fragments.mask.unsqueeze(1).to(views.device)
        return torch.where(mask, views, torch.full_like(views, self.background))

    def unproject(self, views: Tensor, weights: Tensor | None = None) -> tuple[Tensor, Tensor]:
        texture, coverage = super().unproject(views, weights)
        filled = texture.flatten(1)[:, self.fill_index.to(texture.device)].reshape(texture.shape)
        return filled, coverage

    def build_scaled(self, factor: int) -> MeshTexture:
        """The same cameras at ``factor`` times the view size, on the RGB texture (``pixel_texture_size``)."""
        return MeshTexture(self.mesh, self.cameras, self.view_size[0] * factor, self.pixel_texture_size,
                           self.pixel_texture_size, self.weight_exponent, self.background)

    def __repr__(self) -> str:
        return (f"MeshTexture({len(self.mesh.faces)} faces, {self.num_views} views of {self.view_size[0]} px, "
                f"texture {self.canonical_size[0]}²)")


def texel_taps(fragments: Fragments, size: int) -> tuple[Tensor, Tensor]:
    """Bilinear texel taps ``[N, S, S, 4]`` (flat index, weight) of each pixel's UV; -1 on the background."""
    u, v = fragments.uv[..., 0], fragments.uv[..., 1]
    index, weight = bilinear_taps(u * size - 0.5, (1 - v) * size - 0.5, size, size, wrap=False)
    mask = fragments.mask.unsqueeze(-1)
    return torch.where(mask, index, -1), torch.where(mask, weight, 0.0)
