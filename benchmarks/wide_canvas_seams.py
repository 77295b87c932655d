"""Seams and distance to the data of a wide canvas at the wide-image workflow's size, window and stride, for each
window weighting, on exact Tweedie denoisers of three kinds of data: colour photo patches, grey textures and smooth
colour fields (CPU):

    python benchmarks/wide_canvas_seams.py [--seeds 30] [--json benchmarks/results/cpu_wide_canvas_seams.json]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pack_paths  # noqa: F401  (the pack and its test helpers on sys.path)
from test_wide_seams import DATA, measure  # noqa: E402
from timing import machine, report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    results = {}
    for kind in DATA:
        results[kind] = {}
        for weighting in ("flat", "taper", "pyramid"):
            seam, distance = measure(weighting, options.seeds, kind)
            results[kind][weighting] = {"seam_ratio": round(seam, 3), "distance_to_data": round(distance, 4)}
            print(kind, weighting, results[kind][weighting], flush=True)
        flat = results[kind]["flat"]["distance_to_data"]
        results[kind]["taper_distance_over_flat"] = round(results[kind]["taper"]["distance_to_data"] / flat, 4)
    report({"benchmark": "wide_canvas_seams", **machine(), "canvas": "512x3072, window 512, stride 64 (latent 64/8)",
            "sampler": "euler, 50 Karras steps, sigma 40 to 0.005, mode 2, canonical noise",
            "seeds": options.seeds, "data": results}, options.json)


if __name__ == "__main__":
    main()
