"""Saving a textured mesh with trimesh: .glb with the texture embedded, or .obj with its .mtl and .png."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .mesh import Mesh


def textured(mesh: Mesh, material=None):
    """``mesh`` as a ``trimesh.Trimesh`` with one UV per vertex (corners with different UVs become separate
    vertices) and ``material`` (a trimesh material, or None)."""
    import trimesh

    corners = np.stack([mesh.faces.numpy().reshape(-1), mesh.uv_faces.numpy().reshape(-1)], 1)
    unique, inverse = np.unique(corners, axis=0, return_inverse=True)
    visual = trimesh.visual.TextureVisuals(uv=mesh.uvs.numpy()[unique[:, 1]], material=material)
    return trimesh.Trimesh(mesh.vertices.numpy()[unique[:, 0]], inverse.reshape(-1, 3), visual=visual, process=False)


def write_glb(mesh: Mesh, path: str | Path, texture: Image.Image) -> Path:
    """Save ``mesh`` with ``texture`` (a double-sided, non-metallic, fully rough base colour) as the new file
    ``path``; an existing file is never overwritten."""
    from trimesh.visual.material import PBRMaterial

    material = PBRMaterial(name="texture", baseColorTexture=texture.convert("RGB"), metallicFactor=0.0,
                           roughnessFactor=1.0, doubleSided=True)
    return write_new(Path(path), {Path(path).name: textured(mesh, material).export(file_type="glb")})


def write_obj(mesh: Mesh, path: str | Path, texture: Image.Image | None = None) -> Path:
    """Save ``mesh`` as ``path`` (.obj); with ``texture``, also its material library (.mtl, white diffuse so viewers
    show the texture as it is) and the texture (.png) beside it, all named after ``path``. Refuses to overwrite
    any of these files."""
    from trimesh.exchange.obj import export_obj
    from trimesh.visual.material import SimpleMaterial

    path = Path(path).with_suffix(".obj")
    material = None if texture is None else SimpleMaterial(name=path.stem, image=texture.convert("RGB"),
                                                           diffuse=(255, 255, 255, 255))
    text, files = export_obj(textured(mesh, material), include_normals=False, include_color=False,
                             return_texture=True, mtl_name=path.with_suffix(".mtl").name, header=None)
    return write_new(path, {path.name: text.encode(), **files})


def write_new(path: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` (name → bytes) beside ``path`` unless any exists already; returns ``path``."""
    targets = {path.with_name(name): data for name, data in files.items()}
    taken = [str(target) for target in targets if target.exists()]
    if taken:
        raise FileExistsError(f"{', '.join(taken)} exists; pick another name.")
    for target, data in targets.items():
        with target.open("xb") as stream:
            stream.write(data)
    return path
