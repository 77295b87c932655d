"""A diffusers Stable Diffusion pipeline as the library's view denoiser (for the standalone command).

Needs ``diffusers`` and ``transformers``; the rest of the library does not.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch
from torch import Tensor

from ..attention import cross_view_attention
from ..control import StrengthRamp
from ..sync import ViewDenoiser, step_index, steps_until


def load_pipeline(sd_path: str, device: torch.device, dtype: torch.dtype):
    """A StableDiffusionPipeline from a local diffusers folder or a single-file checkpoint, never from a hub."""
    try:
        from diffusers import StableDiffusionPipeline
    except ImportError:
        raise SystemExit("The standalone command needs diffusers and transformers: "
                         "pip install diffusers transformers") from None
    path = Path(sd_path)
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise ValueError(f"--sd_path {path} is a folder without model_index.json; give a diffusers model folder "
                             "(as save_pretrained writes it) or a .safetensors/.ckpt checkpoint.")
        pipe = StableDiffusionPipeline.from_pretrained(path, torch_dtype=dtype, local_files_only=True,
                                                       safety_checker=None, requires_safety_checker=False)
    elif path.is_file():
        try:
            pipe = StableDiffusionPipeline.from_single_file(str(path), torch_dtype=dtype, local_files_only=True)
        except Exception as error:  # diffusers raises many kinds here; the user needs one message
            raise ValueError(f"--sd_path {path.name} could not be loaded as a single-file Stable Diffusion checkpoint "
                             f"without downloading its configuration ({type(error).__name__}: {error}). Convert it "
                             "to a diffusers folder once where a hub is reachable, and pass that folder.") from None
    else:
        raise ValueError(f"--sd_path {sd_path} does not exist. Models are not downloaded: give a local diffusers "
                         "folder or a single-file checkpoint.")
    return pipe.to(device)


def load_controlnet(path: str, device: torch.device, dtype: torch.dtype):
    """A diffusers ControlNetModel from a local folder (``config.json`` + weights) or a single-file checkpoint
    (e.g. ``control_v11f1p_sd15_depth.pth``), never from a hub."""
    from diffusers import ControlNetModel

    location = Path(path)
    try:
        if location.is_dir():
            model = ControlNetModel.from_pretrained(location, torch_dtype=dtype, local_files_only=True)
        elif location.is_file():
            model = ControlNetModel.from_single_file(str(location), torch_dtype=dtype, local_files_only=True)
        else:
            raise ValueError(f"--controlnet_path {path} does not exist. Models are not downloaded: give a local "
                             "diffusers ControlNet folder or a single-file checkpoint (control_v11f1p_sd15_depth).")
    except (OSError, EnvironmentError, KeyError, RuntimeError) as error:
        raise ValueError(f"--controlnet_path {location.name} could not be loaded as a ControlNet without downloading "
                         f"({type(error).__name__}: {error}). Give a diffusers ControlNet folder.") from None
    return model.to(device)


@dataclass
class ViewGuidance:
    """What a view denoiser adds to plain CFG, per view of the space.

    ``hints`` ``[N, 3, H, W]`` in [0, 1]: one ControlNet hint per view, at ``ramp``'s strength over the steps,
    kept only between ``control_start`` and ``control_end`` (fractions of the steps, the original's
    ``controlnet_keep``). ``neighbours``: the views each view's self-attention attends to at every step (all
    views then go through each model call); ``reference``: a view every view also attends to for the first
    ``reference_end`` of the steps (it joins every sub-batch)."""

    hints: Tensor | None = None
    ramp: StrengthRamp = field(default_factory=StrengthRamp)
    control_start: float = 0.0
    control_end: float = 1.0
    neighbours: list[list[int]] | None = None
    reference: int | None = None
    reference_end: float = 0.0

    def control_strength(self, step: int, total: int, previous_timestep: float | None) -> float:
        kept = not (step / total < self.control_start or (step + 1) / total > self.control_end)
        return self.ramp.strength(step, previous_timestep) if kept else 0.0


class CrossViewProcessor:
    """A diffusers self-attention processor that, while :meth:`attending` is active, runs
    :func:`~synctweedies.attention.cross_view_attention` over the views of each model call (whose batch is the
    CFG halves, each the same views in the same order); otherwise plain attention."""

    def __init__(self):
        from diffusers.models.attention_processor import AttnProcessor2_0

        self.plain = AttnProcessor2_0()
        self.neighbours: list[list[int]] | None = None
        self.reference: int | None = None

    @contextmanager
    def attending(self, neighbours: list[list[int]], reference: int | None) -> Iterator[None]:
        self.neighbours, self.reference = neighbours, reference
        try:
            yield
        finally:
            self.neighbours, self.reference = None, None

    def __call__(self, attn, hidden_states: Tensor, encoder_hidden_states: Tensor | None = None,
                 attention_mask: Tensor | None = None, temb: Tensor | None = None, *args, **kwargs) -> Tensor:
        if self.neighbours is None or encoder_hidden_states is not None or hidden_states.ndim != 3:
            return self.plain(attn, hidden_states, encoder_hidden_states, attention_mask, temb, *args, **kwargs)
        out = cross_view_attention(attn.to_q(hidden_states), attn.to_k(hidden_states), attn.to_v(hidden_states),
                                   attn.heads, self.neighbours, self.reference, float(self.reference is not None))
        out = attn.to_out[1](attn.to_out[0](out))
        if attn.residual_connection:
            out = out + hidden_states
        return out / attn.rescale_output_factor


class DiffusersDenoiser:
    """CFG x0 of a diffusers UNet for latent views in the k-diffusion convention ``x = x0 + sigma * eps``.

    Views run ``views_per_batch`` at a time, each call one UNet batch of (uncond, cond) halves, with an optional
    ``controlnet`` (diffusers ControlNetModel) fed per-view hints.
    """

    def __init__(self, pipe, guidance_scale: float, views_per_batch: int = 8, controlnet=None):
        self.pipe = pipe
        self.unet, self.vae, self.scheduler = pipe.unet, pipe.vae, pipe.scheduler
        self.controlnet = controlnet
        self.guidance_scale = guidance_scale
        self.views_per_batch = views_per_batch
        self.device, self.dtype = pipe.unet.device, pipe.unet.dtype
        alphas = self.scheduler.alphas_cumprod.double()
        self.train_sigmas = ((1 - alphas) / alphas).sqrt()
        self.prediction = self.scheduler.config.get("prediction_type", "epsilon")
        self.attention: CrossViewProcessor | None = None

    @torch.no_grad()
    def encode_prompts(self, prompts: list[str]) -> Tensor:
        """Text embeddings ``[len(prompts), L, D]``."""
        tokens = self.pipe.tokenizer(prompts, padding="max_length", max_length=self.pipe.tokenizer.model_max_length,
                                     truncation=True, return_tensors="pt")
        return self.pipe.text_encoder(tokens.input_ids.to(self.device))[0].to(self.dtype)

    def sigmas(self, steps: int) -> Tensor:
        """The scheduler's ``steps`` timesteps as noise levels, ``[steps + 1]`` ending with 0."""
        self.scheduler.set_timesteps(steps)
        timesteps = self.scheduler.timesteps.long().cpu()
        return torch.cat([self.train_sigmas[timesteps].float(), torch.zeros(1)])

    def timestep(self, sigma: float) -> float:
        """The (fractional) training timestep of noise level ``sigma``, by interpolation in log sigma."""
        log_sigmas = self.train_sigmas.log()
        target = torch.tensor(math.log(max(sigma, 1e-10)), dtype=torch.float64)
        upper = int(torch.searchsorted(log_sigmas, target).clamp(1, len(log_sigmas) - 1))
        low, high = log_sigmas[upper - 1], log_sigmas[upper]
        return upper - 1 + float(((target - low) / (high - low)).clamp(0, 1))

    def timesteps(self, sigmas: Tensor) -> Tensor:
        """The training timestep of each noise level of ``sigmas`` (0 for sigma 0)."""
        return torch.tensor([self.timestep(float(sigma)) if sigma > 0 else 0.0 for sigma in sigmas])

    def cross_view_processor(self) -> CrossViewProcessor:
        """The UNet's self-attention processor for cross-view attention, installed once."""
        if self.attention is None:
            self.attention = CrossViewProcessor()
            self.unet.set_attn_processor({name: self.attention if name.endswith("attn1.processor") else processor
                                          for name, processor in self.unet.attn_processors.items()})
        return self.attention

    def view_denoiser(self, positive: Tensor, negative: Tensor, schedule: Tensor | None = None,
                      guidance: ViewGuidance | None = None) -> ViewDenoiser:
        """``positive`` and ``negative`` ``[N or 1, L, D]`` (one prompt per view, or one for all). ``schedule``:
        the run's noise levels ``[steps + 1]``, from which each call knows its step (needed by ``guidance``)."""
        guidance = guidance or ViewGuidance()
        if guidance.hints is not None and self.controlnet is None:
            raise ValueError("Per-view ControlNet hints need a ControlNet: pass --controlnet_path.")
        attention = self.cross_view_processor() if guidance.neighbours or guidance.reference is not None else None
        reference_steps = 0 if schedule is None else \
            steps_until(guidance.reference_end, len(schedule) - 1, self.timesteps(schedule))
        per_view = lambda c, part: c[part] if c.shape[0] > 1 else c.expand(len(part), -1, -1)  # noqa: E731

        @torch.no_grad()
        def denoise(x: Tensor, sigma: Tensor) -> Tensor:
            s, n = float(sigma), x.shape[0]
            step, total = 0, 1
            if schedule is not None:
                step, total = step_index(schedule, s), len(schedule) - 1
            reference = guidance.reference if n > 1 and step < reference_steps else None
            neighbours = guidance.neighbours if n > 1 else None
            strength = guidance.control_strength(step, total, None if step == 0 else self.timestep(
                float(schedule[step - 1]))) if guidance.hints is not None else 0.0
            t = torch.tensor(self.timestep(s), device=self.device)
            batch = n if neighbours else self.views_per_batch
            out = []
            for start in range(0, n, batch):
                part = torch.arange(start, min(n, start + batch))
                extra = int(reference is not None and not neighbours and not (part == reference).any())
                part = torch.cat([torch.full((extra,), reference or 0), part])
                views = x[part]
                model_in = (views / (s * s + 1) ** 0.5).to(self.device, self.dtype).repeat(2, 1, 1, 1)
                context = torch.cat([per_view(negative, part), per_view(positive, part)])
                residuals = {}
                if strength > 0:
                    hints = guidance.hints[part].to(self.device, self.dtype).repeat(2, 1, 1, 1)
                    down, mid = self.controlnet(model_in, t, encoder_hidden_states=context, controlnet_cond=hints,
                                                conditioning_scale=strength, return_dict=False)
                    residuals = {"down_block_additional_residuals": down, "mid_block_additional_residual": mid}
                if attention is not None and (neighbours or reference is not None):
                    position = None if reference is None else int((part == reference).nonzero()[0])
                    with attention.attending(neighbours or [[i] for i in range(len(part))], position):
                        output = self.unet(model_in, t, encoder_hidden_states=context, **residuals).sample
                else:
                    output = self.unet(model_in, t, encoder_hidden_states=context, **residuals).sample
                uncond, text = output.float().chunk(2)
                guided = uncond + self.guidance_scale * (text - uncond)
                if self.prediction == "v_prediction":
                    x0 = (views.float() - s * guided * (s * s + 1) ** 0.5) / (s * s + 1)
                else:
                    x0 = views.float() - s * guided
                out.append(x0[extra:].to(x.dtype))
            return torch.cat(out)

        return denoise

    @torch.no_grad()
    def decode(self, latents: Tensor) -> Tensor:
        """Latent views ``[N, 4, h, w]`` → images ``[N, 3, 8h, 8w]`` in [-1, 1], ``views_per_batch`` at a time."""
        scale = self.vae.config.scaling_factor
        images = [self.vae.decode((part / scale).to(self.device, self.vae.dtype)).sample.float().clamp(-1, 1)
                  for part in latents.split(self.views_per_batch)]
        return torch.cat(images).cpu()

    @torch.no_grad()
    def encode(self, images: Tensor) -> Tensor:
        """Images ``[N, 3, H, W]`` in [-1, 1] → latents ``[N, 4, H/8, W/8]`` (the posterior mean), on the model's
        device."""
        scale = self.vae.config.scaling_factor
        latents = [self.vae.encode(part.to(self.device, self.vae.dtype)).latent_dist.mean.float() * scale
                   for part in images.split(self.views_per_batch)]
        return torch.cat(latents)
