"""The SyncTweedies guider: a CFG guider that synchronizes every step's views."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import comfy.model_management
import comfy.samplers
import torch
from torch import Tensor

from ..synctweedies import (CanonicalSpace, PixelSynchronizedSpace, SyncMode, Synchronizer, ViewSubset,
                            sample_synchronized)
from ..synctweedies.sync import step_index, steps_until
from .frames import as_views, shaped_like
from .vae_codec import vae_codec
from .view_attention import CrossViewAttention, is_unet, self_attention_blocks, with_attention
from .view_conditioning import is_per_view, merge_view_conditionings, slice_views, view_groups, window_cropped
from .view_controls import RAMP, control_hints_of, controls_in, per_view_controls


@dataclass(frozen=True)
class SyncSettings:
    """How a guider synchronizes its views beyond CFG: the synchronization ``mode`` until ``sync_end``, views per
    model call (0: as many as fit), RGB averaging through ``vae`` (a ``draft_vae`` until ``draft_vae_end``), and
    the original's cross-view attention (to the reference view until ``ref_attention_end``; to the neighbour views
    with ``neighbour_attention``)."""

    mode: SyncMode | int = SyncMode.TWEEDIE
    sync_end: float = 1.0
    views_per_batch: int = 0
    vae: object = None
    ref_attention_end: float = 0.0
    neighbour_attention: bool = False
    draft_vae: object = None
    draft_vae_end: float = 0.5


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
    t > 1000 · (1 − ``ref_attention_end``) every view's self-attention also attends to the space's reference view,
    which joins every sub-batch; with ``neighbour_attention`` every view attends to its neighbour views at every
    step (the original's always-on attention), which puts all views in each model call.
    """

    def __init__(self, model_patcher, space: CanonicalSpace, settings: SyncSettings = SyncSettings()):
        super().__init__(model_patcher)
        self.space, self.settings = space, settings
        self.mode = SyncMode(settings.mode)
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
        vae, draft_vae = self.settings.vae, self.settings.draft_vae
        if vae is None and draft_vae is not None:
            raise ValueError("A draft_vae is connected but no vae: connect the full VAE to 'vae' too (the draft one "
                             "only stands in for it during the first steps).")
        if draft_vae is not None and draft_vae.spacial_compression_decode() != vae.spacial_compression_decode():
            raise ValueError("The draft_vae and the vae scale images differently; use a draft VAE made for this "
                             "model family (TAESD for SD1.x/SD2.x, TAESDXL for SDXL).")
        if vae is None:
            if self.space.pixel_space_reason:
                raise ValueError(f"{self.space.pixel_space_reason} Connect the VAE to the sampler's or guider's "
                                 "'vae' input to average in pixel space, or pick other views.")
            return self.space
        model = self.model_patcher.model
        draft = None if draft_vae is None else vae_codec(draft_vae, model)
        return PixelSynchronizedSpace(self.space, *vae_codec(vae, model), vae.spacial_compression_decode(), draft,
                                      self.settings.draft_vae_end)

    def sample(self, noise: Tensor, latent_image: Tensor, sampler, sigmas: Tensor, denoise_mask=None,
               callback=None, disable_pbar=False, seed=None) -> Tensor:
        if denoise_mask is not None and self.mode in (SyncMode.STATE, SyncMode.CANONICAL_NOISE,
                                                      SyncMode.CANONICAL_TWEEDIE):
            raise ValueError(f"A noise mask works with synchronization modes 0-2, not mode {int(self.mode)}.")
        total_steps = sigmas.shape[-1] - 1
        space = self.sync_space()
        self.schedule = sigmas.cpu()
        timesteps = self.model_patcher.get_model_object("model_sampling").timestep(self.schedule.float())
        self.reference_steps = steps_until(self.settings.ref_attention_end, total_steps, timesteps)
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
        views = sample_synchronized(run, space, self.mode, self.settings.sync_end, as_views(noise),
                                    as_views(latent_image), sigmas.to(latent_image.device), timesteps)
        return host(views)

    def predict_noise(self, x: Tensor, timestep: Tensor, model_options={}, seed=None) -> Tensor:
        """The synchronized x0 for the sampler's state ``x`` (the host's samplers take x0)."""
        self.step = step_index(self.schedule, timestep.max())
        self.synchronizer.space.begin_step(self.step, len(self.schedule) - 1)
        self.ramp_control_strengths()
        views = partial(self.denoise_views, model_options=model_options, seed=seed,
                        subset=self.synchronizer.model_views())
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

    def denoise_views(self, views: Tensor, sigma: Tensor, model_options: dict, seed,
                      subset: ViewSubset | None = None) -> Tensor:
        """CFG x0 of the views the model runs this step, ``[M, C, h, w]``: every view, or those of ``subset`` (whose
        space gives their cross-view attention), in as few model calls as memory allows: each group of views whose
        prompts batch together (``self.groups``) in sub-batches of ``views_per_batch``."""
        n = self.space.num_views
        seen, active = (self.space, torch.arange(n)) if subset is None else (subset.space, subset.views.cpu())
        row = torch.full((n,), -1)  # each view's row in ``views`` (-1: the model does not run it)
        row[active] = torch.arange(len(active))
        timestep = sigma.reshape(1).expand(n)
        reference = int(active[seen.reference_view]) \
            if len(active) > 1 and self.step < self.reference_steps else None
        neighbours = seen.attention_neighbours if self.settings.neighbour_attention and len(active) > 1 else None
        if (reference is not None or neighbours) and len(self.groups) > 1:
            raise ValueError(f"Cross-view attention runs every view's prompt in one model call, but these views' "
                             f"prompts are of {len(self.groups)} kinds that cannot share one (different options or "
                             "entries): set ref_attention_end to 0 and turn neighbour_attention off, or give the "
                             "views prompts of one kind.")
        blocks = self_attention_blocks(self.model_patcher) if reference is not None or neighbours else []
        batch = len(active) if neighbours else self.settings.views_per_batch or self.auto_views_per_batch(views)
        controls = per_view_controls(self.all_conds(), n) \
            if batch < n or reference is not None or len(self.groups) > 1 else []
        out = torch.empty_like(views)
        for index, members in enumerate(map(torch.tensor, self.groups)):
            chosen = (row[members] >= 0).nonzero().flatten()  # positions in the group of the views the model runs
            for start in range(0, len(chosen), batch):
                comfy.model_management.throw_exception_if_processing_interrupted()
                positions = chosen[start : start + batch]
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
                model_views = views[row[part]].unsqueeze(2) if self.frames else views[row[part]]
                with control_hints_of(controls, part):
                    x0 = comfy.samplers.sampling_function(self.inner_model, model_views, timestep[part], negative,
                                                          positive, self.cfg, model_options=options, seed=seed)
                out[row[part[extra:]]] = as_views(x0)[extra:].to(out)
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
