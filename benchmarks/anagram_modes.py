"""How the synchronization modes compare on anagrams of 1-to-1, 1-to-n and n-to-1 views.

Each view has its own closed-form Tweedie denoiser (the exact posterior mean of crops of its own
photo), so "reads as its own prompt" is measurable: for the canonical image's views, the RMS
distance to the nearest crop of the view's own photo and of the other photo. Euler, 30 Karras steps,
16x16 views, 4 seeds. No host needed:

    python benchmarks/anagram_modes.py [--json out.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

import pack_paths  # noqa: F401  (the pack and its test helpers on sys.path)
from photo_patches import two_photo_sets  # noqa: E402
from synctweedies import AnagramSpace, PosteriorMeanDenoiser, karras_sigmas, per_view_denoiser, sample  # noqa: E402
from synctweedies.anagram import ViewOptions  # noqa: E402

CASES = {
    "1-to-1 (identity + rotate_cw)": dict(views=["identity", "rotate_cw"]),
    "1-to-n (identity + inner_rotate 45°)": dict(views=["identity", "inner_rotate"]),
    "n-to-1 (identity + rotate 45°, splat)": dict(views=["identity", "rotate"]),
    "n-to-1 (identity + rotate 45°, 20 Adam steps)": dict(views=["identity", "rotate"], inverse_iterations=20,
                                                          inverse_lr=0.05),
}


def measure(space: AnagramSpace, mode: int, denoisers, seeds) -> dict | None:
    """Mean distances of the canonical image's views to their own and the other set, and the share read right."""
    own_set, other_set = denoisers
    own, other = [], []
    for seed in seeds:
        noise = space.initial_noise(3, torch.Generator().manual_seed(seed))
        try:
            final = sample(per_view_denoiser(denoisers), space, noise, karras_sigmas(30, 0.005, 40.0), mode=mode)
        except ValueError as error:
            return {"error": str(error)}
        shown = space.project(space.unproject(final)[0])
        own += [own_set.distance_to_data(shown[:1]), other_set.distance_to_data(shown[1:])]
        other += [other_set.distance_to_data(shown[:1]), own_set.distance_to_data(shown[1:])]
    own, other = torch.cat(own), torch.cat(other)
    return {"own": own.mean().item(), "other": other.mean().item(), "read_right": (own < other).float().mean().item()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    denoisers = [PosteriorMeanDenoiser(crops) for crops in two_photo_sets()]
    results = {}
    print("| views | mode | distance to own set | to the other set | views read right |")
    print("| --- | --- | --- | --- | --- |")
    for case, settings in CASES.items():
        space = AnagramSpace(settings["views"], 16, options=ViewOptions(rotate_angle=45),
                             inverse_iterations=settings.get("inverse_iterations", 0),
                             inverse_lr=settings.get("inverse_lr", 0.1))
        for mode in range(6):
            result = results.setdefault(case, {})[mode] = measure(space, mode, denoisers, range(args.seeds))
            if "error" in result:
                print(f"| {case} | {mode} | refused: noise averaging loses variance | | |")
            else:
                print(f"| {case} | {mode} | {result['own']:.3f} | {result['other']:.3f} | "
                      f"{result['read_right']:.0%} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
