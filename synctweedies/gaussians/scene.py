"""3D Gaussian Splatting scenes: the standard 3DGS PLY, read and written back with only the colours changed."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..ply import read_ply, write_ply

SH_C0 = 0.28209479177387814
"""The degree-0 spherical harmonic: a 3DGS colour is ``0.5 + SH_C0 * f_dc``."""
GEOMETRY = {"means": ("x", "y", "z"), "scales": ("scale_0", "scale_1", "scale_2"),
            "quats": ("rot_0", "rot_1", "rot_2", "rot_3"), "opacities": ("opacity",)}
"""The PLY properties of each geometry field of :class:`Gaussians`."""
REQUIRED = (*(name for names in GEOMETRY.values() for name in names), "f_dc_0", "f_dc_1", "f_dc_2")


@dataclass
class Gaussians:
    """``G`` Gaussians: ``means`` ``[G, 3]``, ``quats`` ``[G, 4]`` (w, x, y, z; unnormalised), ``scales`` ``[G, 3]``
    (log), ``opacities`` ``[G]`` (logits) and view-independent ``colours`` ``[G, 3]`` (RGB from the SH DC term).
    ``ply`` is the file as read (a ``plyfile.PlyData``), for writing it back unchanged but for the colours."""

    means: Tensor
    quats: Tensor
    scales: Tensor
    opacities: Tensor
    colours: Tensor
    ply: object | None = None

    def __len__(self) -> int:
        return len(self.means)

    def cloned(self) -> Gaussians:
        """A copy of the tensors (ordinary tensors even when these were made under inference mode)."""
        return replace(self, means=self.means.clone(), quats=self.quats.clone(), scales=self.scales.clone(),
                       opacities=self.opacities.clone(), colours=self.colours.clone())

    def to(self, device: torch.device | str) -> Gaussians:
        return replace(self, means=self.means.to(device), quats=self.quats.to(device), scales=self.scales.to(device),
                       opacities=self.opacities.to(device), colours=self.colours.to(device))


def load_gaussians(path: str | Path) -> Gaussians:
    """The Gaussians of a 3DGS PLY; a ValueError naming the missing attributes otherwise."""
    path = Path(path)
    ply = read_ply(path)
    vertex = ply["vertex"].data if "vertex" in ply else None
    missing = [name for name in REQUIRED if vertex is None or name not in vertex.dtype.names]
    if missing:
        raise ValueError(f"{path.name} is not a 3D Gaussian Splatting PLY: it lacks {', '.join(missing)}. Export the "
                         "scene from a 3DGS trainer (the original 3DGS, gsplat, nerfstudio's splatfacto).")
    if len(vertex) == 0:
        raise ValueError(f"{path.name} has no Gaussians.")
    listed = [name for name in REQUIRED if vertex.dtype[name].kind not in "fiu"]
    if listed:
        raise ValueError(f"{path.name}: {', '.join(listed)} must be numbers, not lists; it is not a 3DGS PLY.")
    columns = torch.from_numpy(np.stack([vertex[name].astype(np.float32) for name in REQUIRED], 1))
    bad = ~torch.isfinite(columns).all(1)
    if bad.any():
        raise ValueError(f"{path.name}: Gaussian {int(bad.nonzero()[0])} has values that are not finite numbers "
                         "(NaN or inf); repair the scene.")
    means, scales, quats, opacities, dc = columns.split([3, 3, 4, 1, 3], 1)
    if (quats.norm(dim=1) == 0).any():
        raise ValueError(f"{path.name}: Gaussian {int((quats.norm(dim=1) == 0).nonzero()[0])} has a rotation "
                         "quaternion of length 0; repair the scene.")
    return Gaussians(means, quats, scales, opacities[:, 0], (0.5 + SH_C0 * dc).clamp(0, 1), ply)


def load_columns(vertex: np.ndarray) -> dict[str, Tensor]:
    """The geometry of a 3DGS vertex array as float32 tensors ``[G, k]``, by :data:`GEOMETRY` field."""
    return {field: torch.from_numpy(np.stack([vertex[name].astype(np.float32) for name in names], 1))
            for field, names in GEOMETRY.items()}


def save_gaussians(gaussians: Gaussians, colours: Tensor, path: str | Path) -> Path:
    """Write ``gaussians`` to a new PLY with view-independent ``colours`` ``[G, 3]`` in [0, 1]: the SH DC terms
    say the colours and the higher SH terms (``f_rest_*``) are zero; geometry a fit changed is written as it is
    now, every other value as read."""
    import plyfile

    if gaussians.ply is None:
        raise ValueError("These Gaussians were not read from a PLY; load them with load_gaussians.")
    vertex = gaussians.ply["vertex"]
    data = vertex.data.copy()
    dc = ((colours.detach().float().cpu().clamp(0, 1) - 0.5) / SH_C0).numpy()
    for k in range(3):
        data[f"f_dc_{k}"] = dc[:, k].astype(data.dtype[f"f_dc_{k}"])
    for name in data.dtype.names:
        if name.startswith("f_rest_"):
            data[name] = 0
    as_read = load_columns(data)
    for field, names in GEOMETRY.items():
        now = getattr(gaussians, field).detach().float().cpu().reshape(len(data), -1)
        if not torch.equal(now, as_read[field]):
            for k, name in enumerate(names):
                data[name] = now[:, k].numpy().astype(data.dtype[name])
    recoloured = plyfile.PlyElement(vertex.name, vertex.properties, len(data), vertex.comments)
    recoloured.data = data
    elements = [recoloured if element.name == "vertex" else element for element in gaussians.ply.elements]
    return write_ply(path, plyfile.PlyData(elements, comments=gaussians.ply.comments, obj_info=gaussians.ply.obj_info))
