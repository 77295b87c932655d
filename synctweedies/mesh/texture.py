"""A mesh's UV texture as the canonical space: views render it, and every texel reads back each view that sees it."""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ..cameras import Cameras, look_at
from ..progress import steps
from ..spaces.base import CanonicalSpace
from ..spaces.fill import nearest_seen
from ..spaces.taps import bilinear_taps, gather_taps, unit_variance
from ..spaces.warp import BackwardWarp
from .background import COLOURS, BackgroundSchedule
from .directions import camera_angles
from .mesh import Mesh
from .rasterize import Fragments, rasterize


class MeshTexture(CanonicalSpace):
    """A ``texture_size``² texture ``[C, T, T]`` of ``mesh`` seen by ``cameras`` in ``view_size``² views.

    ``project`` samples the texture (bilinear) at each pixel's UV; background pixels show ``background``, or,
    with a ``schedule``, the colour it picks for each view at each step (:meth:`begin_step`) from ``palette``
    (``[K, C]``, one row per :data:`COLOURS` entry, in the views' units; RGB in [-1, 1] by default, which
    latent spaces must replace). :meth:`synchronize` keeps each view's own background, as the original's
    modes 1-3 do.

    ``unproject`` is a backward warp (:class:`~synctweedies.spaces.warp.BackwardWarp`): every texel on the
    surface finds where it lands in each view, and if that view sees it (its depth matches the view's depth
    buffer there) it reads the nearest pixel, with weight ``cosine ** weight_exponent`` (the view-angle
    cosine; the original's 1 while sampling). So each view covers all the texels it sees, as the original's
    per-view fill before its weighted mean does, at any texture-to-view ratio. ``unproject_final`` uses
    ``final_weight_exponent`` (the original's 6 for the baked RGB texture). Texels no view sees are filled
    from the nearest seen texel and keep coverage 0. The mesh is rasterised once, here, on ``device``
    (default: the mesh's); the maps are kept on the CPU and copied once to each device that uses them.
    """

    def __init__(self, mesh: Mesh, cameras: Cameras, view_size: int = 96, texture_size: int = 1536,
                 pixel_texture_size: int = 1024, weight_exponent: float = 1.0, final_weight_exponent: float = 6.0,
                 background: float = 0.0, palette: Tensor | None = None, schedule: BackgroundSchedule | None = None,
                 device: torch.device | str | None = None):
        self.mesh, self.cameras = mesh, cameras
        self.device = torch.device(device) if device is not None else mesh.vertices.device
        self.pixel_texture_size, self.background = pixel_texture_size, background
        self.weight_exponent, self.final_weight_exponent = weight_exponent, final_weight_exponent
        self.palette = torch.tensor(list(COLOURS.values()), dtype=torch.float32) if palette is None else palette
        self.vae_palette: Tensor | None = None
        """The background colours as a VAE encodes them, ``[14, C]`` (before a model's own latent scaling)."""
        self.schedule = schedule
        self.background_colours: Tensor | None = None
        self.num_views, self.view_size = len(cameras), (view_size, view_size)
        self.canonical_size = (texture_size, texture_size)
        on_device = mesh.to(self.device), cameras.to(self.device)
        fragments = rasterize(*on_device, view_size)
        self.index, self.coefficients = (t.cpu() for t in texel_taps(fragments, texture_size))
        self.warp = texel_warp(*on_device, fragments, texture_size).to("cpu")
        self.fragments: Fragments = fragments.to("cpu")
        self.seen = self.warp.seen()
        self.fill_index = nearest_seen(self.seen.to(self.device), wrap=False).flatten().cpu()

    def _on(self, device: torch.device) -> tuple[Tensor, ...]:
        """(texel index ``[N, h, w, 4]``, coefficients, foreground mask ``[N, 1, h, w]``, warp, fill index
        ``[T * T]``) on ``device``, copied once."""
        cache = self.__dict__.setdefault("_device_copies", {})
        if device not in cache:
            cache[device] = (self.index.clamp(min=0).to(device), self.coefficients.to(device),
                             self.fragments.mask.unsqueeze(1).to(device), self.warp.to(device),
                             self.fill_index.to(device))
        return cache[device]

    def project(self, canonical: Tensor) -> Tensor:
        index, coefficients, mask, *_ = self._on(canonical.device)
        views = gather_taps(canonical, index, coefficients)
        return torch.where(mask, views, self.backgrounds(views))

    def unproject(self, views: Tensor, weights: Tensor | None = None,
                  exponent: float | None = None) -> tuple[Tensor, Tensor]:
        *_, warp, fill = self._on(views.device)
        cosine = warp.weight
        exponent = self.weight_exponent if exponent is None else exponent
        texture, coverage = warp.unproject(views, cosine ** exponent, view_weights=weights)
        return texture.flatten(1)[:, fill].reshape(texture.shape), coverage

    def unproject_final(self, views: Tensor) -> tuple[Tensor, Tensor]:
        """:meth:`unproject` with the final bake's sharper view weights (``final_weight_exponent``)."""
        return self.unproject(views, exponent=self.final_weight_exponent)

    def synchronize(self, views: Tensor) -> Tensor:
        """The views made to agree on the mesh; each keeps its own background."""
        mask = self._on(views.device)[2]
        return torch.where(mask, super().synchronize(views), views)

    def initial_noise(self, channels: int, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float32) -> Tensor:
        """Texture noise read by every view (unit variance per pixel), independent noise on the background."""
        canonical = torch.randn((channels, *self.canonical_size), generator=generator, dtype=dtype)
        views = unit_variance(gather_taps(canonical, self.index.clamp(min=0), self.coefficients), self.coefficients)
        background = torch.randn(views.shape, generator=generator, dtype=dtype)
        return torch.where(self.fragments.mask.unsqueeze(1), views, background)

    def set_palette(self, palette: Tensor) -> None:
        """The background colours in the views' units, ``[14, C]`` (one row per colour of :data:`COLOURS`)."""
        if palette.ndim != 2 or palette.shape[0] != len(COLOURS):
            raise ValueError(f"The background palette must be [{len(COLOURS)}, C] (one colour per row); got "
                             f"{list(palette.shape)}.")
        self.palette = palette.float()

    def backgrounds(self, views: Tensor) -> Tensor:
        """What the background of each view shows, broadcastable to ``views`` ``[N, C, h, w]``."""
        if self.schedule is None:
            return torch.full_like(views, self.background)
        if self.palette.shape != (len(COLOURS), views.shape[1]):
            raise ValueError(f"The background palette must be [{len(COLOURS)}, {views.shape[1]}] (one colour per row, "
                             f"in the views' units); got {list(self.palette.shape)}.")
        colours = self.background_colours
        if colours is None:
            colours = torch.full((self.num_views,), list(COLOURS).index(self.schedule.fixed))
        return self.palette.to(views)[colours.to(views.device)][..., None, None]

    @property
    def attention_neighbours(self) -> list[list[int]]:
        """The original's mask for meshes: the cameras at the first camera's elevation form a ring (views i-1, i,
        i+1 of it); every other camera (the top views) attends to the ring camera nearest its azimuth and itself."""
        angles = camera_angles(self.cameras.positions)
        ring = [i for i, (elevation, _) in enumerate(angles) if abs(elevation - angles[0][0]) < 1e-3]
        neighbours = [[] for _ in angles]
        for k, i in enumerate(ring):
            neighbours[i] = sorted({ring[k - 1], i, ring[(k + 1) % len(ring)]})
        for i in set(range(len(angles))) - set(ring):
            turn = lambda j: abs((angles[j][1] - angles[i][1] + 180) % 360 - 180)  # noqa: E731
            neighbours[i] = sorted({min(ring, key=turn), i})
        return neighbours

    @property
    def reference_view(self) -> int:
        """The camera looking most directly at the mesh's front (+z), as in the original."""
        positions = self.cameras.positions
        return int((positions[:, 2] / positions.norm(dim=1)).argmax())

    def begin_run(self) -> None:
        super().begin_run()
        self.background_colours = None

    def begin_step(self, step: int, total: int) -> None:
        """Draw this step's background colours (the same ones in the pixel twins)."""
        if self.schedule is None:
            return
        colours = self.schedule.colours(step, total, self.background_colours, self.num_views)
        for space in (self, *self.__dict__.get("_scaled_spaces", {}).values()):
            space.background_colours = colours

    def build_scaled(self, factor: int) -> MeshTexture:
        """The same cameras at ``factor`` times the view size, on the RGB texture (``pixel_texture_size``), with
        the palette's colours in RGB."""
        twin = MeshTexture(self.mesh, self.cameras, self.view_size[0] * factor, self.pixel_texture_size,
                           self.pixel_texture_size, self.weight_exponent, self.final_weight_exponent, self.background,
                           schedule=self.schedule, device=self.device)
        twin.background_colours = self.background_colours
        return twin

    def __repr__(self) -> str:
        return (f"MeshTexture({len(self.mesh.faces)} faces, {self.num_views} views of {self.view_size[0]} px, "
                f"texture {self.canonical_size[0]}²)")


def texel_taps(fragments: Fragments, size: int) -> tuple[Tensor, Tensor]:
    """Bilinear texel taps ``[N, S, S, 4]`` (flat index, weight) of each pixel's UV; -1 on the background."""
    u, v = fragments.uv[..., 0], fragments.uv[..., 1]
    index, weight = bilinear_taps(u * size - 0.5, (1 - v) * size - 0.5, size, size, wrap=False)
    mask = fragments.mask.unsqueeze(-1)
    return torch.where(mask, index, -1), torch.where(mask, weight, 0.0)


def texel_surface(mesh: Mesh, size: int) -> tuple[Tensor, Tensor, Tensor]:
    """Where each texel of a ``size``² texture lies on ``mesh``: (flat texel index ``[M]``, surface point ``[M, 3]``,
    unit face normal ``[M, 3]``) for the ``M`` texels whose centre falls inside a UV triangle (found by
    rasterising the UV layout, row 0 at v = 1)."""
    device = mesh.vertices.device
    flat = torch.cat([mesh.uvs * 2 - 1, torch.zeros(len(mesh.uvs), 1, device=device)], 1)
    layout = Mesh(flat, mesh.uv_faces, mesh.uvs, mesh.uv_faces)
    above = torch.tensor([[0.0, 0.0, 2.0]], device=device)
    camera = Cameras.from_poses(look_at(above[0].cpu())[None].to(device), above, size, ortho_scale=1.0)
    fragments = rasterize(layout, camera, size)
    face, bary = fragments.face[0].flatten(), fragments.barycentric[0].reshape(-1, 3)
    texels = (face >= 0).nonzero()[:, 0]
    corners = mesh.vertices[mesh.faces[face[texels]]]
    points = (corners * bary[texels, :, None]).sum(1)
    normals = torch.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0], dim=-1)
    return texels, points, normals / normals.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def texel_warp(mesh: Mesh, cameras: Cameras, fragments: Fragments, size: int) -> BackwardWarp:
    """For every (texel, view) pair where the view sees the texel's surface point: the view's pixel nearest to the
    point (the original fills each texel from the nearest pixel its view splatted) and the view-angle cosine as
    the pair's weight.

    A view sees a point when the point projects inside it and its depth matches the view's depth buffer at that
    pixel, within the depth a pixel spans at the point's slant.
    """
    texels, points, normals = texel_surface(mesh, size)
    view_size = fragments.face.shape[-1]
    pixel_angle = 2 * math.tan(math.radians(cameras.fov) / 2) / view_size
    parts = []
    positions, rotations = cameras.positions, cameras.rotations
    for view in steps(range(len(cameras))):
        one = cameras[view]
        camera = one.to_camera(points)
        depth = -camera[0, :, 2]
        xy = one.to_pixels(camera, view_size)[0]
        pixel = xy.floor().long()
        inside = (depth > 1e-6) & (pixel >= 0).all(1) & (pixel < view_size).all(1)
        pixel = pixel.clamp(0, view_size - 1)
        towards = rotations[view, 2].expand_as(points) if cameras.orthographic else positions[view] - points
        cosine = (normals * towards).sum(1).abs() / towards.norm(dim=1).clamp_min(1e-12)
        footprint = 2 * cameras.ortho_scale / view_size if cameras.orthographic else depth * pixel_angle
        tolerance = footprint * (1 + 1 / cosine.clamp_min(0.2))
        buffer = fragments.depth[view][pixel[:, 1], pixel[:, 0]]
        seen = inside & fragments.mask[view][pixel[:, 1], pixel[:, 0]] & ((depth - buffer).abs() <= tolerance)
        index = (view * view_size + pixel[seen, 1]) * view_size + pixel[seen, 0]
        parts.append(BackwardWarp(texels[seen], index[:, None], torch.ones(len(index), 1, device=points.device),
                                  cosine[seen], (size, size)))
    return BackwardWarp.join(parts)
