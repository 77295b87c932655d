"""A diffusers Stable Diffusion pipeline as the library's view denoiser (for the standalone command).

Needs ``diffusers`` and ``transformers``; the rest of the library does not.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor

from .sync import ViewDenoiser


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


class DiffusersDenoiser:
    """CFG x0 of a diffusers UNet for latent views in the k-diffusion convention ``x = x0 + sigma * eps``.

    Views run ``views_per_batch`` at a time, each call one UNet batch of (uncond, cond) halves.
    """

    def __init__(self, pipe, guidance_scale: float, views_per_batch: int = 8):
        self.pipe = pipe
        self.unet, self.vae, self.scheduler = pipe.unet, pipe.vae, pipe.scheduler
        self.guidance_scale = guidance_scale
        self.views_per_batch = views_per_batch
        self.device, self.dtype = pipe.unet.device, pipe.unet.dtype
        alphas = self.scheduler.alphas_cumprod.double()
        self.train_sigmas = ((1 - alphas) / alphas).sqrt()
        self.prediction = self.scheduler.config.get("prediction_type", "epsilon")

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

    def view_denoiser(self, positive: Tensor, negative: Tensor) -> ViewDenoiser:
        """``positive`` ``[N or 1, L, D]`` (one prompt per view, or one for all), ``negative`` ``[1, L, D]``."""

        @torch.no_grad()
        def denoise(x: Tensor, sigma: Tensor) -> Tensor:
            s = float(sigma)
            t = torch.tensor(self.timestep(s), device=self.device)
            out = []
            for start in range(0, x.shape[0], self.views_per_batch):
                views = x[start:start + self.views_per_batch]
                n = views.shape[0]
                cond = positive[start:start + n] if positive.shape[0] > 1 else positive.expand(n, -1, -1)
                model_in = (views / (s * s + 1) ** 0.5).to(self.device, self.dtype)
                output = self.unet(torch.cat([model_in, model_in]), t,
                                   encoder_hidden_states=torch.cat([negative.expand(n, -1, -1), cond])).sample
                uncond, text = output.float().chunk(2)
                guided = uncond + self.guidance_scale * (text - uncond)
                if self.prediction == "v_prediction":
                    x0 = (views.float() - s * guided * (s * s + 1) ** 0.5) / (s * s + 1)
                else:
                    x0 = views.float() - s * guided
                out.append(x0.to(x.dtype))
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
