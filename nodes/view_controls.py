"""ControlNets with one hint image per view: found in the conds, given each sub-batch of views its own hints, and
the attribute that carries the original's strength schedule."""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import Tensor

RAMP = "synctweedies_strength_ramp"
"""The attribute of a ControlNet that carries its :class:`~synctweedies.control.StrengthRamp`."""


def controls_in(conds: list[dict] | None) -> list:
    """Every ControlNet in ``conds``, chains included, once each."""
    found = {}
    for cond in conds or []:
        control = cond.get("control")
        while control is not None:
            found[id(control)] = control
            control = getattr(control, "previous_controlnet", None)
    return list(found.values())


def per_view_controls(conds: list[dict] | None, num_views: int) -> list:
    """The ControlNets in ``conds`` (and their chains) whose hint images are one per view."""
    return [control for control in controls_in(conds) if num_views > 1
            and torch.is_tensor(getattr(control, "cond_hint_original", None))
            and control.cond_hint_original.shape[0] == num_views]


def with_hint(control, hint: Tensor) -> None:
    """Give ``control`` (and the copies a multi-GPU host keeps of it per device) the hint images ``hint`` and
    forget every hint the host prepared from the old ones: ``cond_hint`` (ComfyUI 0.3), and the ``cond_hints``
    and ``control_inputs`` it keeps by latent size since (ComfyUI 0.38)."""
    for copy in (control, *getattr(control, "multigpu_clones", {}).values()):
        copy.cond_hint_original, copy.cond_hint = hint, None
        for cache in ("cond_hints", "control_inputs"):
            getattr(copy, cache, {}).clear()


@contextmanager
def control_hints_of(controls: list, views: Tensor):
    """Give ``controls`` only the hints of ``views`` while a sub-batch of views runs."""
    originals = [control.cond_hint_original for control in controls]
    try:
        for control, hint in zip(controls, originals):
            with_hint(control, hint[views])
        yield
    finally:
        for control, hint in zip(controls, originals):
            with_hint(control, hint)
