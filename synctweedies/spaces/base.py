"""The canonical-space abstraction every application implements."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import NamedTuple

import torch
from torch import Tensor

from ..attention import cyclic_neighbours


class ViewSubset(NamedTuple):
    """Some of a space's views: their indices ``views`` ``[M]`` among its views, and ``space``, the space of those
    views alone (the same canonical tensor, seen through M views)."""

    views: Tensor
    space: CanonicalSpace


class CanonicalSpace(ABC):
    """One canonical space seen through ``num_views`` views (instance spaces).

    ``project`` maps a canonical tensor ``[C, H, W]`` to views ``[N, C, h, w]``; ``unproject`` maps
    views back as a weighted mean and reports how much weight reached each canonical element.
    Sizes are in the units of the tensors the space is used with (latent or pixel).
    """

    num_views: int
    view_size: tuple[int, int]
    canonical_size: tuple[int, int]
    supported_modes: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    """The synchronization modes (:class:`~synctweedies.SyncMode`) this space can run."""
    latent_scale: int = 8
    """Pixels per latent pixel of the VAE the views are decoded with (hints are made at views × this)."""

    @abstractmethod
    def project(self, canonical: Tensor) -> Tensor:
        """``[C, H, W]`` canonical → ``[N, C, h, w]`` views."""

    @abstractmethod
    def unproject(self, views: Tensor, weights: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``[N, C, h, w]`` views → (``[C, H, W]`` weighted mean, ``[1, H, W]`` accumulated weight).

        ``weights`` (``[N, 1, h, w]``) multiply the space's own per-view weights. Canonical
        elements no view sees have weight 0 and value 0.
        """

    def unproject_final(self, views: Tensor) -> tuple[Tensor, Tensor]:
        """:meth:`unproject` for a run's result (the canonical image that is saved); a space that fits its
        canonical tensor may fit longer here."""
        return self.unproject(views)

    def preview(self, views: Tensor) -> Tensor:
        """What a progress preview shows of ``views`` ``[N, C, h, w]``: the canonical image ``[1, C, H, W]``."""
        return self.unproject(views)[0].unsqueeze(0)

    def scaled(self, factor: int) -> CanonicalSpace:
        """The same views at ``factor`` times the resolution (latent → pixel space), built once per factor."""
        built = self.__dict__.setdefault("_scaled_spaces", {})
        if factor not in built:
            built[factor] = self.build_scaled(factor)
        return built[factor]

    @abstractmethod
    def build_scaled(self, factor: int) -> CanonicalSpace:
        """Build the space :meth:`scaled` returns."""

    @property
    def attention_neighbours(self) -> list[list[int]]:
        """The views each view attends to in cross-view attention: views i-1, i and i+1, wrapping around (the
        original's mask for every application but meshes)."""
        return cyclic_neighbours(self.num_views)

    @property
    def reference_view(self) -> int:
        """The view every view also attends to in cross-view attention (the original's middle view)."""
        return self.num_views // 2

    def begin_run(self) -> None:
        """Called before a run samples. A space that keeps state from step to step (the last colour fit, the
        background colours) clears it here, in itself and its scaled twins, so no run depends on the one before."""
        for twin in self.__dict__.get("_scaled_spaces", {}).values():
            twin.begin_run()

    def begin_step(self, step: int, total: int) -> None:
        """Called before the model runs at ``step`` of ``total`` steps; a space whose views change over the
        schedule (a mesh's background colours) updates here."""

    def step_views(self) -> ViewSubset | None:
        """The views the model runs at the step :meth:`begin_step` began, for a space that runs fewer than all at
        some steps (the other views take their x0 from the canonical mean of these); None: every view."""
        return None

    def synchronize_subset(self, views: Tensor, subset: ViewSubset) -> Tensor:
        """``[M, C, h, w]`` views of ``subset`` → every view ``[N, C, h, w]`` of their canonical mean."""
        return self.project(subset.space.unproject(views)[0])

    @property
    def pixel_space_reason(self) -> str:
        """Why a latent version of this space must be synchronized in pixel space; empty when it need not."""
        return ""

    def synchronize(self, views: Tensor) -> Tensor:
        """Make views agree: ``project(unproject(views))``, ``[N, C, h, w]`` → same shape."""
        return self.project(self.unproject(views)[0])

    def initial_noise(self, channels: int, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float32) -> Tensor:
        """Canonically consistent unit-variance Gaussian noise for the views, ``[N, C, h, w]``.

        The default draws canonical noise and projects it, which keeps unit variance for spaces whose
        views pick canonical elements; spaces that interpolate override it.
        """
        canonical = torch.randn((channels, *self.canonical_size), generator=generator, dtype=dtype)
        return self.project(canonical)

    def check_views(self, views: Tensor, what: str = "latent") -> None:
        """Raise a ValueError that names the mismatch if ``views`` is not ``[N, C, h, w]`` of this space."""
        if views.ndim != 4:
            raise ValueError(f"The {what} must be a batch of views [N, C, h, w]; got shape {list(views.shape)}.")
        n, _, h, w = views.shape
        if n != self.num_views:
            raise ValueError(
                f"The {what} has a batch of {n} but the canonical space has {self.num_views} views. "
                "Make the latent with 'SyncTweedies Empty Latent' from the same space.")
        if (h, w) != tuple(self.view_size):
            raise ValueError(
                f"The {what}'s views are {h}x{w} but the canonical space expects {self.view_size[0]}x"
                f"{self.view_size[1]}. Make the latent with 'SyncTweedies Empty Latent' from the same space.")

    def is_consistent(self, views: Tensor, tolerance: float = 1e-4) -> bool:
        """Whether views already agree wherever they overlap."""
        return bool(torch.allclose(self.synchronize(views), views, atol=tolerance, rtol=0))
