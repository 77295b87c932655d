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
        """Centred on its bounding box and scaled so its longest half-extent is ``scale`` (``mesh_scale``)."""
        low, high = self.vertices.min(0).values, self.vertices.max(0).values
        half = (high - low).max() / 2
        if half <= 0:
            raise ValueError("The mesh has no extent (all vertices coincide).")
        return Mesh((self.vertices - (low + high) / 2) * (scale / half), self.faces, self.uvs, self.uv_faces)
