"""Meshes the tests make themselves."""
from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from synctweedies.mesh import Mesh


def cube() -> Mesh:
    """The cube [-1, 1]³, each side the middle 60 % of its own cell of a 3 × 2 UV atlas."""
    sides = [(0, 1), (0, -1), (1, 1), (1, -1), (2, 1), (2, -1)]
    vertices, uvs, faces = [], [], []
    for k, (axis, sign) in enumerate(sides):
        a, b = [d for d in range(3) if d != axis]
        cell_u, cell_v = (k % 3) / 3, (k // 3) / 2
        for s, t in [(-1, -1), (1, -1), (1, 1), (-1, 1)]:
            point = [0.0, 0.0, 0.0]
            point[axis], point[a], point[b] = sign, s, t
            vertices.append(point)
            uvs.append([cell_u + (0.2 + 0.3 * (s + 1)) / 3, cell_v + (0.2 + 0.3 * (t + 1)) / 2])
        base = 4 * k
        faces += [[base, base + 1, base + 2], [base, base + 2, base + 3]]
    faces = torch.tensor(faces)
    return Mesh(torch.tensor(vertices, dtype=torch.float32), faces, torch.tensor(uvs), faces.clone())


def write_obj(mesh: Mesh, path: Path, texture: Image.Image | None = None) -> Path:
    """Save ``mesh`` (positions, UVs, faces) as an OBJ file; with ``texture``, also an MTL and the PNG it names."""
    lines = []
    if texture is not None:
        texture.save(path.with_suffix(".png"))
        path.with_suffix(".mtl").write_text(f"newmtl skin\nmap_Kd {path.with_suffix('.png').name}\n")
        lines += [f"mtllib {path.with_suffix('.mtl').name}", "usemtl skin"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.vertices.tolist()]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in mesh.uvs.tolist()]
    lines += ["f " + " ".join(f"{a + 1}/{t + 1}" for a, t in zip(face, uv_face))
              for face, uv_face in zip(mesh.faces.tolist(), mesh.uv_faces.tolist())]
    path.write_text("\n".join(lines) + "\n")
    return path
