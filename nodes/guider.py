"""The SyncTweedies guider: a CFG guider that synchronizes every step's views."""
from __future__ import annotations

import math
from contextlib import contextmanager
from functools import partial
from typing import Callable, Iterator

import comfy.model_base
import comfy.model_management
import comfy.samplers
import torch
from comfy.ldm.modules.attention import optimized_attention
from torch import Tensor

from ..synctweedies import CanonicalSpace, PixelSynchronizedSpace, SyncMode, Synchronizer, sample_synchronized
from ..synctweedies.attention import cross_view_attention
from ..synctweedies.sync import step_index, steps_until
from .frames import as_views, decode_views, encode_views, has_frames, shaped_like

RAMP = "synctweedies_strength_ramp"
"""The attribute of a ControlNet that carries its :class:`~synctweedies.control.StrengthRamp`."""


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


class CrossViewAttention:
    """An ``attn1`` replacement running :func:`~synctweedies.attention.cross_view_attention` on the views of a
    model call (chunks of ``len(neighbours)`` views: the CFG halves)."""

    def __init__(self, neighbours: list[list[int]], reference: int | None, reference_weight: float):
        self.neighbours, self.reference, self.reference_weight = neighbours, reference, reference_weight

    def __call__(self, q: Tensor, k: Tensor, v: Tensor, extra_options: dict) -> Tensor:
        heads = extra_options["n_heads"]
        if q.shape[0] % len(self.neighbours) or k.shape[1] != q.shape[1]:
            return optimized_attention(q, k, v, heads)
        return cross_view_attention(q, k, v, heads, self.neighbours, self.reference, self.reference_weight)


def is_unet(model_patcher) -> bool:
    """Whether the model is a UNet (SD1.x, SD2.x, SDXL), whose prompts reach the image by cross-attention only."""
    unet = model_patcher.get_model_object("diffusion_model")
    return all(hasattr(unet, name) for name in ("input_blocks", "middle_block", "output_blocks"))


def self_attention_blocks(model_patcher) -> list[tuple[str, int, int]]:
    """The (block, number, transformer index) of every self-attention of a UNet, as the host names them for
    ``attn1`` replacements; a ValueError for other models."""
    unet = model_patcher.get_model_object("diffusion_model")
    if not is_unet(model_patcher):
        raise ValueError("Cross-view attention (ref_attention_end, neighbour_attention) needs a UNet model (SD1.x, "
                         "SD2.x, SDXL); set ref_attention_end to 0 and turn neighbour_attention off for this model.")
    keys = []
    middle = [] if unet.middle_block is None else [unet.middle_block]  # some UNets (SSD-1B, Vega) have none
    for name, blocks in (("input", unet.input_blocks), ("middle", middle), ("output", unet.output_blocks)):
        for number, block in enumerate(blocks):
            for layer in block:
                keys += [(name, number, index) for index in range(len(getattr(layer, "transformer_blocks", [])))]
    return keys


def with_attention(model_options: dict, blocks: list[tuple[str, int, int]], attention: CrossViewAttention) -> dict:
    """A copy of ``model_options`` whose ``attn1`` at every one of ``blocks`` is ``attention``."""
    options = model_options.copy()
    transformer = options["transformer_options"] = options.get("transformer_options", {}).copy()
    replace = transformer["patches_replace"] = transformer.get("patches_replace", {}).copy()
    replace["attn1"] = {**replace.get("attn1", {}), **{key: attention for key in blocks}}
    return options


@contextmanager
def outputs_on(vae, device: torch.device) -> Iterator[None]:
    """``vae``'s decode/encode return tensors on ``device`` (not the host's intermediate device, the CPU) inside
    the block: the views stay where the sampler keeps them."""
    previous, vae.output_device = vae.output_device, device
    try:
        yield
    finally:
        vae.output_device = previous


def vae_codec(vae, model) -> tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]:
    """(decode, encode) between ``model``'s latent views ``[N, c, h, w]`` and images ``[N, 3, H, W]`` in [-1, 1]
    through the host's ``vae`` (a video VAE too), on the views' device."""

    frames = lambda views: views.unsqueeze(2) if has_frames(vae) else views  # noqa: E731

    def decode(views: Tensor) -> Tensor:
        with outputs_on(vae, views.device):
            images = decode_views(vae, model.process_latent_out(frames(views)))
        return images.movedim(-1, 1).to(views) * 2 - 1

    def encode(images: Tensor) -> Tensor:
        pixels = ((images + 1) / 2).clamp(0, 1).movedim(1, -1)
        with outputs_on(vae, images.device):
            return as_views(model.process_latent_in(encode_views(vae, pixels).to(images)))

    return decode, encode


class SyncTweediesGuider(comfy.samplers.CFGGuider):
    """A CFG guider over the views of a canonical space, synchronized per :class:`SyncMode`.

    The LATENT it samples is the views ``[N, C, h, w]`` (or ``[N, C, 1, h, w]`` for models whose latents have a
    time axis; the library sees ``[N, C, h, w]``). Views run through the model in batches of
    ``views_per_batch`` (0: as many as free memory allows). With a ``vae``, x0 is averaged in pixel
    space: each synchronized step decodes the views' x0 in one batch and encodes the average back; a
    ``draft_vae`` (e.g. the host's TAESD) does that instead for the first ``draft_vae_end`` of the steps.
    Synchronization and reference attention end on the schedule as the original's do: ``sync_end`` (its mvd_end)
    synchronizes the steps that start at a model timestep t > 1000 · (1 − sync_end), whatever the step count, the
    scheduler or the denoise. Cross-view attention (UNet models; :mod:`synctweedies.attention`): while
    t > 1000 · (1 − ``ref_attention_end``) every view's self-attention also attends to the space's reference view, which joins every
    sub-batch; with ``neighbour_attention`` every view attends to its neighbour views at every step (the
    original's always-on attention), which puts all views in each model call.
    """

    def __init__(self, model_patcher, space: CanonicalSpace, mode: SyncMode | int = SyncMode.TWEEDIE,
                 sync_end: float = 1.0, views_per_batch: int = 0, vae=None, ref_attention_end: float = 0.0,
                 neighbour_attention: bool = False, draft_vae=None, draft_vae_end: float = 0.5):
        super().__init__(model_patcher)
        self.space = space
        self.mode = SyncMode(mode)
        self.sync_end = sync_end
        self.views_per_batch = views_per_batch
        self.vae, self.draft_vae, self.draft_vae_end = vae, draft_vae, draft_vae_end
        self.ref_attention_end = ref_attention_end
        self.neighbour_attention = neighbour_attention
        self.synchronizer = Synchronizer(space, SyncMode.NONE)
        self.schedule = torch.zeros(1)
        self.reference_steps = 0
        self.step = 0
        self.frames = False
        self.groups: list[list[int]] = [list(range(space.num_views))]

    def set_conds(self, positive: list | list[list], negative: list | list[list]) -> None:
        """``positive``/``negative``: one CONDITIONING for all views (whose entries may each be for some views:
        :func:`merge_view_conditionings`), or a list of one per view. Views whose prompts can be batched share
        model calls (``self.groups``); the others run in calls of their own, so every view gets exactly its own
        prompt, whatever the model's attention."""
        given = {}
        for name, conditioning in (("positive", positive), ("negative", negative)):
            if is_per_view(conditioning):
                if len(conditioning) != self.space.num_views:
                    raise ValueError(f"{len(conditioning)} {name} conditionings were given for "
                                     f"{self.space.num_views} views; give one per view or one for all.")
                conditioning = merge_view_conditionings(conditioning)
            given[name] = conditioning
        unet = is_unet(self.model_patcher)
        groups = view_groups([given["positive"], given["negative"]], self.space.num_views, pad_length=unet)
        self.groups = [views for views, _ in groups]
        self.inner_set_conds({f"{name}_{index}": conditioning for index, (_, pair) in enumerate(groups)
                              for name, conditioning in zip(("positive", "negative"), pair)})

    def sync_space(self) -> CanonicalSpace:
        """The space synchronization runs in: the latent space, or its pixel twin through the VAE."""
        if self.vae is None and self.draft_vae is not None:
            raise ValueError("A draft_vae is connected but no vae: connect the full VAE to 'vae' too (the draft one "
                             "only stands in for it during the first steps).")
        if self.draft_vae is not None and \
                self.draft_vae.spacial_compression_decode() != self.vae.spacial_compression_decode():
            raise ValueError("The draft_vae and the vae scale images differently; use a draft VAE made for this "
                             "model family (TAESD for SD1.x/SD2.x, TAESDXL for SDXL).")
        if self.vae is None:
            if self.space.pixel_space_reason:
                raise ValueError(f"{self.space.pixel_space_reason} Connect the VAE to the sampler's or guider's "
                                 "'vae' input to average in pixel space, or pick other views.")
            return self.space
        model = self.model_patcher.model
        draft = None if self.draft_vae is None else vae_codec(self.draft_vae, model)
        return PixelSynchronizedSpace(self.space, *vae_codec(self.vae, model), self.vae.spacial_compression_decode(),
                                      draft, self.draft_vae_end)

    def sample(self, noise: Tensor, latent_image: Tensor, sampler, sigmas: Tensor, denoise_mask=None,
               callback=None, disable_pbar=False, seed=None) -> Tensor:
        if denoise_mask is not None and self.mode in (SyncMode.STATE, SyncMode.CANONICAL_NOISE,
                                                      SyncMode.CANONICAL_TWEEDIE):
            raise ValueError(f"A noise mask works with synchronization modes 0-2, not mode {int(self.mode)}.")
        total_steps = sigmas.shape[-1] - 1
        space = self.sync_space()
        self.schedule = sigmas.cpu()
        timesteps = self.model_patcher.get_model_object("model_sampling").timestep(self.schedule.float())
        self.reference_steps = steps_until(self.ref_attention_end, total_steps, timesteps)
        self.frames = latent_image.ndim == 5
        host = lambda x: shaped_like(x, latent_image)  # noqa: E731  the host's shape of views or canvas

        def run(sync: Synchronizer, noise: Tensor, latent: Tensor, phase_sigmas: Tensor, first_step: int) -> Tensor:
            self.synchronizer = sync
            phase_callback = None
            if callback is not None:
                def phase_callback(step, x0, x, _total):
                    callback(first_step + step, host(sync.canvas(as_views(x0))), host(sync.canvas(as_views(x))),
                             total_steps)
            return as_views(super(SyncTweediesGuider, self).sample(host(noise), host(latent), sampler, phase_sigmas,
                                                                   denoise_mask, phase_callback, disable_pbar, seed))

        noise = noise.to(latent_image)
        views = sample_synchronized(run, space, self.mode, self.sync_end, as_views(noise), as_views(latent_image),
                                    sigmas.to(latent_image.device), timesteps)
        return host(views)

    def predict_noise(self, x: Tensor, timestep: Tensor, model_options={}, seed=None) -> Tensor:
        """The synchronized x0 for the sampler's state ``x`` (the host's samplers take x0)."""
        self.step = step_index(self.schedule, timestep.max())
        self.synchronizer.space.begin_step(self.step, len(self.schedule) - 1)
        self.ramp_control_strengths()
        views = partial(self.denoise_views, model_options=model_options, seed=seed)
        return shaped_like(self.synchronizer.denoise(views, as_views(x), timestep), x)

    def ramp_control_strengths(self) -> None:
        """Give each ControlNet applied by 'SyncTweedies ControlNet Ramp' its strength for this step, from the
        previous step's timestep (the original's schedule)."""
        previous = None
        if self.step > 0:
            sampling = self.model_patcher.get_model_object("model_sampling")
            previous = float(sampling.timestep(self.schedule[self.step - 1 : self.step]).item())
        for control in controls_in(self.all_conds()):
            ramp = getattr(control, RAMP, None)
            if ramp is not None:
                control.strength = ramp.strength(self.step, previous)

    def all_conds(self) -> list[dict]:
        """Every processed cond of every group of views."""
        return [cond for conds in self.conds.values() for cond in conds]

    def denoise_views(self, views: Tensor, sigma: Tensor, model_options: dict, seed) -> Tensor:
        """CFG x0 of every view, ``[N, C, h, w]``, in as few model calls as memory allows: each group of views
        whose prompts batch together (``self.groups``) in sub-batches of ``views_per_batch``."""
        n = views.shape[0]
        timestep = sigma.reshape(1).expand(n)
        reference = self.space.reference_view \
            if n > 1 and self.step < self.reference_steps else None
        neighbours = self.space.attention_neighbours if self.neighbour_attention and n > 1 else None
        if (reference is not None or neighbours) and len(self.groups) > 1:
            raise ValueError(f"Cross-view attention runs every view's prompt in one model call, but these views' "
                             f"prompts are of {len(self.groups)} kinds that cannot share one (different options or "
                             "entries): set ref_attention_end to 0 and turn neighbour_attention off, or give the "
                             "views prompts of one kind.")
        blocks = self_attention_blocks(self.model_patcher) if reference is not None or neighbours else []
        batch = n if neighbours else self.views_per_batch or self.auto_views_per_batch(views)
        controls = per_view_controls(self.all_conds(), n) \
            if batch < n or reference is not None or len(self.groups) > 1 else []
        out = torch.empty_like(views)
        for index, members in enumerate(map(torch.tensor, self.groups)):
            for start in range(0, len(members), batch):
                comfy.model_management.throw_exception_if_processing_interrupted()
                positions = torch.arange(start, min(len(members), start + batch))
                options, extra = model_options, 0
                if blocks:  # the reference view joins every sub-batch; its extra output is dropped
                    extra = int(reference is not None and not (positions == reference).any())
                    positions = torch.cat([torch.full((extra,), reference or 0), positions])
                    position = None if reference is None else int((positions == reference).nonzero()[0])
                    attention = CrossViewAttention(neighbours or [[i] for i in range(len(positions))], position,
                                                   float(reference is not None))
                    options = with_attention(model_options, blocks, attention)
                part = members[positions]
                positive, negative = (window_cropped(slice_views(self.conds[f"{name}_{index}"], positions,
                                                                 len(members)), part, self.inner_model)
                                      for name in ("positive", "negative"))
                model_views = views[part].unsqueeze(2) if self.frames else views[part]
                with control_hints_of(controls, part):
                    x0 = comfy.samplers.sampling_function(self.inner_model, model_views, timestep[part], negative,
                                                          positive, self.cfg, model_options=options, seed=seed)
                out[part[extra:]] = as_views(x0)[extra:].to(out)
        return out

    def auto_views_per_batch(self, views: Tensor) -> int:
        """The most views whose cond and uncond halves fit in free memory together (at least 1). Free memory is
        the model patcher's where the host has it (ComfyUI 0.38 counts dynamic VRAM there), as the host's own
        batching asks."""
        patcher = getattr(self.inner_model, "current_patcher", None) or self.model_patcher
        free = patcher.get_free_memory(views.device) if hasattr(patcher, "get_free_memory") \
            else comfy.model_management.get_free_memory(views.device)
        n = views.shape[0]
        while n > 1 and self.inner_model.memory_required([2 * n, *views.shape[1:]]) * 1.5 > free:
            n = (n + 1) // 2
        return n


def is_per_view(conditioning: list) -> bool:
    """Whether ``conditioning`` is a list of CONDITIONINGs (one per view) rather than one CONDITIONING."""
    return len(conditioning) > 0 and isinstance(conditioning[0], list) and len(conditioning[0]) > 0 \
        and isinstance(conditioning[0][0], list)
