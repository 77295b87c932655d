"""The colours of 3D Gaussians as the canonical space: views render them, and colours are fitted to views."""
from __future__ import annotations

import torch
from torch import Tensor

from ..progress import checkpoint
from ..spaces.base import CanonicalSpace
from .cameras import ViewCameras
from .render import Rendered, render
from .scene import Gaussians

COLOUR_ASSIGN = ("instance", "previous", "zero")


class GaussianColours(CanonicalSpace):
    """Colours ``[C, 1, G]`` of ``gaussians`` seen by ``cameras`` in ``view_size``² views ``[N, C, S, S]``.

    ``project`` renders the colours over ``background`` (``[C]``). ``unproject`` fits colours to views: it
    starts from ``color_assign`` — "instance" (every view pixel's foreground colour, its value less the
    background's share, splatted into the Gaussians it shows, weighted by their blending weights; one render
    and its backward pass), "previous" (the last fit) or "zero" — then
    takes ``iterations`` Adam steps of rate ``lr`` on the L1 error of one view at a time (the original's
    fitting); :meth:`unproject_final` takes ``final_iterations``. Every fit step is a
    :func:`~synctweedies.progress.checkpoint`. Coverage is each Gaussian's total blending weight over all views.
    """

    supported_modes = (0, 1, 2, 3)

    def __init__(self, gaussians: Gaussians, cameras: ViewCameras, view_size: int, background: Tensor,
                 iterations: int = 100, lr: float = 0.025, color_assign: str = "instance", antialiased: bool = False,
                 backend: str = "auto", pixel_background: Tensor | None = None, seed: int = 0,
                 zt_init: bool = True, rgb_domain: bool = False, final_iterations: int | None = None):
        if color_assign not in COLOUR_ASSIGN:
            raise ValueError(f"color_assign_method must be one of {', '.join(COLOUR_ASSIGN)}; got {color_assign!r}.")
        self.gaussians, self.cameras = gaussians, cameras.to(gaussians.means.device).resized(view_size)
        self.background = background.float()
        self.pixel_background = torch.zeros(3) if pixel_background is None else pixel_background
        self.iterations, self.lr, self.color_assign, self.seed = iterations, lr, color_assign, seed
        self.antialiased, self.backend, self.zt_init, self.rgb_domain = antialiased, backend, zt_init, rgb_domain
        self.final_iterations = iterations if final_iterations is None else final_iterations
        self.num_views, self.view_size, self.canonical_size = len(cameras), (view_size, view_size), (1, len(gaussians))
        self.previous: Tensor | None = None
        self.alpha = self.render(torch.zeros(len(gaussians), 1, device=gaussians.means.device)).alpha
        if not (self.alpha > 0.01).any():
            raise ValueError("No camera sees any Gaussian: check the cameras (up axis, distance) against the scene.")

    def render(self, colours: Tensor, background: Tensor | None = None, depth: bool = False) -> Rendered:
        """Render ``colours`` ``[G, C]`` into every view (and their expected depth, with ``depth``)."""
        return render(self.gaussians, colours, self.cameras, background, self.antialiased, self.backend, depth)

    def project(self, canonical: Tensor) -> Tensor:
        colours = canonical[:, 0].T.to(self.gaussians.means.device).float()
        return self.render(colours, self.background).images.to(canonical)

    def unproject(self, views: Tensor, weights: Tensor | None = None) -> tuple[Tensor, Tensor]:
        device = self.gaussians.means.device
        with torch.inference_mode(False), torch.enable_grad():
            target = views.detach().to(device).float().clone()
            mask = torch.ones_like(target[:, :1]) if weights is None else weights.detach().to(target).clone()
            gaussians = self.gaussians.cloned()
            alpha = self.alpha
            foreground = (target - (1 - alpha) * self.background.to(target)[:, None, None]) / alpha.clamp_min(0.05)
            seen = mask * (alpha > 0.05)
            splat, coverage = self.splat(gaussians, foreground * seen, seen)
            colours = {"instance": splat, "zero": torch.zeros_like(splat)}.get(self.color_assign, self.previous)
            if colours is None or colours.shape != splat.shape:
                colours = torch.zeros_like(splat)
            colours = self.fit(gaussians, colours.clone(), target, mask)
        self.previous = colours
        return colours.T[:, None].to(views.dtype), coverage[None, None]

    def begin_run(self) -> None:
        super().begin_run()
        self.previous = None

    def unproject_final(self, views: Tensor) -> tuple[Tensor, Tensor]:
        """:meth:`unproject` with ``final_iterations`` Adam steps (the original's 4000 for the saved colours)."""
        iterations, self.iterations = self.iterations, self.final_iterations
        try:
            return self.unproject(views)
        finally:
            self.iterations = iterations

    def splat(self, gaussians: Gaussians, views: Tensor, weights: Tensor) -> tuple[Tensor, Tensor]:
        """Weighted mean ``[G, C]`` of the view pixels each Gaussian contributes to, and coverage ``[G]``: the
        gradient of ``<render(colours), views>`` with respect to the colours, one pass for all channels."""
        probe = torch.zeros(len(gaussians), views.shape[1] + 1, device=views.device, requires_grad=True)
        rendered = render(gaussians, probe, self.cameras, None, self.antialiased, self.backend).images
        (rendered * torch.cat([views, weights], 1)).sum().backward()
        coverage = probe.grad[:, -1]
        return probe.grad[:, :-1] / coverage.clamp_min(1e-8)[:, None], coverage

    def fit(self, gaussians: Gaussians, colours: Tensor, views: Tensor, weights: Tensor) -> Tensor:
        """``iterations`` Adam steps on the L1 error of one view at a time, in a seeded random order."""
        if self.iterations <= 0:
            return colours.detach()
        colours.requires_grad_(True)
        optimizer = torch.optim.Adam([colours], lr=self.lr)
        generator = torch.Generator().manual_seed(self.seed)
        order = torch.cat([torch.randperm(self.num_views, generator=generator)
                           for _ in range(-(-self.iterations // self.num_views))])
        background = self.background.to(views)
        for view in order[:self.iterations].tolist():
            checkpoint()
            camera = ViewCameras(self.cameras.viewmats[view:view + 1], self.cameras.Ks[view:view + 1],
                                 self.cameras.size)
            image = render(gaussians, colours, camera, background, self.antialiased, self.backend).images
            loss = ((image - views[view:view + 1]).abs() * weights[view:view + 1]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return colours.detach()

    @property
    def pixel_space_reason(self) -> str:
        return "These Gaussians' colours are RGB (canonical_domain rgb), so views are averaged as images." \
            if self.rgb_domain else ""

    def initial_noise(self, channels: int, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float32) -> Tensor:
        """With ``zt_init`` (the original's flag), consistent noise: rendered Gaussian noise plus independent
        noise where the background shows, per pixel scaled to unit variance (the variance of the rendered part
        estimated from 64 renders of independent colours). Without, independent noise per view."""
        if not self.zt_init:
            return torch.randn((self.num_views, channels, *self.view_size), generator=generator, dtype=dtype)
        device = self.gaussians.means.device
        g = len(self.gaussians)
        noise = torch.randn(g, channels, generator=generator).to(device)
        rendered = self.render(noise)
        probes = self.render(torch.randn(g, 64, generator=generator).to(device)).images
        variance = probes.square().mean(1, keepdim=True) + (1 - rendered.alpha).square()
        background = torch.randn(rendered.images.shape, generator=generator).to(device)
        return ((rendered.images + (1 - rendered.alpha) * background) / variance.sqrt()).cpu().to(dtype)

    def build_scaled(self, factor: int) -> GaussianColours:
        """The same cameras at ``factor`` times the view size, RGB colours over ``pixel_background``."""
        background = self.pixel_background
        return GaussianColours(self.gaussians, self.cameras, self.view_size[0] * factor, background, self.iterations,
                               self.lr, self.color_assign, self.antialiased, self.backend, background, self.seed,
                               self.zt_init, final_iterations=self.final_iterations)

    def __repr__(self) -> str:
        return f"GaussianColours({len(self.gaussians)} Gaussians, {self.num_views} views of {self.view_size[0]} px)"
