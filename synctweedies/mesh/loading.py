"""Loading a mesh to texture from OBJ, glTF (.glb/.gltf) or PLY, with its own texture, unwrapping UVs on request."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..ply import read_ply
from .glb import load_gltf
from .obj import Mesh, load_obj, obj_texture_path

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".ply")


def load_mesh(path: str | Path, auto_uv: bool = False) -> tuple[Mesh, Image.Image | None]:
    """The mesh at ``path`` and its own base-colour texture (None if it has none).

    ``auto_uv`` unwraps new UVs with xatlas (``pip install xatlas``), also when the mesh has UVs; without it a
    mesh must bring one UV atlas in [0, 1]. ValueErrors name what is wrong and how to fix it.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Mesh {path} does not exist.")
    suffix = path.suffix.lower()
    if suffix == ".obj":
        mesh, texture_path = load_obj(path), obj_texture_path(path)
        texture = Image.open(texture_path).convert("RGB") if texture_path else None
    elif suffix in (".glb", ".gltf"):
        mesh, texture = load_gltf(path)
    elif suffix == ".ply":
        mesh, texture = load_ply_mesh(path), None
    else:
        raise ValueError(f"{path.name}: meshes must be {', '.join(MESH_SUFFIXES)}.")
    if len(mesh.faces) == 0:
        raise ValueError(f"{path.name} has no faces; texturing needs a surface mesh (a point cloud is not one).")
    if not torch.isfinite(mesh.vertices).all():
        raise ValueError(f"{path.name} has vertices that are not finite numbers (NaN or inf); repair the mesh.")
    if mesh.faces.min() < 0 or mesh.faces.max() >= len(mesh.vertices):
        raise ValueError(f"{path.name} has faces that refer to vertices it does not have; repair the mesh.")
    if auto_uv:
        return unwrap(mesh), None
    check_uvs(mesh, path.name)
    return mesh, texture


def check_uvs(mesh: Mesh, name: str) -> None:
    """A ValueError unless every corner of ``mesh`` has a UV in [0, 1]."""
    if not mesh.has_uvs:
        raise ValueError(f"{name} has faces without UVs. Turn on mesh_autouv to unwrap it with xatlas, or unwrap it "
                         "yourself (e.g. in Blender: Smart UV Project).")
    used = mesh.uvs[mesh.uv_faces.unique()]
    if (used < -1e-6).any() or (used > 1 + 1e-6).any():
        raise ValueError(f"{name} has UVs outside [0, 1] (tiling or UDIMs); texturing needs one [0, 1] atlas. "
                         "Turn on mesh_autouv to unwrap new UVs.")


def unwrap(mesh: Mesh) -> Mesh:
    """``mesh`` with new UVs from xatlas: one atlas in [0, 1], seams cut where xatlas chooses."""
    try:
        import xatlas
    except ImportError:
        raise ValueError("Unwrapping UVs (mesh_autouv) needs xatlas: pip install xatlas") from None
    mapping, corners, uvs = xatlas.parametrize(mesh.vertices.numpy(), mesh.faces.numpy().astype(np.uint32))
    corners = torch.from_numpy(corners.astype(np.int64))
    return Mesh(mesh.vertices, torch.from_numpy(mapping.astype(np.int64))[corners], torch.from_numpy(uvs).float(),
                corners)


def load_ply_mesh(path: Path) -> Mesh:
    """Vertices, triangles and UVs (vertex ``s``/``t``, ``u``/``v`` or ``texture_u``/``texture_v``, or MeshLab's
    per-face ``texcoord``) of a PLY mesh; ``uv_faces`` is -1 when it has none."""
    elements = read_ply(path)
    if "vertex" not in elements:
        raise ValueError(f"{path.name} has no vertex element.")
    vertex = elements["vertex"].data
    vertices = torch.from_numpy(np.stack([vertex[k] for k in "xyz"], 1).astype(np.float32))
    face = elements.get("face")
    lists = face.lists if face is not None else {}
    corners = lists.get("vertex_indices", lists.get("vertex_index"))
    if corners is None:
        return Mesh(vertices, torch.zeros(0, 3, dtype=torch.long), torch.zeros(0, 2), torch.zeros(0, 3, dtype=torch.long))
    if corners.shape[1] != 3:
        raise ValueError(f"{path.name} has faces of {corners.shape[1]} corners; triangulate it first.")
    faces = torch.from_numpy(corners.astype(np.int64))
    names = vertex.dtype.names
    pair = next((p for p in (("s", "t"), ("u", "v"), ("texture_u", "texture_v")) if set(p) <= set(names)), None)
    if pair is not None:
        uvs = torch.from_numpy(np.stack([vertex[pair[0]], vertex[pair[1]]], 1).astype(np.float32))
        return Mesh(vertices, faces, uvs, faces.clone())
    if "texcoord" in lists and lists["texcoord"].shape[1] == 6:
        uvs = torch.from_numpy(lists["texcoord"].reshape(-1, 2).astype(np.float32))
        return Mesh(vertices, faces, uvs, torch.arange(len(uvs)).reshape(-1, 3))
    return Mesh(vertices, faces, torch.zeros(0, 2), torch.full_like(faces, -1))
