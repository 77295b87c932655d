"""Per-view prompts for one model call: CONDITIONING entries that name their views, grouped into the views that
can share a call and batched over them, cut to a sub-batch of views, and SDXL's per-window crop conditioning."""
from __future__ import annotations

import math

import comfy.model_base
import torch
from torch import Tensor

VIEWS = "synctweedies_views"
"""The key, in a CONDITIONING entry's options, of the views the entry is for; an entry without it is for all."""


WINDOW_CROPS = "synctweedies_window_crops"
"""The key, in a CONDITIONING entry's options, of every view's SDXL size and crop conditioning: one
``(height, width, crop_h, crop_w, target_height, target_width)`` per view, in pixels."""


def merge_view_conditionings(per_view: list[list]) -> list:
    """One CONDITIONING per view → one CONDITIONING whose entries each name the view they are for, so that host
    nodes (ControlNet apply, Combine) pass through it, and the guider gives each view exactly its own prompt."""
    return [[tensor, {**options, VIEWS: [view]}] for view, conditioning in enumerate(per_view)
            for tensor, options in conditioning]


MASKS = ("attention_mask",)
"""Options that must be equal, not only alike in shape, for views to share a call: some models reduce a text
attention mask to one token count for the whole batch (Lumina 2's ``num_tokens``)."""


def shape_key(value, pad_length: bool = False, exact: bool = False):
    """What must agree for values of several views to be batched: a tensor's shape past the batch (not its length
    with ``pad_length``; its values too when ``exact``), a plain value itself, any other object its identity."""
    if torch.is_tensor(value):
        shape = tuple(value.shape[2:] if pad_length else value.shape[1:])
        return ("tensor", shape, value.dtype, tuple(value.flatten().tolist()) if exact else None)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return ("object", id(value))


def view_groups(conditionings: list[list], num_views: int, pad_length: bool) -> list[tuple[list[int], list[list]]]:
    """The views that can share model calls, with each CONDITIONING of ``conditionings`` batched over them:
    ``[(views, [conditioning, ...])]``. Views share calls when their entries agree in number, shapes and plain
    options; with ``pad_length`` (cross-attention models) prompts of any length do, repeated to a common length,
    which leaves cross-attention unchanged. Per-view tensors are concatenated in the order of ``views``."""
    entries = [[[e for e in conditioning if VIEWS not in e[1] or view in e[1][VIEWS]] for conditioning in conditionings]
               for view in range(num_views)]
    if not any(VIEWS in e[1] for conditioning in conditionings for e in conditioning):
        return [(list(range(num_views)), conditionings)]
    groups: dict[tuple, list[int]] = {}
    for view, own in enumerate(entries):
        key = tuple(tuple((shape_key(t, pad_length), tuple((k, shape_key(v, exact=k in MASKS))
                                                            for k, v in sorted(o.items()) if k != VIEWS))
                          for t, o in conditioning) for conditioning in own)
        groups.setdefault(key, []).append(view)
    batched = []
    for views in groups.values():
        merged = []
        for index in range(len(conditionings)):
            rows = [entries[view][index] for view in views]
            merged.append([batch_entry([row[k] for row in rows], pad_length) for k in range(len(rows[0]))])
        batched.append((views, merged))
    return batched


def batch_entry(entries: list[list], pad_length: bool) -> list:
    """The entries of one position for several views → one entry with a row per view (an entry shared by all
    views stays as it is, and so does an option tensor equal for all of them: it broadcasts as one prompt's
    does)."""
    if all(entry is entries[0] for entry in entries):
        return entries[0]
    tensors = [tensor for tensor, _ in entries]
    if pad_length:
        length = math.lcm(*(t.shape[1] for t in tensors))
        tensors = [t.repeat(1, length // t.shape[1], *[1] * (t.ndim - 2)) for t in tensors]
    options = {key: torch.cat([e[1][key] for e in entries])
               if torch.is_tensor(value) and not all(torch.equal(e[1][key], value) for e in entries) else value
               for key, value in entries[0][1].items() if key != VIEWS}
    return [torch.cat(tensors), options]


def slice_views(conds: list[dict] | None, views: Tensor, num_views: int) -> list[dict] | None:
    """Processed conds restricted to some views (positions ``views`` among ``num_views``): tensors with a row
    per view are cut."""
    if conds is None or num_views == 1:
        return conds
    sliced = []
    for cond in conds:
        cond = cond.copy()
        cond["model_conds"] = {
            key: value._copy_with(value.cond[views])
            if torch.is_tensor(getattr(value, "cond", None)) and value.cond.shape[0] == num_views else value
            for key, value in cond["model_conds"].items()
        }
        sliced.append(cond)
    return sliced


def window_cropped(conds: list[dict] | None, views: Tensor, model) -> list[dict] | None:
    """Processed conds whose SDXL size and crop embedding (the last 6 x 256 values of ``y``) is each of ``views``'
    own, where an entry carries :data:`WINDOW_CROPS`: computed as the host's ``SDXL.encode_adm`` does, so the
    views still share one model call."""
    if conds is None or not any(WINDOW_CROPS in cond for cond in conds):
        return conds
    if not isinstance(model, comfy.model_base.SDXL):
        raise ValueError(f"'SyncTweedies SDXL Window Crops' sets SDXL's size and crop conditioning, which this "
                         f"model ({type(model).__name__}) does not have: remove the node.")
    cropped = []
    for cond in conds:
        y = cond["model_conds"].get("y")
        if WINDOW_CROPS in cond and y is not None:
            crops = torch.tensor(cond[WINDOW_CROPS], dtype=torch.float32)[views.cpu()]
            embedded = model.embedder(crops.flatten()).reshape(len(views), -1).to(y.cond)
            rows = y.cond.expand(len(views), -1) if y.cond.shape[0] == 1 else y.cond
            y = y._copy_with(torch.cat([rows[:, :-embedded.shape[1]], embedded], 1))
            cond = {**cond, "model_conds": {**cond["model_conds"], "y": y}}
        cropped.append(cond)
    return cropped


def is_per_view(conditioning: list) -> bool:
    """Whether ``conditioning`` is a list of CONDITIONINGs (one per view) rather than one CONDITIONING."""
    return len(conditioning) > 0 and isinstance(conditioning[0], list) and len(conditioning[0]) > 0 \
        and isinstance(conditioning[0][0], list)
