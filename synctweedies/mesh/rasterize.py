"""A rasteriser in plain PyTorch: per view and pixel, the visible face, its barycentrics, UV, depth and normal.

Vectorised over pixels and faces in chunks, on whatever device the mesh is on; no compiler, no CUDA
extension. Views are rasterised once per run, not per step.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import torch
from torch import Tensor

from ..progress import checkpoint, steps
from ..cameras import Cameras
from .mesh import Mesh


@dataclass
class Fragments:
    """Per view and pixel (``[N, S, S]``): ``face`` (-1 for background), ``barycentric`` ``[..., 3]``,
    ``uv`` ``[..., 2]``, ``depth`` (distance along the view axis), ``normal`` ``[..., 3]`` (world, unit, facing
    the camera) and ``cosine`` between the normal and the direction to the camera."""

    face: Tensor
    barycentric: Tensor
    uv: Tensor
    depth: Tensor
    normal: Tensor
    cosine: Tensor

    def to(self, device: torch.device | str) -> Fragments:
        return Fragments(*(getattr(self, name).to(device) for name in self.__dataclass_fields__))

    @property
    def mask(self) -> Tensor:
        """``[N, S, S]`` bool: the pixel shows the mesh."""
        return self.face >= 0


def rasterize(mesh: Mesh, cameras: Cameras, size: int, backend: str = "auto", faces_per_chunk: int = 1024,
              pixels_per_chunk: int = 4096) -> Fragments:
    """Rasterise ``mesh`` into ``size`` × ``size`` views of every camera (nearest surface wins).

    ``backend``: "torch" (this module's, plain PyTorch), "pytorch3d" (its ``rasterize_meshes``), or "auto":
    pytorch3d when it is importable, else torch. Both give the same fragments up to float rounding.
    """
    if backend == "auto":
        backend = "pytorch3d" if pytorch3d_available() else "torch"
    if backend == "pytorch3d":
        visible = _visible_pytorch3d(mesh, cameras, size)
    elif backend == "torch":
        visible = [_visible_torch(mesh, cameras, n, size, faces_per_chunk, pixels_per_chunk)
                   for n in steps(range(len(cameras)))]
    else:
        raise ValueError(f"Unknown rasteriser backend {backend!r}; use auto, torch or pytorch3d.")
    views = [_attributes(mesh, cameras, n, *parts) for n, parts in enumerate(visible)]
    return Fragments(*(torch.stack(parts) for parts in zip(*views)))


def pytorch3d_available() -> bool:
    """Whether pytorch3d (the original's rasteriser) can be imported."""
    return importlib.util.find_spec("pytorch3d") is not None


def _screen(mesh: Mesh, cameras: Cameras, view: int, size: int) -> tuple[Tensor, Tensor]:
    """Pixel coordinates ``[V, 2]`` and view-axis depths ``[V]`` of the vertices in ``view``."""
    one = cameras[view]
    camera = one.to_camera(mesh.vertices)
    return one.to_pixels(camera, size)[0], -camera[0, :, 2]


def _visible_torch(mesh: Mesh, cameras: Cameras, view: int, size: int, faces_per_chunk: int,
                   pixels_per_chunk: int) -> tuple[Tensor, Tensor, Tensor]:
    """(face ``[S, S]``, -1 for none; barycentrics ``[S, S, 3]``; depth ``[S, S]``) of the nearest surface."""
    device = mesh.vertices.device
    screen, depth = _screen(mesh, cameras, view, size)
    corners, corner_depth = screen[mesh.faces], depth[mesh.faces]  # [F, 3, 2], [F, 3]
    in_front = (corner_depth > 1e-6).all(1)
    low, high = corners.min(1).values, corners.max(1).values
    area = _edge(corners[:, 0], corners[:, 1], corners[:, 2])
    usable = in_front & (area.abs() > 1e-12)
    centres = torch.arange(size, device=device, dtype=torch.float32) + 0.5
    ys, xs = torch.meshgrid(centres, centres, indexing="ij")
    pixels = torch.stack([xs.flatten(), ys.flatten()], -1)
    best_depth = torch.full((size * size,), float("inf"), device=device)
    best_face = torch.full((size * size,), -1, dtype=torch.long, device=device)
    best_bary = torch.zeros(size * size, 3, device=device)
    for start in range(0, size * size, pixels_per_chunk):
        p = pixels[start:start + pixels_per_chunk]
        overlaps = usable & (low[:, 1] <= p[-1, 1]) & (high[:, 1] >= p[0, 1])
        candidates = overlaps.nonzero()[:, 0]
        for face_start in range(0, len(candidates), faces_per_chunk):
            checkpoint()
            faces = candidates[face_start:face_start + faces_per_chunk]
            c = corners[faces]
            w = torch.stack([_edge(c[None, :, 1], c[None, :, 2], p[:, None]),
                             _edge(c[None, :, 2], c[None, :, 0], p[:, None]),
                             _edge(c[None, :, 0], c[None, :, 1], p[:, None])], -1) / area[faces][None, :, None]
            inside = (w >= -1e-6).all(-1)
            if cameras.orthographic:
                bary, z = w, (w * corner_depth[faces][None]).sum(-1)
            else:
                inverse = w / corner_depth[faces][None]
                z = 1 / inverse.sum(-1)
                bary = inverse * z[..., None]
            z = torch.where(inside, z, torch.full_like(z, float("inf")))
            nearest, which = z.min(1)
            better = nearest < best_depth[start:start + len(p)]
            rows = torch.arange(len(p), device=device)
            best_depth[start:start + len(p)] = torch.where(better, nearest, best_depth[start:start + len(p)])
            best_face[start:start + len(p)] = torch.where(better, faces[which], best_face[start:start + len(p)])
            best_bary[start:start + len(p)] = torch.where(better[:, None], bary[rows, which],
                                                          best_bary[start:start + len(p)])
    return best_face.reshape(size, size), best_bary.reshape(size, size, 3), best_depth.reshape(size, size)


def _visible_pytorch3d(mesh: Mesh, cameras: Cameras, size: int) -> list[tuple[Tensor, Tensor, Tensor]]:
    """The same as :func:`_visible_torch` for every view, by pytorch3d's ``rasterize_meshes``: vertices go in
    as pytorch3d screen-space NDC (x left, y up) with their view depth, perspective-correct."""
    from pytorch3d.renderer.mesh.rasterize_meshes import rasterize_meshes
    from pytorch3d.structures import Meshes

    verts, vertex_depths = [], []
    for view in range(len(cameras)):
        screen, depth = _screen(mesh, cameras, view, size)
        verts.append(torch.stack([1 - 2 * screen[:, 0] / size, 1 - 2 * screen[:, 1] / size, depth], -1))
        vertex_depths.append(depth)
    meshes = Meshes(verts=verts, faces=[mesh.faces] * len(cameras))
    # a pixel centre exactly on an edge counts as inside (pytorch3d's test is strict, ours is not): a blur of
    # 1e-5 (NDC, squared below) takes it in, with barycentrics clipped back onto the face
    faces, _, bary, _ = rasterize_meshes(meshes, image_size=size, blur_radius=1e-10, faces_per_pixel=1,
                                         perspective_correct=not cameras.orthographic, clip_barycentric_coords=True,
                                         cull_backfaces=False)
    offsets = torch.arange(len(cameras), device=faces.device)[:, None, None] * len(mesh.faces)
    face = torch.where(faces[..., 0] >= 0, faces[..., 0] - offsets, -1)
    bary = bary[..., 0, :]
    return [(face[view], bary[view], (depth[mesh.faces[face[view].clamp(min=0)]] * bary[view]).sum(-1))
            for view, depth in enumerate(vertex_depths)]


def _attributes(mesh: Mesh, cameras: Cameras, view: int, face: Tensor, bary: Tensor,
                depth: Tensor) -> tuple[Tensor, ...]:
    """:class:`Fragments` fields of one view from its visible faces, barycentrics and depths."""
    device = mesh.vertices.device
    visible = face >= 0
    safe = face.clamp(min=0)
    uv = (mesh.uvs[mesh.uv_faces[safe]] * bary[..., None]).sum(-2)
    v = mesh.vertices[mesh.faces]
    normals = torch.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0], dim=-1)
    normals = normals / normals.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    points = (v[safe] * bary[..., None]).sum(-2)
    to_camera = cameras.positions[view].to(device) - points
    if cameras.orthographic:
        to_camera = cameras.rotations[view, 2].to(device).expand_as(points)
    to_camera = to_camera / to_camera.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    normal = normals[safe]
    facing = (normal * to_camera).sum(-1)
    normal = torch.where(facing[..., None] < 0, -normal, normal)
    zero = torch.zeros((), device=device)
    return (torch.where(visible, face, -1), bary * visible[..., None], uv * visible[..., None],
            torch.where(visible, depth, zero), normal * visible[..., None],
            torch.where(visible, facing.abs(), zero))


def _edge(a: Tensor, b: Tensor, p: Tensor) -> Tensor:
    """Twice the signed area of triangle (a, b, p), ``[..., 2]`` points → ``[...]``."""
    return (b[..., 0] - a[..., 0]) * (p[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (p[..., 0] - a[..., 0])
