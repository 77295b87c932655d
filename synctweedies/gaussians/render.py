"""Rendering Gaussians into views: gsplat on CUDA when it is installed, a reference renderer in plain PyTorch
everywhere else (the same EWA splatting: 2D covariances dilated by 0.3 px², alpha capped at 0.99 and dropped
below 1/255, front-to-back compositing by depth)."""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import torch
from torch import Tensor

from ..progress import checkpoint
from .cameras import ViewCameras
from .scene import Gaussians


@dataclass
class Rendered:
    """``images`` ``[N, C, S, S]`` (composited over the background), ``alpha`` ``[N, 1, S, S]`` and expected
    ``depth`` ``[N, 1, S, S]`` (0 where nothing is seen; None where gsplat was not asked for it)."""

    images: Tensor
    alpha: Tensor
    depth: Tensor | None


def gsplat_available(device: torch.device) -> bool:
    """Whether gsplat is installed and ``device`` is a CUDA device it can render on."""
    return device.type == "cuda" and importlib.util.find_spec("gsplat") is not None


def resolve_backend(backend: str, device: torch.device) -> str:
    """``backend`` with "auto" made "gsplat" where :func:`gsplat_available`, else "reference"; a ValueError for a
    gsplat request that cannot be met."""
    if backend == "auto":
        backend = "gsplat" if gsplat_available(device) else "reference"
    if backend == "gsplat" and not gsplat_available(device):
        raise ValueError("The gsplat backend needs `pip install gsplat` and a CUDA device; use the reference backend.")
    return backend


class FixedGeometry:
    """gsplat's projection and tile lists of every view of ``gaussians``, computed once, for fits that change only
    the colours: :meth:`render` then re-runs only one view's per-pixel blending (gsplat's
    ``rasterize_to_pixels``), the same images as :func:`render` without projecting and sorting every Gaussian
    again at each fit step."""

    def __init__(self, gaussians: Gaussians, cameras: ViewCameras, antialiased: bool):
        import gsplat

        self.size, self.views = cameras.size, []
        device = gaussians.means.device
        with torch.no_grad():
            for viewmat, K in zip(cameras.viewmats.to(device), cameras.Ks.to(device)):
                _, _, meta = gsplat.rasterization(
                    gaussians.means, gaussians.quats / gaussians.quats.norm(dim=-1, keepdim=True),
                    gaussians.scales.exp(), torch.sigmoid(gaussians.opacities),
                    torch.zeros(len(gaussians), 1, device=device), viewmat[None], K[None], self.size, self.size,
                    packed=False, rasterize_mode="antialiased" if antialiased else "classic")
                self.views.append({key: meta[key] for key in ("means2d", "conics", "opacities", "isect_offsets",
                                                              "flatten_ids", "tile_size")})

    def render(self, colours: Tensor, view: int, background: Tensor) -> Tensor:
        """View ``view`` of ``colours`` ``[G, C]`` over ``background`` ``[C]``: ``[1, C, S, S]``."""
        import gsplat

        v = self.views[view]
        images, _ = gsplat.rasterize_to_pixels(v["means2d"], v["conics"], colours[None], v["opacities"], self.size,
                                               self.size, v["tile_size"], v["isect_offsets"], v["flatten_ids"],
                                               backgrounds=background.to(colours)[None])
        return images.movedim(-1, 1)


def render(gaussians: Gaussians, colours: Tensor, cameras: ViewCameras, background: Tensor | None = None,
           antialiased: bool = False, backend: str = "auto", depth: bool = False) -> Rendered:
    """Render ``colours`` ``[G, C]`` of ``gaussians`` from every camera. ``background`` ``[C]`` or ``[N, C]``
    (default 0). ``backend``: "gsplat", "reference", or "auto" (gsplat where :func:`gsplat_available`); ``depth``
    also renders the expected depth."""
    device = colours.device
    backend = resolve_backend(backend, device)
    opacities = torch.sigmoid(gaussians.opacities)
    viewmats, Ks = cameras.viewmats.to(device), cameras.Ks.to(device)
    if backend == "gsplat":
        import gsplat

        out, alpha, _ = gsplat.rasterization(
            gaussians.means, gaussians.quats / gaussians.quats.norm(dim=-1, keepdim=True), gaussians.scales.exp(),
            opacities, colours, viewmats, Ks, cameras.size, cameras.size, render_mode="RGB+ED" if depth else "RGB",
            rasterize_mode="antialiased" if antialiased else "classic")
        images, alpha = out.movedim(-1, 1), alpha.movedim(-1, 1)
        images, expected = (images[:, :-1], images[:, -1:]) if depth else (images, None)
    else:
        images, expected, alpha = _reference(gaussians, opacities, colours, viewmats, Ks, cameras.size, antialiased)
    if background is not None:
        background = background.to(images).reshape(-1, images.shape[1], 1, 1)
        images = images + (1 - alpha) * background
    return Rendered(images, alpha, expected)


def _reference(gaussians: Gaussians, opacities: Tensor, colours: Tensor, viewmats: Tensor, Ks: Tensor, size: int,
               antialiased: bool, pixels_per_chunk: int = 4096) -> tuple[Tensor, Tensor, Tensor]:
    """(colours ``[N, C, S, S]`` over black, expected depth ``[N, 1, S, S]``, alpha ``[N, 1, S, S]``)."""
    from kornia.geometry.conversions import quaternion_to_rotation_matrix

    rotation = quaternion_to_rotation_matrix(gaussians.quats)
    scaled = rotation * gaussians.scales.exp()[:, None, :]
    covariance = scaled @ scaled.transpose(1, 2)  # [G, 3, 3]
    ys, xs = torch.meshgrid(*(torch.arange(size, device=colours.device, dtype=torch.float32) + 0.5,) * 2, indexing="ij")
    pixels = torch.stack([xs.flatten(), ys.flatten()], -1)
    images, depths, alphas = [], [], []
    for viewmat, K in zip(viewmats, Ks):
        checkpoint()
        camera = gaussians.means @ viewmat[:3, :3].T + viewmat[:3, 3]
        z = camera[:, 2]
        visible = z > 0.01
        x, y, zv = camera[visible, 0], camera[visible, 1], z[visible]
        fx, fy = K[0, 0], K[1, 1]
        # as 3DGS and gsplat: the Jacobian is taken at directions clamped to 1.3 times the field of view
        limit_x, limit_y = 1.3 * 0.5 * size / fx, 1.3 * 0.5 * size / fy
        tx, ty = (x / zv).clamp(-limit_x, limit_x) * zv, (y / zv).clamp(-limit_y, limit_y) * zv
        jacobian = torch.zeros(len(zv), 2, 3, device=z.device)
        jacobian[:, 0, 0], jacobian[:, 0, 2] = fx / zv, -fx * tx / zv ** 2
        jacobian[:, 1, 1], jacobian[:, 1, 2] = fy / zv, -fy * ty / zv ** 2
        world_to_image = jacobian @ viewmat[:3, :3]
        cov2d = world_to_image @ covariance[visible] @ world_to_image.transpose(1, 2)
        dilated = cov2d + 0.3 * torch.eye(2, device=z.device)
        opacity = opacities[visible]
        if antialiased:
            opacity = opacity * (torch.linalg.det(cov2d).clamp_min(0) / torch.linalg.det(dilated)).sqrt()
        conic = torch.linalg.inv(dilated)
        centre = torch.stack([fx * x / zv + K[0, 2], fy * y / zv + K[1, 2]], -1)
        order = zv.argsort()
        conic, centre, opacity, depth = conic[order], centre[order], opacity[order], zv[order]
        colour = colours[visible][order]
        image, expected, alpha = [], [], []
        for start in range(0, len(pixels), pixels_per_chunk):
            checkpoint()
            d = pixels[start:start + pixels_per_chunk, None, :] - centre[None]  # [P, G, 2]
            power = -0.5 * torch.einsum("pgi,gij,pgj->pg", d, conic, d)
            a = (opacity[None] * power.exp()).clamp(max=0.99)
            a = torch.where((a >= 1 / 255) & (power <= 0), a, torch.zeros_like(a))
            transmittance = torch.cumprod(torch.cat([torch.ones_like(a[:, :1]), 1 - a[:, :-1]], 1), 1)
            weight = a * transmittance
            image.append(weight @ colour)
            expected.append(weight @ depth)
            alpha.append(weight.sum(1))
        images.append(torch.cat(image).T.reshape(-1, size, size))
        total = torch.cat(alpha).reshape(1, size, size)
        alphas.append(total)
        depths.append(torch.cat(expected).reshape(1, size, size) / total.clamp_min(1e-10))
    return torch.stack(images), torch.stack(depths), torch.stack(alphas)
