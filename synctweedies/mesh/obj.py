"""Triangle meshes with UVs, and loading them from Wavefront OBJ."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


def load_obj(path: str | Path) -> Mesh:
    """Vertices, triangulated faces and UVs of an OBJ file (``uv_faces`` -1 where a corner has no UV); a
    ValueError naming what is wrong otherwise."""
    path = Path(path)
    vertices, uvs, faces, uv_faces = [], [], [], []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "v":
            vertices.append([float(v) for v in parts[1:4]])
        elif parts[0] == "vt":
            uvs.append([float(v) for v in parts[1:3]])
        elif parts[0] == "f":
            corners = [corner.split("/") for corner in parts[1:]]
            if len(corners) < 3:
                raise ValueError(f"{path.name} line {number}: a face needs at least 3 corners.")
            index = [_resolve(int(c[0]), len(vertices), path, number) for c in corners]
            uv_index = [_resolve(int(c[1]), len(uvs), path, number) if len(c) > 1 and c[1] else -1
                        for c in corners]
            for k in range(1, len(corners) - 1):  # a fan of triangles
                faces.append([index[0], index[k], index[k + 1]])
                uv_faces.append([uv_index[0], uv_index[k], uv_index[k + 1]])
    return Mesh(torch.tensor(vertices, dtype=torch.float32).reshape(-1, 3), torch.tensor(faces).reshape(-1, 3),
                torch.tensor(uvs, dtype=torch.float32).reshape(-1, 2), torch.tensor(uv_faces).reshape(-1, 3))


def _resolve(index: int, count: int, path: Path, number: int) -> int:
    """An OBJ index (1-based, or negative from the end) → 0-based, checked."""
    resolved = index - 1 if index > 0 else count + index
    if not 0 <= resolved < count:
        raise ValueError(f"{path.name} line {number}: index {index} refers to an element that does not exist.")
    return resolved


def obj_texture_path(path: str | Path) -> Path | None:
    """The diffuse texture (``map_Kd``) of the first material library an OBJ names, if it names one that exists."""
    path = Path(path)
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and parts[0] == "mtllib" and (path.parent / parts[1].strip()).is_file():
            library = path.parent / parts[1].strip()
            for entry in library.read_text(errors="replace").splitlines():
                fields = entry.split()
                if fields and fields[0] == "map_Kd" and len(fields) > 1:
                    texture = library.parent / fields[-1]
                    return texture if texture.is_file() else None
    return None


def write_obj(mesh: Mesh, path: str | Path, texture=None) -> Path:
    """Save ``mesh`` as ``path`` (.obj); with ``texture`` (a PIL image), also a material library (.mtl) naming it
    and the texture as .png beside it. Refuses to overwrite any of these files."""
    path = Path(path)
    files = [path.with_suffix(suffix) for suffix in ((".obj", ".mtl", ".png") if texture is not None else (".obj",))]
    for file in files:
        if file.exists():
            raise FileExistsError(f"{file} exists; pick another name.")
    lines = []
    if texture is not None:
        texture.convert("RGB").save(files[2])
        files[1].write_text(f"newmtl texture\nKd 1 1 1\nmap_Kd {files[2].name}\n")
        lines += [f"mtllib {files[1].name}", "usemtl texture"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.vertices.tolist()]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in mesh.uvs.tolist()]
    lines += ["f " + " ".join(f"{a + 1}/{t + 1}" for a, t in zip(face, uv_face))
              for face, uv_face in zip(mesh.faces.tolist(), mesh.uv_faces.tolist())]
    files[0].write_text("\n".join(lines) + "\n")
    return files[0]
