"""Fewer windows on the wide canvas: seams and distance to the data at the wide-image workflow's 512x3072 canvas
and 512 px windows, for each stride, on exact Tweedie denoisers of three kinds of data (CPU). The original's stride
is 64 px (41 windows); each figure is also given over that stride's, the bar for a new default being 1.02. Two
schemes: fixed windows (x0 averaged in the views, mode 2), and windows that shift place every step by a random
offset below the stride, as TiledDiffusion's SpotDiffusion does (the sampler on the canvas, x0 averaged there:
mode 5, whose views cannot keep their own state when windows move). And schedules whose windows change number over
the steps: ``--schedules 64@0.2,128`` takes fixed windows every 64 px for the first 0.2 of the steps and every 128
px after (x0 averaged on the canvas, the same as mode 2 while the views are the canvas's):

    python benchmarks/wide_canvas_frontier.py [--seeds 20] [--json benchmarks/results/cpu_wide_canvas_frontier.json]
    python benchmarks/wide_canvas_frontier.py --schemes --schedules 64@0.2,128 128@0.8,64 [--json out.json]

The model's time is proportional to the windows (41 at 64 px, 21 at 128 px); ``sync_overhead.py --stride`` times
each on a GPU.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

import pack_paths  # noqa: F401  (the pack and its test helpers on sys.path)
from synctweedies import IndexedSpace, PosteriorMeanDenoiser, WideCanvas, karras_sigmas, sample  # noqa: E402
from synctweedies.canvas import WEIGHTINGS  # noqa: E402
from test_wide_seams import DATA, seam_ratio  # noqa: E402
from timing import machine, report  # noqa: E402

STRIDES = (64, 96, 128, 192, 256)
"""Strides in px (8 px per latent pixel) measured; 64 is the original's."""


class ShiftedWindows(IndexedSpace):
    """The canvas's tapered windows moved right by ``offset`` latent pixels (a first window still starts at 0 and
    a last one ends at the right edge); latent only."""

    def __init__(self, stride: int, offset: int):
        starts = sorted({0, *range(offset, 384 - 64, stride), 384 - 64})
        columns = torch.tensor(starts)[:, None] + torch.arange(64)
        index = (torch.arange(64)[None, :, None] * 384 + columns[:, None, :]).reshape(-1, 64, 64)
        profile = WEIGHTINGS["taper"](64, stride)
        super().__init__((64, 384), index, (profile[:, None] * profile[None, :]).expand(len(index), -1, -1))

    def build_scaled(self, factor: int) -> IndexedSpace:
        raise NotImplementedError("shifted windows are measured on the latent canvas only")


def shifted_sample(denoiser, stride: int, noise: torch.Tensor, sigmas: torch.Tensor, seed: int) -> tuple:
    """Euler steps on the canvas ``noise`` ``[C, H, W]``, each step's x0 averaged over windows shifted by a random
    offset below ``stride``; (the canvas, the mean windows per step)."""
    generator = torch.Generator().manual_seed(1000 + seed)
    x, windows = noise * sigmas[0], []
    for i in range(len(sigmas) - 1):
        space = ShiftedWindows(stride, int(torch.randint(stride, (1,), generator=generator)))
        windows.append(space.num_views)
        x0 = space.unproject(denoiser(space.project(x), sigmas[i]))[0]
        x = x + (x - x0) / sigmas[i] * (sigmas[i + 1] - sigmas[i])
    return x, sum(windows) / len(windows)


def parse_schedule(text: str) -> list[tuple[int, float]]:
    """``"64@0.2,128"`` → ``[(64, 0.2), (128, 1.0)]``: each stride in px until that fraction of the steps."""
    parts = [part.split("@") for part in text.split(",")]
    return [(int(part[0]), float(part[1]) if len(part) > 1 else 1.0) for part in parts]


def scheduled_sample(denoiser, schedule: list[tuple[int, float]], noise: torch.Tensor,
                     sigmas: torch.Tensor) -> tuple:
    """Euler steps on the canvas ``noise`` ``[C, H, W]``, each step's x0 averaged over the fixed windows of the stride
    ``schedule`` gives that step; (the canvas, the mean windows per step)."""
    steps = len(sigmas) - 1
    spaces = {stride: WideCanvas(64, 384, 64, stride // 8) for stride, _ in schedule}
    x, windows = noise * sigmas[0], []
    for i in range(steps):
        space = spaces[next(stride for stride, end in schedule if i < end * steps or end >= 1.0)]
        windows.append(space.num_views)
        x0 = space.unproject(denoiser(space.project(x), sigmas[i]))[0]
        x = x + (x - x0) / sigmas[i] * (sigmas[i + 1] - sigmas[i])
    return x, sum(windows) / len(windows)


def measure(stride: int, kind: str, seeds: int, scheme: str = "fixed") -> dict:
    """Mean seam ratio and distance of the windows to the nearest data item (over the data's RMS) at ``stride``.
    A schedule (``scheme`` like ``"64@0.2,128"``) is measured at its finest stride's windows, and its seam ratio is
    the largest over the borders of each of its strides."""
    schedule = parse_schedule(scheme) if scheme not in ("fixed", "shifted") else [(stride, 1.0)]
    space = WideCanvas(64, 384, 64, min(s for s, _ in schedule) // 8)
    data = DATA[kind](space.window)
    denoiser = PosteriorMeanDenoiser(data)
    rms = data.square().mean().sqrt().item()
    seams, distances, windows = [], [], space.num_views
    sigmas = karras_sigmas(50, 0.005, 40.0)
    for seed in range(seeds):
        canvas_noise = torch.randn(3, 64, 384, generator=torch.Generator().manual_seed(seed))
        if scheme == "fixed":  # the views of canonical noise, as space.initial_noise draws them
            canvas = space.unproject(sample(denoiser, space, space.project(canvas_noise), sigmas, 2))[0]
        elif scheme == "shifted":
            canvas, windows = shifted_sample(denoiser, space.stride, canvas_noise, sigmas, seed)
        else:
            canvas, windows = scheduled_sample(denoiser, schedule, canvas_noise, sigmas)
        seams.append(max(seam_ratio(canvas, s // 8) for s, _ in schedule))
        distances.append(denoiser.distance_to_data(space.project(canvas)).mean().item() / rms)
    return {"windows": windows, "seam_ratio": round(sum(seams) / seeds, 4),
            "distance_to_data": round(sum(distances) / seeds, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--strides", type=int, nargs="+", default=list(STRIDES))
    parser.add_argument("--schemes", nargs="*", default=["fixed", "shifted"], choices=["fixed", "shifted"])
    parser.add_argument("--schedules", nargs="*", default=[], help="windows changing over the steps, e.g. 64@0.2,128")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    results = {}
    for kind in DATA:
        results[kind] = {}
        base = measure(options.strides[0], kind, options.seeds)
        for scheme in options.schemes:
            for stride in options.strides:
                entry = results[kind][f"{scheme} {stride}"] = measure(stride, kind, options.seeds, scheme)
                entry["seam_over_first"] = round(entry["seam_ratio"] / base["seam_ratio"], 4)
                entry["distance_over_first"] = round(entry["distance_to_data"] / base["distance_to_data"], 4)
                print(kind, scheme, stride, entry, flush=True)
        for schedule in options.schedules:
            entry = results[kind][f"schedule {schedule}"] = measure(0, kind, options.seeds, schedule)
            entry["seam_over_first"] = round(entry["seam_ratio"] / base["seam_ratio"], 4)
            entry["distance_over_first"] = round(entry["distance_to_data"] / base["distance_to_data"], 4)
            print(kind, schedule, entry, flush=True)
    report({"benchmark": "wide_canvas_frontier", **machine(), "canvas": "512x3072, window 512, taper weighting",
            "sampler": "euler, 50 Karras steps, sigma 40 to 0.005, mode 2, canonical noise", "seeds": options.seeds,
            "strides_px": options.strides, "data": results}, options.json)


if __name__ == "__main__":
    main()
