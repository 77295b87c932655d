"""Rendering Gaussians into views: gsplat on CUDA when it is installed, a reference renderer in plain PyTorch
everywhere else (the same EWA splatting: 2D covariances dilated by 0.3 px², alpha capped at 0.99 and dropped
below 1/255, front-to-back compositing by depth)."""
from __future__ import annotations

import contextlib
import importlib.util
import warnings
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import Tensor

from ..progress import checkpoint
from ..cameras import Cameras
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


class BlendingWeights:
    """Every view's blending weights of Gaussians whose geometry is fixed, for fits that change only the colours.

    A view is then linear in the colours: ``W @ colours + (1 - alpha) * background``, where ``W`` ``[S*S, G]`` is
    sparse (row p holds the weight ``alpha_i * T_i`` of each Gaussian that pixel p blends) and ``alpha`` its row
    sums. A fit step renders and back-propagates with two sparse products instead of a rasterisation.
    :func:`blending_weights` builds them with the renderer a space uses, so :meth:`render` gives that renderer's
    images.
    """

    def __init__(self, matrices: list[Tensor], size: int):
        self.size, self.matrices = size, matrices
        self.transposed = [_int32_csr(m.t().to_sparse_csr()) for m in matrices]
        self.alpha = [torch.sparse.mm(m, torch.ones(m.shape[1], 1, device=m.device)) for m in matrices]

    @property
    def nbytes(self) -> int:
        """Memory held by the weights (both orientations)."""
        return sum(_csr_bytes(m) for m in self.matrices + self.transposed)

    def render(self, colours: Tensor, view: int, background: Tensor) -> Tensor:
        """View ``view`` of ``colours`` ``[G, C]`` over ``background`` ``[C]``: ``[1, C, S, S]``."""
        image = _SparseBlend.apply(colours, self.matrices[view], self.transposed[view])
        image = image + (1 - self.alpha[view]) * background.to(image)
        return image.T.reshape(1, -1, self.size, self.size)


class _SparseBlend(torch.autograd.Function):
    """``matrix @ colours`` ``[P, C]``, differentiable in ``colours`` through the stored transpose."""

    @staticmethod
    def forward(ctx, colours: Tensor, matrix: Tensor, transposed: Tensor) -> Tensor:
        ctx.transposed = transposed
        return torch.sparse.mm(matrix, colours)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        return torch.sparse.mm(ctx.transposed, grad.contiguous()), None, None


def _int32_csr(matrix: Tensor) -> Tensor:
    with _quiet_sparse():
        return torch.sparse_csr_tensor(matrix.crow_indices().int(), matrix.col_indices().int(), matrix.values(),
                                       matrix.shape, check_invariants=False)


@contextlib.contextmanager
def _quiet_sparse() -> Iterator[None]:
    """No warnings that sparse CSR tensors are in beta or that their invariants go unchecked."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse (CSR tensor support|invariant checks)")
        yield


def _csr_bytes(matrix: Tensor) -> int:
    return sum(t.numel() * t.element_size() for t in (matrix.crow_indices(), matrix.col_indices(), matrix.values()))


def _weights_matrix(pixels: Tensor, ids: Tensor, weights: Tensor, size: int, count: int) -> Tensor:
    """CSR ``[size*size, count]`` of ``weights`` at (``pixels``, ``ids``)."""
    with _quiet_sparse():
        coo = torch.sparse_coo_tensor(torch.stack([pixels, ids]), weights, (size * size, count))
        return _int32_csr(coo.coalesce().to_sparse_csr())


def blending_weights(gaussians: Gaussians, cameras: Cameras, antialiased: bool = False, backend: str = "auto",
                     max_bytes: int | None = None) -> BlendingWeights | None:
    """:class:`BlendingWeights` of every camera with ``backend`` (see :func:`render`), or None when they would
    take more than ``max_bytes`` (default: half the free memory of a CUDA device, 8 GiB elsewhere)."""
    device = gaussians.means.device
    if max_bytes is None:
        max_bytes = torch.cuda.mem_get_info(device)[0] // 2 if device.type == "cuda" else 8 << 30
    views = _gsplat_weights if resolve_backend(backend, device) == "gsplat" else _reference_weights
    matrices, total = [], 0
    for matrix in views(gaussians, cameras, antialiased):
        total += 2 * _csr_bytes(matrix)
        if total > max_bytes:
            return None
        matrices.append(matrix)
    return BlendingWeights(matrices, cameras.size)


def _gsplat_weights(gaussians: Gaussians, cameras: Cameras, antialiased: bool) -> Iterator[Tensor]:
    """Each view's weights from gsplat's projection and its per-pixel list of the Gaussians it blends (front to
    back, as ``rasterize_to_pixels`` composites them), with the alphas computed as its kernel does."""
    import gsplat

    size, device, count = cameras.size, gaussians.means.device, len(gaussians)
    centres = _pixel_centres(size, device)
    with torch.no_grad():
        for viewmat, K in zip(cameras.viewmats.to(device), cameras.Ks.to(device)):
            checkpoint()
            _, _, meta = _gsplat(gaussians, torch.zeros(count, 1, device=device), viewmat[None], K[None], size,
                                 antialiased, packed=False)
            means2d, conics, opacities = meta["means2d"], meta["conics"], meta["opacities"]
            ids, pixels, _ = gsplat.rasterize_to_indices_in_range(
                0, 2 ** 31 - 1, torch.ones(1, size, size, device=device), means2d, conics, opacities, size, size,
                meta["tile_size"], meta["isect_offsets"], meta["flatten_ids"])
            d = means2d[0, ids] - centres[pixels]
            conic = conics[0, ids]
            sigma = 0.5 * (conic[:, 0] * d[:, 0] ** 2 + conic[:, 2] * d[:, 1] ** 2) + conic[:, 1] * d[:, 0] * d[:, 1]
            alpha = (opacities[0, ids] * torch.exp(-sigma)).clamp(max=0.999)
            yield _weights_matrix(pixels, ids, alpha * _transmittance(pixels, alpha, size * size), size, count)


def _gsplat(gaussians: Gaussians, colours: Tensor, viewmats: Tensor, Ks: Tensor, size: int, antialiased: bool,
            **options) -> tuple[Tensor, Tensor, dict]:
    """gsplat's ``rasterization`` of ``gaussians`` with ``colours`` ``[G, C]`` from ``viewmats``/``Ks``."""
    import gsplat

    return gsplat.rasterization(gaussians.means, gaussians.quats / gaussians.quats.norm(dim=-1, keepdim=True),
                                gaussians.scales.exp(), torch.sigmoid(gaussians.opacities), colours, viewmats, Ks,
                                size, size, rasterize_mode="antialiased" if antialiased else "classic", **options)


def _pixel_centres(size: int, device: torch.device) -> Tensor:
    """The centres ``[S*S, 2]`` (x, y) of a ``size``² view's pixels, row by row."""
    ys, xs = torch.meshgrid(*(torch.arange(size, device=device, dtype=torch.float32) + 0.5,) * 2, indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], -1)


def _transmittance(pixels: Tensor, alpha: Tensor, rows: int) -> Tensor:
    """The light left in front of each entry: the product of ``1 - alpha`` of the entries before it in its pixel
    (entries grouped by pixel, in blending order)."""
    counts = torch.bincount(pixels, minlength=rows)
    logs = torch.log1p(-alpha.double())
    before = logs.cumsum(0) - logs
    first = (counts.cumsum(0) - counts).repeat_interleave(counts)
    return torch.exp(before - before[first]).float()


def _reference_weights(gaussians: Gaussians, cameras: Cameras, antialiased: bool) -> Iterator[Tensor]:
    """Each view's weights from the reference renderer's."""
    device, count, size = gaussians.means.device, len(gaussians), cameras.size
    with torch.no_grad():
        for ids, _, chunks in _reference_views(gaussians, torch.sigmoid(gaussians.opacities),
                                               cameras.viewmats.to(device), cameras.Ks.to(device), size, antialiased):
            pixels, gaussians_of, weights, start = [], [], [], 0
            for weight in chunks:
                row, column = weight.nonzero(as_tuple=True)
                pixels.append(row + start)
                gaussians_of.append(ids[column])
                weights.append(weight[row, column])
                start += len(weight)
            yield _weights_matrix(torch.cat(pixels), torch.cat(gaussians_of), torch.cat(weights), size, count)


def render(gaussians: Gaussians, colours: Tensor, cameras: Cameras, background: Tensor | None = None,
           antialiased: bool = False, backend: str = "auto", depth: bool = False) -> Rendered:
    """Render ``colours`` ``[G, C]`` of ``gaussians`` from every camera. ``background`` ``[C]`` or ``[N, C]``
    (default 0). ``backend``: "gsplat", "reference", or "auto" (gsplat where :func:`gsplat_available`); ``depth``
    also renders the expected depth."""
    device = colours.device
    backend = resolve_backend(backend, device)
    viewmats, Ks = cameras.viewmats.to(device), cameras.Ks.to(device)
    if backend == "gsplat":
        out, alpha, _ = _gsplat(gaussians, colours, viewmats, Ks, cameras.size, antialiased,
                                render_mode="RGB+ED" if depth else "RGB")
        images, alpha = out.movedim(-1, 1), alpha.movedim(-1, 1)
        images, expected = (images[:, :-1], images[:, -1:]) if depth else (images, None)
    else:
        images, expected, alpha = _reference(gaussians, torch.sigmoid(gaussians.opacities), colours, viewmats, Ks,
                                             cameras.size, antialiased)
    if background is not None:
        background = background.to(images).reshape(-1, images.shape[1], 1, 1)
        images = images + (1 - alpha) * background
    return Rendered(images, alpha, expected)


def _reference(gaussians: Gaussians, opacities: Tensor, colours: Tensor, viewmats: Tensor, Ks: Tensor, size: int,
               antialiased: bool) -> tuple[Tensor, Tensor, Tensor]:
    """(colours ``[N, C, S, S]`` over black, expected depth ``[N, 1, S, S]``, alpha ``[N, 1, S, S]``)."""
    images, depths, alphas = [], [], []
    for ids, depth, chunks in _reference_views(gaussians, opacities, viewmats, Ks, size, antialiased):
        colour = colours[ids]
        image, expected, alpha = [], [], []
        for weight in chunks:
            image.append(weight @ colour)
            expected.append(weight @ depth)
            alpha.append(weight.sum(1))
        images.append(torch.cat(image).T.reshape(-1, size, size))
        total = torch.cat(alpha).reshape(1, size, size)
        alphas.append(total)
        depths.append(torch.cat(expected).reshape(1, size, size) / total.clamp_min(1e-10))
    return torch.stack(images), torch.stack(depths), torch.stack(alphas)


def _reference_views(gaussians: Gaussians, opacities: Tensor, viewmats: Tensor, Ks: Tensor, size: int,
                     antialiased: bool, pixels_per_chunk: int = 4096
                     ) -> Iterator[tuple[Tensor, Tensor, Iterator[Tensor]]]:
    """For each view: the ids ``[V]`` of the Gaussians in front of it, nearest first, their depths ``[V]``, and
    their blending weights ``[P, V]`` for each chunk of P pixels in turn (consume them before the next view)."""
    from kornia.geometry.conversions import quaternion_to_rotation_matrix

    rotation = quaternion_to_rotation_matrix(gaussians.quats)
    scaled = rotation * gaussians.scales.exp()[:, None, :]
    covariance = scaled @ scaled.transpose(1, 2)  # [G, 3, 3]
    pixels = _pixel_centres(size, viewmats.device)
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
        conic, centre, opacity = conic[order], centre[order], opacity[order]

        def chunks(conic=conic, centre=centre, opacity=opacity) -> Iterator[Tensor]:
            for start in range(0, len(pixels), pixels_per_chunk):
                checkpoint()
                d = pixels[start:start + pixels_per_chunk, None, :] - centre[None]  # [P, G, 2]
                power = -0.5 * torch.einsum("pgi,gij,pgj->pg", d, conic, d)
                a = (opacity[None] * power.exp()).clamp(max=0.99)
                a = torch.where((a >= 1 / 255) & (power <= 0), a, torch.zeros_like(a))
                yield a * torch.cumprod(torch.cat([torch.ones_like(a[:, :1]), 1 - a[:, :-1]], 1), 1)

        yield visible.nonzero()[:, 0][order], zv[order], chunks()
