"""A mesh's UV texture as the canonical space: views render it, and are splatted back into texels."""
from __future__ import annotations

import torch
from torch import Tensor

from ..spaces.indexed import IndexedSpace
from ..spaces.fill import nearest_seen
from ..spaces.taps import bilinear_taps, unit_variance
from .background import COLOURS, BackgroundSchedule
from .cameras import Cameras
from .mesh import Mesh
from .rasterize import Fragments, rasterize


class MeshTexture(IndexedSpace):
    """A ``texture_size``² texture ``[C, T, T]`` of ``mesh`` seen by ``cameras`` in ``view_size``² views.

    ``project`` samples the texture (bilinear) at each pixel's UV; background pixels show
    ``background``, or, with a ``schedule``, the colour it picks for each view at each step
    (:meth:`begin_step`) from ``palette`` (``[K, C]``, one row per :data:`COLOURS` entry, in the views'
    units; RGB in [-1, 1] by default, which latent spaces must replace). ``unproject`` splats every view pixel into its texels with weight
    ``cosine ** weight_exponent`` (the view-angle cosine), normalised by the accumulated weight; texels
    no view sees are filled from the nearest seen texel and keep coverage 0. The mesh is rasterised
    once, here, on ``device`` (default: the mesh's), as is the fill; the results are kept on the CPU.
    """

    def __init__(self, mesh: Mesh, cameras: Cameras, view_size: int = 96, texture_size: int = 1536,
                 pixel_texture_size: int = 1024, weight_exponent: float = 6.0, background: float = 0.0,
                 palette: Tensor | None = None, schedule: BackgroundSchedule | None = None,
                 device: torch.device | str | None = None):
        self.mesh, self.cameras = mesh, cameras
        self.device = torch.device(device) if device is not None else mesh.vertices.device
        self.pixel_texture_size, self.weight_exponent, self.background = pixel_texture_size, weight_exponent, background
        self.palette = torch.tensor(list(COLOURS.values()), dtype=torch.float32) if palette is None else palette
        self.schedule = schedule
        self.background_colours: Tensor | None = None
        self.fragments: Fragments = rasterize(mesh.to(self.device), cameras.to(self.device), view_size).to("cpu")
        index, coefficients = texel_taps(self.fragments, texture_size)
        weights = self.fragments.cosine.clamp_min(0) ** weight_exponent
        super().__init__((texture_size, texture_size), index, weights, coefficients)
        seen = torch.zeros(texture_size * texture_size, dtype=torch.bool)
        seen[index[coefficients != 0]] = True
        self.seen = seen.reshape(texture_size, texture_size)
        self.fill_index = nearest_seen(self.seen.to(self.device), wrap=False).flatten().cpu()

    def project(self, canonical: Tensor) -> Tensor:
        views = super().project(canonical)
        return torch.where(self._on(views.device)[0], views, self.backgrounds(views))

    def _on(self, device: torch.device) -> tuple[Tensor, Tensor]:
        """(foreground mask ``[N, 1, h, w]``, nearest-seen fill index ``[T * T]``) on ``device``, copied once."""
        cache = self.__dict__.setdefault("_device_copies", {})
        if device not in cache:
            cache[device] = (self.fragments.mask.unsqueeze(1).to(device), self.fill_index.to(device))
        return cache[device]

    def initial_noise(self, channels: int, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float32) -> Tensor:
        """Texture noise read by every view (unit variance per pixel), independent noise on the background."""
        canonical = torch.randn((channels, *self.canonical_size), generator=generator, dtype=dtype)
        views = unit_variance(super().project(canonical), self.coefficients)
        background = torch.randn(views.shape, generator=generator, dtype=dtype)
        return torch.where(self.fragments.mask.unsqueeze(1), views, background)

    def backgrounds(self, views: Tensor) -> Tensor:
        """What the background of each view shows, broadcastable to ``views`` ``[N, C, h, w]``."""
        if self.schedule is None:
            return torch.full_like(views, self.background)
        if self.palette.shape != (len(COLOURS), views.shape[1]):
            raise ValueError(f"The background palette must be [{len(COLOURS)}, {views.shape[1]}] (one colour per row, in "
                             f"the views' units); got {list(self.palette.shape)}.")
        colours = self.background_colours
        if colours is None:
            colours = torch.full((self.num_views,), list(COLOURS).index(self.schedule.fixed))
        return self.palette.to(views)[colours.to(views.device)][..., None, None]

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

    def unproject(self, views: Tensor, weights: Tensor | None = None) -> tuple[Tensor, Tensor]:
        texture, coverage = super().unproject(views, weights)
        filled = texture.flatten(1)[:, self._on(texture.device)[1]].reshape(texture.shape)
        return filled, coverage

    def build_scaled(self, factor: int) -> MeshTexture:
        """The same cameras at ``factor`` times the view size, on the RGB texture (``pixel_texture_size``), with
        the palette's colours in RGB."""
        twin = MeshTexture(self.mesh, self.cameras, self.view_size[0] * factor, self.pixel_texture_size,
                           self.pixel_texture_size, self.weight_exponent, self.background, schedule=self.schedule,
                           device=self.device)
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
