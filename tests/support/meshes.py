"""Meshes the tests make themselves."""
from __future__ import annotations

import torch

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
