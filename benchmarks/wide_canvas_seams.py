"""Seams and distance to the data of a wide canvas at the wide-image workflow's size, window and stride, for each
window weighting, on an exact Tweedie denoiser of photo patches (CPU):

    python benchmarks/wide_canvas_seams.py [--seeds 30] [--json benchmarks/results/cpu_wide_canvas_seams.json]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "benchmarks")]
from test_wide_seams import measure  # noqa: E402
from timing import machine, report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    results = {}
    for weighting in ("flat", "taper", "pyramid"):
        seam, distance = measure(weighting, options.seeds)
        results[weighting] = {"seam_ratio": round(seam, 3), "distance_to_data": round(distance, 4)}
        print(weighting, results[weighting], flush=True)
    report({"benchmark": "wide_canvas_seams", **machine(), "canvas": "512x3072, window 512, stride 64 (latent 64/8)",
            "seeds": options.seeds, "weightings": results}, options.json)


if __name__ == "__main__":
    main()
