"""The SyncTweedies guider node and the one-node sampler."""
from __future__ import annotations

import comfy.model_management
import comfy.sample
import comfy.samplers
import comfy.utils
import latent_preview
import torch
from comfy_api.v0_0_2 import io

from ..synctweedies import MODE_DESCRIPTIONS, SyncMode
from ..synctweedies.original import span
from .frames import as_views, shaped_like
from .guider import SyncSettings, SyncTweediesGuider
from .mesh import palette_in_model_units
from .sockets import SAMPLING, SPACE_TOOLTIP, SyncSpace
from .validation import option_problem

MODE_LABELS = {SyncMode.NONE: "0: none", SyncMode.NOISE: "1: noise", SyncMode.TWEEDIE: "2: x0 (SyncTweedies)",
               SyncMode.STATE: "3: x_t-1 (MultiDiffusion)", SyncMode.CANONICAL_NOISE: "4: canonical, noise",
               SyncMode.CANONICAL_TWEEDIE: "5: canonical, x0"}
MODE_OPTIONS = list(MODE_LABELS.values())
DEFAULT_MODE = MODE_LABELS[SyncMode.TWEEDIE]
MODE_TOOLTIP = "What is averaged across views each step (the paper's cases 0-5):\n" + \
    "\n".join(MODE_DESCRIPTIONS.values()) + "\n2 (SyncTweedies) is the recommended default."


def parse_mode(option: str) -> SyncMode:
    """A mode combo option (``"2: ..."``, also the longer labels of earlier versions) → :class:`SyncMode`."""
    return SyncMode(int(option.split(":", 1)[0]))


def mode_problem(node: type[io.ComfyNode], mode: str | None) -> str | None:
    """:func:`option_problem` for ``mode``, which also takes the longer labels workflows saved before."""
    if mode is not None and mode in MODE_DESCRIPTIONS.values():
        return None
    return option_problem(node, mode=mode)


INITIAL_NOISE = {
    "canonical": lambda space, channels, generator: space.initial_noise(channels, generator),
    "per view": lambda space, channels, generator: torch.randn(space.num_views, channels, *space.view_size,
                                                               generator=generator),
}
"""The sampler's starting noise ``[N, C, h, w]`` for a space, by its name."""


def sync_inputs() -> list[io.Input]:
    """The inputs every synchronized sampler shares: space, mode, sync_end and view batching."""
    return [
        SyncSpace.Input("space", tooltip=SPACE_TOOLTIP),
        io.Combo.Input("mode", options=MODE_OPTIONS, default=DEFAULT_MODE, tooltip=MODE_TOOLTIP),
        io.Float.Input("sync_end", default=1.0, min=0.0, max=1.0, step=0.01,
                       tooltip="How far down the schedule views are synchronized, as the original's mvd_end: the "
                               "steps that start at a model timestep t > 1000 x (1 - sync_end) (0.8: from t = 1000 "
                               "down to 200), whatever the steps, scheduler or denoise; views denoise "
                               "independently after it."),
        io.Int.Input("views_per_batch", default=0, min=0, max=1024,
                     tooltip="Views per model call; 0 fits as many as free memory allows."),
        io.Float.Input("ref_attention_end", optional=True, default=0.0, min=0.0, max=1.0, step=0.01,
                       tooltip="How far down the schedule every view's self-attention also attends to a "
                               "reference view (the original's cross-view attention; UNet models): the steps that "
                               "start at t > 1000 x (1 - ref_attention_end). Higher harmonises views more, lower "
                               "keeps more detail; 0 turns it off."),
        io.Boolean.Input("neighbour_attention", optional=True, default=False,
                         tooltip="Every view's self-attention also attends to its neighbour views at every step "
                                 "(the original's, always on there; UNet models). All views then run in each "
                                 "model call."),
    ]


def vae_inputs() -> list[io.Input]:
    return [
        io.Vae.Input("vae", optional=True,
                     tooltip="Connect to average x0 in pixel space (decode, average, encode every step; mode 2). "
                             "Slower; needed for views a latent cannot follow, e.g. negate or rotate by 45°."),
        io.Vae.Input("draft_vae", optional=True,
                     tooltip="A fast approximate VAE (Load VAE → taesd, or taesdxl for SDXL) that stands in for "
                             "'vae' during the first draft_vae_end of the steps: pixel-space averaging at a "
                             "fraction of the cost, the full VAE for the last steps."),
        io.Float.Input("draft_vae_end", default=0.5, min=0.0, max=1.0, step=0.05, optional=True,
                       tooltip="Fraction of the steps that use draft_vae (when connected)."),
    ]


def sync_settings(mode: str, sync_end: float = 1.0, views_per_batch: int = 0, ref_attention_end: float = 0.0,
                  vae=None, neighbour_attention: bool = False, draft_vae=None,
                  draft_vae_end: float = 0.5) -> SyncSettings:
    """The Sampler's and Guider's synchronization inputs (``mode`` as its label) as the guider's settings."""
    return SyncSettings(parse_mode(mode), sync_end, views_per_batch, vae, ref_attention_end, neighbour_attention,
                        draft_vae, draft_vae_end)


def make_guider(model, positive, negative, cfg: float, space, settings: SyncSettings) -> SyncTweediesGuider:
    palette_in_model_units(space, model)
    guider = SyncTweediesGuider(model, space, settings)
    guider.set_conds(positive, negative)
    guider.set_cfg(cfg)
    return guider


class GuiderNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesGuider",
            display_name="SyncTweedies Guider",
            category=SAMPLING,
            description="A CFG guider that denoises every view of a canonical space together; use it with "
                        "SamplerCustomAdvanced and any sampler and scheduler.",
            inputs=[
                io.Model.Input("model"),
                io.Conditioning.Input("positive", tooltip="Prompt for every view."),
                io.Conditioning.Input("negative", tooltip="Negative prompt for every view."),
                io.Float.Input("cfg", default=7.5, **span("guidance_scale"), step=0.1, round=0.01,
                               tooltip="Classifier-free guidance scale."),
                *sync_inputs(),
                *vae_inputs(),
            ],
            outputs=[io.Guider.Output()],
        )

    @classmethod
    def validate_inputs(cls, mode) -> bool | str:
        return mode_problem(cls, mode) or True

    @classmethod
    def execute(cls, model, positive, negative, cfg, space, mode, sync_end, views_per_batch, ref_attention_end=0.0,
                vae=None, neighbour_attention=False, draft_vae=None, draft_vae_end=0.5) -> io.NodeOutput:
        settings = sync_settings(mode, sync_end, views_per_batch, ref_attention_end, vae, neighbour_attention,
                                 draft_vae, draft_vae_end)
        return io.NodeOutput(make_guider(model, positive, negative, cfg, space, settings))


class SamplerNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesSampler",
            display_name="SyncTweedies Sampler",
            category=SAMPLING,
            description="Samples every view of a canonical space together (KSampler for synchronized views).",
            inputs=[
                io.Model.Input("model"),
                io.Conditioning.Input("positive", tooltip="Prompt for every view."),
                io.Conditioning.Input("negative", tooltip="Negative prompt for every view."),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True,
                             tooltip="Seed of the canonically consistent initial noise."),
                io.Int.Input("steps", default=50, **span("num_inference_steps"), tooltip="Denoising steps."),
                io.Float.Input("cfg", default=7.5, **span("guidance_scale"), step=0.1, round=0.01,
                               tooltip="Classifier-free guidance scale."),
                io.Combo.Input("sampler_name", options=comfy.samplers.SAMPLER_NAMES, default="euler",
                               tooltip="Any ComfyUI sampler."),
                io.Combo.Input("scheduler", options=comfy.samplers.SCHEDULER_NAMES, default="normal",
                               tooltip="Any ComfyUI scheduler."),
                io.Float.Input("denoise", default=1.0, min=0.01, max=1.0, step=0.01,
                               tooltip="Below 1, start from latent_image with this much noise added."),
                *sync_inputs(),
                io.Latent.Input("latent_image", optional=True,
                                tooltip="Views to start from when denoise < 1; empty views otherwise."),
                *vae_inputs(),
                io.Combo.Input("initial_noise", options=list(INITIAL_NOISE), default="canonical", optional=True,
                               tooltip="canonical: one noise on the canonical space, which every view sees (the "
                                       "original's --initialize_xt_from_zt); per view: every view its own noise "
                                       "(the original without that flag, and its SDEdit)."),
            ],
            outputs=[io.Latent.Output(display_name="views", tooltip="The sampled views, one latent per view.")],
        )

    @classmethod
    def validate_inputs(cls, sampler_name, scheduler, mode, initial_noise="canonical") -> bool | str:
        return option_problem(cls, sampler_name=sampler_name, scheduler=scheduler, initial_noise=initial_noise) \
            or mode_problem(cls, mode) or True

    @classmethod
    def execute(cls, model, positive, negative, seed, steps, cfg, sampler_name, scheduler, denoise, space, mode,
                sync_end, views_per_batch, ref_attention_end=0.0, latent_image=None, vae=None,
                neighbour_attention=False, draft_vae=None, draft_vae_end=0.5,
                initial_noise="canonical") -> io.NodeOutput:
        settings = sync_settings(mode, sync_end, views_per_batch, ref_attention_end, vae, neighbour_attention,
                                 draft_vae, draft_vae_end)
        guider = make_guider(model, positive, negative, cfg, space, settings)
        if latent_image is None:
            latent = {"samples": torch.zeros(space.num_views, 4, *space.view_size)}
        else:
            latent = latent_image.copy()
        latent["samples"] = comfy.sample.fix_empty_latent_channels(model, latent["samples"])
        space.check_views(as_views(latent["samples"]))
        total_steps = steps if denoise >= 1.0 else int(steps / denoise)
        sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), scheduler,
                                                 total_steps).cpu()[-(steps + 1):]
        generator = torch.Generator().manual_seed(seed)
        noise = shaped_like(INITIAL_NOISE[initial_noise](space, latent["samples"].shape[1], generator),
                            latent["samples"])
        callback = latent_preview.prepare_callback(model, steps)
        samples = guider.sample(noise, latent["samples"], comfy.samplers.sampler_object(sampler_name), sigmas,
                                denoise_mask=latent.get("noise_mask"), callback=callback,
                                disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED, seed=seed)
        latent["samples"] = samples.to(comfy.model_management.intermediate_device())
        return io.NodeOutput(latent)
