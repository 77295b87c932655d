"""The colours of 3D Gaussians as the canonical space: views render them, and colours are fitted to views."""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import torch
from torch import Tensor

from ..depth import view_depth_hints
from ..progress import checkpoint
from ..spaces.base import CanonicalSpace
from ..cameras import Cameras
from .noise import consistent_noise
from .render import BlendingWeights, Rendered, blending_weights, render
from .scene import Gaussians

COLOUR_ASSIGN = ("previous", "zero", "instance")
GEOMETRY_LR = {"means": 3e-4, "opacities": 0.05, "scales": 0.005, "quats": 0.001}
"""The original's learning rates for the Gaussians' geometry (``--xyz_lr``, ``--opacity_lr``, ``--scale_lr``,
``--quat_lr``), for the parameters a fit may also optimise."""
GEOMETRY_SWITCHES = {"enable_xyz": ("means",), "enable_opacity": ("opacities",),
                     "enable_covariance": ("scales", "quats")}
GEOMETRY_LR_OPTIONS = {"means": "xyz_lr", "opacities": "opacity_lr", "scales": "scale_lr", "quats": "quat_lr"}
"""The original's options for optimising geometry: what each switch enables, and each field's learning rate."""


def optimised_geometry(options: Mapping) -> dict[str, float]:
    """The geometry a fit also optimises, ``{field: learning rate}``, from the original's options by name
    (``enable_xyz``, ``xyz_lr``, ...; a missing rate is the original's)."""
    return {field: options.get(GEOMETRY_LR_OPTIONS[field], GEOMETRY_LR[field])
            for switch, fields in GEOMETRY_SWITCHES.items() if options.get(switch) for field in fields}


TARGET_RANGE = 0.998
"""RGB targets are clamped to [0.001, 0.999] (in [-1, 1]: ±0.998), as the original clamps them."""


class GaussianColours(CanonicalSpace):
    """Colours ``[C, 1, G]`` of ``gaussians`` seen by ``cameras`` in ``view_size``² views ``[N, C, S, S]``.

    ``project`` renders the colours over ``background`` (``[C]``, or ``[1]``: one value for every channel, as the
    zero latent). ``unproject`` fits colours to views, as the original does: it starts from ``color_assign`` —
    "previous" (the last fit; the original's default), "zero", or "instance" (every view pixel's foreground colour,
    its value less the background's share, splatted into the Gaussians it shows by their blending weights) — then
    takes ``iterations`` Adam steps of rate ``lr`` on the L1 error of one view at a time. With ``logits`` (RGB views
    in [-1, 1]) it fits sigmoid logits of the colours against targets clamped to [0.001, 0.999].
    :meth:`unproject_final` takes ``final_iterations`` steps from zero (the saved colours). ``optimise`` maps
    geometry ("means", "opacities", "scales", "quats") the fits also optimise to its learning rate (the original's:
    :data:`GEOMETRY_LR`); it changes the scene for the rest of the run (every space sharing these Gaussians sees it)
    and is undone by :meth:`begin_run`. With ``clean_background`` (the original's ``--force_clean_composition``)
    synchronized views show the background colour; without, each keeps its own background behind the rendered
    Gaussians. Every fit step is a :func:`~synctweedies.progress.checkpoint`. Coverage is each Gaussian's total
    blending weight over all views.
    """

    supported_modes = (0, 1, 2, 3)

    def __init__(self, gaussians: Gaussians, cameras: Cameras, view_size: int, background: Tensor,
                 iterations: int = 100, lr: float = 0.025, color_assign: str = "previous", antialiased: bool = False,
                 backend: str = "auto", pixel_background: Tensor | None = None, seed: int = 0,
                 zt_init: bool = True, rgb_domain: bool = False, final_iterations: int | None = None,
                 logits: bool = False, clean_background: bool = True, optimise: dict[str, float] | None = None):
        if color_assign not in COLOUR_ASSIGN:
            raise ValueError(f"color_assign_method must be one of {', '.join(COLOUR_ASSIGN)}; got {color_assign!r}.")
        unknown = set(optimise or {}) - set(GEOMETRY_LR)
        if unknown:
            raise ValueError(f"Only {', '.join(GEOMETRY_LR)} can be optimised; got {', '.join(sorted(unknown))}.")
        self.gaussians, self.cameras = gaussians, cameras.to(gaussians.means.device).resized(view_size)
        self.background = background.float()
        self.pixel_background = torch.zeros(3) if pixel_background is None else pixel_background
        self.iterations, self.lr, self.color_assign, self.seed = iterations, lr, color_assign, seed
        self.antialiased, self.backend, self.zt_init, self.rgb_domain = antialiased, backend, zt_init, rgb_domain
        self.final_iterations = iterations if final_iterations is None else final_iterations
        self.logits, self.clean_background, self.optimise = logits, clean_background, dict(optimise or {})
        self.num_views, self.view_size, self.canonical_size = len(cameras), (view_size, view_size), (1, len(gaussians))
        self.initial = gaussians.cloned() if optimise else None
        self.previous: Tensor | None = None
        self.alpha = self.coverage_alpha()
        if not (self.alpha > 0.01).any():
            raise ValueError("No camera sees any Gaussian: check the cameras (up axis, distance) against the scene.")

    def render(self, colours: Tensor, background: Tensor | None = None, depth: bool = False,
               gaussians: Gaussians | None = None, cameras: Cameras | None = None) -> Rendered:
        """Render ``colours`` ``[G, C]`` into every view (and their expected depth, with ``depth``)."""
        return render(gaussians or self.gaussians, colours, cameras or self.cameras, background, self.antialiased,
                      self.backend, depth)

    def depth_hints(self) -> Tensor:
        """The original's ControlNet depth hints of every view, ``[N, S, S]`` in [0, 1] on the CPU (normalised
        over all views together)."""
        rendered = self.render(torch.zeros(len(self.gaussians), 1, device=self.gaussians.means.device), depth=True)
        return view_depth_hints(rendered.depth[:, 0].cpu(), rendered.alpha[:, 0].cpu() > 0.01, per_view=False)

    def coverage_alpha(self) -> Tensor:
        """Each view's alpha ``[N, 1, S, S]`` (how much of each pixel the Gaussians cover)."""
        return self.render(torch.zeros(len(self.gaussians), 1, device=self.gaussians.means.device)).alpha

    def background_of(self, channels: int) -> Tensor:
        """The background ``[channels]`` (a one-value background is that value in every channel)."""
        return self.background.expand(channels) if self.background.numel() == 1 else self.background

    def colours_of(self, features: Tensor) -> Tensor:
        """Fitted features ``[G, C]`` → colours in the views' units (sigmoid logits to [-1, 1] with ``logits``)."""
        return torch.sigmoid(features) * 2 - 1 if self.logits else features

    def project(self, canonical: Tensor) -> Tensor:
        colours = canonical[:, 0].T.to(self.gaussians.means.device).float()
        return self.render(colours, self.background_of(colours.shape[1])).images.to(canonical)

    def synchronize(self, views: Tensor) -> Tensor:
        """Render the colours fitted to ``views``; without ``clean_background``, over each view's own background."""
        canonical = self.unproject(views)[0]
        if self.clean_background:
            return self.project(canonical)
        rendered = self.render(canonical[:, 0].T.to(self.gaussians.means.device).float())
        return (rendered.images + (1 - rendered.alpha) * views.to(rendered.images)).to(views)

    def unproject(self, views: Tensor, weights: Tensor | None = None,
                  start: str | None = None, iterations: int | None = None) -> tuple[Tensor, Tensor]:
        device = self.gaussians.means.device
        with torch.inference_mode(False), torch.enable_grad():
            target = views.detach().to(device).float().clone()
            if self.logits:
                target = target.clamp(-TARGET_RANGE, TARGET_RANGE)
            mask = torch.ones_like(target[:, :1]) if weights is None else weights.detach().to(target).clone()
            gaussians = self.gaussians.cloned()
            alpha = self.coverage_alpha() if self.optimise else self.alpha
            background = self.background_of(target.shape[1]).to(target)[:, None, None]
            foreground = (target - (1 - alpha) * background) / alpha.clamp_min(0.05)
            seen = mask * (alpha > 0.05)
            splat, coverage = self.splat(gaussians, foreground * seen, seen)
            features = {"instance": self.features_of(splat), "zero": torch.zeros_like(splat),
                        "previous": self.previous}[start or self.color_assign]
            if features is None or features.shape != splat.shape:
                features = torch.zeros_like(splat)
            features = self.fit(gaussians, features.clone(), target, mask,
                                self.iterations if iterations is None else iterations)
        self.previous = features
        return self.colours_of(features).T[:, None].to(views.dtype), coverage[None, None]

    def features_of(self, colours: Tensor) -> Tensor:
        """Colours in the views' units → the features that give them (logits with ``logits``)."""
        return torch.logit(((colours + 1) / 2).clamp(0.001, 0.999)) if self.logits else colours

    def begin_run(self) -> None:
        super().begin_run()
        self.previous = None
        if self.initial is not None:
            for name in self.optimise:
                setattr(self.gaussians, name, getattr(self.initial, name).clone())

    def unproject_final(self, views: Tensor) -> tuple[Tensor, Tensor]:
        """:meth:`unproject` with ``final_iterations`` Adam steps from zero (the original's 4000 for the saved
        colours)."""
        return self.unproject(views, start="zero", iterations=self.final_iterations)

    def splat(self, gaussians: Gaussians, views: Tensor, weights: Tensor) -> tuple[Tensor, Tensor]:
        """Weighted mean ``[G, C]`` of the view pixels each Gaussian contributes to, and coverage ``[G]``: the
        gradient of ``<render(colours), views>`` with respect to the colours, one pass for all channels."""
        probe = torch.zeros(len(gaussians), views.shape[1] + 1, device=views.device, requires_grad=True)
        rendered = self.render(probe, gaussians=gaussians).images
        (rendered * torch.cat([views, weights], 1)).sum().backward()
        coverage = probe.grad[:, -1]
        return probe.grad[:, :-1] / coverage.clamp_min(1e-8)[:, None], coverage

    def fit(self, gaussians: Gaussians, features: Tensor, views: Tensor, weights: Tensor, iterations: int) -> Tensor:
        """``iterations`` Adam steps on the L1 error of one view at a time, in a seeded random order; the geometry
        in ``optimise`` is fitted too and written back to the shared Gaussians."""
        if iterations <= 0:
            return features.detach()
        features.requires_grad_(True)
        geometry = {name: getattr(gaussians, name).detach().clone().requires_grad_(True) for name in self.optimise}
        optimizer = torch.optim.Adam([{"params": [features], "lr": self.lr}] +
                                     [{"params": [p], "lr": self.optimise[name]} for name, p in geometry.items()],
                                     fused=views.is_cuda)
        fitted = replace(gaussians, **geometry)
        weights_of_views = self.blending_weights() if not geometry else None
        generator = torch.Generator().manual_seed(self.seed)
        order = torch.cat([torch.randperm(self.num_views, generator=generator)
                           for _ in range(-(-iterations // self.num_views))])
        background = self.background_of(views.shape[1]).to(views)
        for view in order[:iterations].tolist():
            checkpoint()
            if weights_of_views is not None:
                image = weights_of_views.render(self.colours_of(features), view, background)
            else:
                image = self.render(self.colours_of(features), background, gaussians=fitted,
                                    cameras=self.cameras[view]).images
            loss = ((image - views[view:view + 1]).abs() * weights[view:view + 1]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        for name, parameter in geometry.items():
            setattr(self.gaussians, name, parameter.detach())
        return features.detach()

    def preview(self, views: Tensor) -> Tensor:
        """The first view ``[1, C, h, w]``: the colours are a list, not an image, and fitting them for a preview
        would cost a fit and move the next fit's start (``previous``)."""
        return views[:1]

    def blending_weights(self) -> BlendingWeights | None:
        """Every view's blending weights, built once, for fits that change only the colours (None when they would
        not fit in memory: fits then render every step)."""
        if "_weights" not in self.__dict__:
            self._weights = blending_weights(self.gaussians, self.cameras, self.antialiased, self.backend)
        return self._weights

    @property
    def pixel_space_reason(self) -> str:
        return "These Gaussians' colours are RGB (canonical_domain rgb), so views are averaged as images." \
            if self.rgb_domain else ""

    def initial_noise(self, channels: int, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float32) -> Tensor:
        """With ``zt_init`` (the original's flag), :func:`~synctweedies.gaussians.noise.consistent_noise`; without,
        independent noise per view."""
        if not self.zt_init:
            return torch.randn((self.num_views, channels, *self.view_size), generator=generator, dtype=dtype)
        return consistent_noise(self.gaussians, self.cameras, channels, generator).cpu().to(dtype)

    def build_scaled(self, factor: int) -> GaussianColours:
        """The same cameras at ``factor`` times the view size: RGB colours (sigmoid logits) over
        ``pixel_background``, sharing these Gaussians."""
        background = self.pixel_background
        twin = GaussianColours(self.gaussians, self.cameras, self.view_size[0] * factor, background, self.iterations,
                               self.lr, self.color_assign, self.antialiased, self.backend, background, self.seed,
                               self.zt_init, final_iterations=self.final_iterations, logits=True,
                               clean_background=self.clean_background)
        twin.optimise, twin.initial = self.optimise, self.initial
        return twin

    def __repr__(self) -> str:
        return f"GaussianColours({len(self.gaussians)} Gaussians, {self.num_views} views of {self.view_size[0]} px)"
