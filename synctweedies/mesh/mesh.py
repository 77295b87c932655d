"""Triangle meshes with a UV atlas."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class Mesh:
    """Triangles ``faces`` ``[F, 3]`` into ``vertices`` ``[V, 3]``; per-corner UVs ``uvs`` ``[U, 2]`` indexed
    by ``uv_faces`` ``[F, 3]`` (UV origin at the texture's bottom-left, as in OBJ and glTF's flipped v)."""

    vertices: Tensor
    faces: Tensor
    uvs: Tensor
    uv_faces: Tensor

    @property
    def has_uvs(self) -> bool:
        """Whether every face corner has a UV."""
        return len(self.uvs) > 0 and bool((self.uv_faces >= 0).all())

    def to(self, device: torch.device | str) -> Mesh:
        return Mesh(self.vertices.to(device), self.faces.to(device), self.uvs.to(device), self.uv_faces.to(device))

    def normalized(self, scale: float = 1.0) -> Mesh:
        """Centred on the mean of its vertices and scaled so its farthest vertex is ``scale`` (``mesh_scale``) away:
        the original's bounding sphere, which a 60° view from distance 2 just frames."""
        centre = self.vertices.mean(0)
        radius = (self.vertices - centre).norm(dim=1).max()
        if radius <= 0:
            raise ValueError("The mesh has no extent (all vertices coincide).")
        return Mesh((self.vertices - centre) * (scale / radius), self.faces, self.uvs, self.uv_faces)
