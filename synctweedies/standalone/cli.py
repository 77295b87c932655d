"""``python -m synctweedies --app ...``: the original research code's command line, on this library.

    python -m synctweedies --app mesh --prompt "A hand carved wood turtle" --mesh turtle.obj \\
        --sd_path SD15_FOLDER --controlnet_path control_v11f1p_sd15_depth --case_num 2 --initialize_xt_from_zt
    python -m synctweedies batch jobs.json [--ray ADDRESS]

The flags keep the original's names, meanings and defaults (:mod:`synctweedies.original`); a flag of the original
that is not supported is refused with a message, never ignored, and numbers outside the ranges the nodes take are
refused before anything is allocated. Models are only read from local files.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from ..jobs import Job, JobRun, Outcome
from ..sampling import sample_euler
from ..spaces import PixelSynchronizedSpace
from ..sync import SyncMode, sample_synchronized, step_index
from .apps import APPS, Plan, grid, save_images
from .flags import parse


def run_name(args: argparse.Namespace) -> str:
    """The run's folder under ``--save_top_dir``: ``tag``, or ``tag/TIME`` with ``--save_dir_now``."""
    return f"{args.tag}/{time.strftime('%Y%m%d-%H%M%S')}" if args.save_dir_now else args.tag


def finished_run(folder: Path) -> bool:
    """Whether ``folder`` holds a finished run of the command."""
    return (folder / "results").is_dir() and (folder / "config.json").is_file()


def device_of(args: argparse.Namespace) -> torch.device:
    return torch.device(f"cuda:{args.gpu}" if torch.cuda.is_available() else "cpu")


class Models:
    """Loaded pipelines and ControlNets, kept for the next run (a batch loads each model once per worker)."""

    def __init__(self):
        self.loaded: dict[tuple, object] = {}

    def denoiser(self, args: argparse.Namespace):
        from .diffusers_backend import DiffusersDenoiser, load_controlnet, load_pipeline

        device = device_of(args)
        dtype = torch.float16 if device.type == "cuda" else torch.float32
        key = (args.sd_path, str(device))
        if key not in self.loaded:
            self.loaded[key] = load_pipeline(args.sd_path, device, dtype)
        controlnet = None
        path = getattr(args, "controlnet_path", None)
        if path and getattr(args, "model", "sd") == "controlnet":
            if (path, str(device)) not in self.loaded:
                self.loaded[(path, str(device))] = load_controlnet(path, device, dtype)
            controlnet = self.loaded[(path, str(device))]
        return DiffusersDenoiser(self.loaded[key], args.guidance_scale, args.views_per_batch, controlnet)


def check_plan(plan: Plan, mode: SyncMode) -> None:
    if plan.average_rgb and int(mode) not in PixelSynchronizedSpace.supported_modes:
        raise ValueError(f"Averaging in RGB (--average_rgb, --canonical_domain rgb) works with --case_num 2 (or 0), "
                         f"not {int(mode)}.")
    if not plan.average_rgb and plan.space.pixel_space_reason:
        raise ValueError(plan.space.pixel_space_reason)
    if int(mode) not in plan.space.supported_modes:
        raise ValueError(f"--case_num {int(mode)} does not apply to {plan.space!r}; use one of "
                         f"{', '.join(map(str, plan.space.supported_modes))}.")


def sample_plan(plan: Plan, args: argparse.Namespace, backend, folder: Path) -> torch.Tensor:
    """Sample the plan's views ``[N, C, h, w]``, saving x0 previews into ``folder/intermediate``."""
    from tqdm import tqdm

    space, mode = plan.space, SyncMode(int(args.case_num))
    sigmas = backend.sigmas(args.num_inference_steps)
    latent = None
    if plan.start_views is not None:
        sigmas = sigmas[int(args.num_inference_steps * plan.start_at):]
        latent = backend.encode(plan.start_views.float()).cpu()
    denoise = backend.view_denoiser(backend.encode_prompts(plan.prompts), backend.encode_prompts(plan.negatives),
                                    sigmas, plan.guidance)
    generator = torch.Generator().manual_seed(args.seed)
    channels = backend.unet.config.in_channels
    if (args.initialize_xt_from_zt and plan.start_views is None) or mode.on_canonical:  # SDEdit: noise per view
        noise = space.initial_noise(channels, generator)
    else:
        noise = torch.randn(space.num_views, channels, *space.view_size, generator=generator)
    noise = noise.to(backend.device)
    latent = torch.zeros_like(noise) if latent is None else latent.to(noise)
    sync_space = PixelSynchronizedSpace(space, lambda v: backend.decode(v).to(backend.device), backend.encode) \
        if plan.average_rgb else space
    progress = tqdm(total=len(sigmas) - 1, desc=f"SyncTweedies {args.app}", unit="step")

    def sampler(sync, noise, latent, phase_sigmas, first_step):
        def denoiser(x, s):
            sync.space.begin_step(step_index(sigmas, s), len(sigmas) - 1)
            return sync.denoise(denoise, x, s)

        def callback(step, x0):
            progress.update(1)
            done = first_step + step + 1
            if args.log_step > 0 and done % args.log_step == 0:
                views = backend.decode(sync.from_sampler(x0))
                save_images(grid(views)[None], folder / "intermediate", f"x0_step{done:03d}")

        return sample_euler(denoiser, latent + noise * phase_sigmas[0], phase_sigmas, callback)

    views = sample_synchronized(sampler, sync_space, mode, args.mvd_end, noise, latent, sigmas.to(noise.device),
                                backend.timesteps(sigmas))
    progress.close()
    return views


def planned(app: str, args: argparse.Namespace, models: Models | None = None) -> tuple[Plan, object]:
    """The run's checked plan and its loaded model (nothing is written yet)."""
    plan = APPS[app](args, device_of(args))
    check_plan(plan, SyncMode(int(args.case_num)))
    backend = (models or Models()).denoiser(args)
    if plan.prepare is not None:
        plan.prepare(backend)
    return plan, backend


def write_run(plan: Plan, backend, args: argparse.Namespace, folder: Path) -> None:
    """Sample, decode and save one planned run into the empty ``folder``: ``config.json``, ``results/`` and
    ``intermediate/``."""
    (folder / "results").mkdir()
    (folder / "intermediate").mkdir()
    (folder / "config.json").write_text(json.dumps(vars(args), indent=2))
    views = sample_plan(plan, args, backend, folder)
    plan.save(plan, backend.decode(views), folder / "results")


def run(app: str, args: argparse.Namespace, models: Models | None = None) -> Path:
    """One run into ``--save_top_dir/--tag``, written in a work folder that becomes it when complete (see
    :mod:`synctweedies.jobs`): a folder there always holds a finished run, and none is written over."""
    job = Job(0, run_name(args))
    runs = JobRun([job], Path(args.save_top_dir), lambda job, outcome: None, lambda folder: True)
    if runs.outcomes:
        problem = runs.outcomes[0].detail
        raise ValueError(problem if job.problem else f"{runs.folder(job)} already holds a run; pass --save_dir_now "
                                                     "or another --tag.")
    plan, backend = planned(app, args, models)
    try:
        write_run(plan, backend, args, runs.start(job))
    except BaseException:
        runs.finish(job, Outcome("failed"))
        runs.close()
        raise
    runs.finish(job, Outcome("done"))
    runs.close()
    if runs.outcomes[0].status != "done":
        raise ValueError(runs.outcomes[0].detail)
    return runs.folder(job)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        app, args = parse(argv)
        folder = run(app, args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(folder)
    return 0
