"""Neighbour attention beside its own floor: every self-attention of one SD1.5 UNet pass over the mesh workflow's
views (10 views of 768 px, so 96² latents, and both CFG halves: 20 images), timed three ways per layer shape:

- ``plain``: each view attends to itself (what plain sampling does);
- ``ours``: each view attends to the keys of its two neighbours and itself (``cross_view_attention``, which gathers
  the neighbours' keys and values and runs one attention call per neighbour count);
- ``floor``: one attention call whose keys and values are already three views long (no gathering): the work of the
  attention itself, which no implementation of the original's neighbour attention can go below on these kernels.

SD1.5's self-attentions per pass: five at each of 96², 48² and 24² tokens (320, 640, 1280 channels) and one at 12²
(the middle block); 8 heads. Summed over a pass, in ms (CUDA events, best of ``--repeats``):

    python benchmarks/neighbour_attention_floor.py [--json out.json]
    python benchmarks/neighbour_attention_floor.py --kernels   # the GPU kernels each way runs at 96² tokens
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

import pack_paths  # noqa: F401  (the pack on sys.path)
from synctweedies.attention import cross_view_attention, cyclic_neighbours  # noqa: E402
from timing import machine, report  # noqa: E402
from vae_speed import best_ms  # noqa: E402

LAYERS = [(96 * 96, 320, 5), (48 * 48, 640, 5), (24 * 24, 1280, 5), (12 * 12, 1280, 1)]
"""(tokens, channels, how many self-attentions of that shape) in one SD1.5 UNet pass over 96² latents."""


def list_kernels(ways: dict) -> None:
    """Print the GPU kernels of one call of each way, with their time (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile

    for name, way in ways.items():
        with torch.no_grad():
            way(), torch.cuda.synchronize()
            with profile(activities=[ProfilerActivity.CUDA]) as run:
                way(), torch.cuda.synchronize()
        print(f"--- {name}")
        for event in run.key_averages():
            if event.device_time_total > 0:
                print(f"{event.device_time_total / 1000:8.3f} ms  {event.key[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--kernels", action="store_true", help="list each way's GPU kernels and their time at the "
                        "first layer shape instead")
    options = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.float32
    views, heads, neighbours = options.views, 8, cyclic_neighbours(options.views)
    totals = {"plain": 0.0, "ours": 0.0, "floor": 0.0}
    layers = []
    for tokens, channels, count in LAYERS:
        batch, head = 2 * views, channels // heads
        q, k, v = (torch.randn(batch, tokens, channels, device=device, dtype=dtype) for _ in range(3))
        heads_first = lambda x, length: x.reshape(batch, length, heads, head).transpose(1, 2)  # noqa: E731
        long_k, long_v = (torch.randn(batch, heads, 3 * tokens, head, device=device, dtype=dtype) for _ in range(2))
        ways = {
            "plain": lambda: F.scaled_dot_product_attention(heads_first(q, tokens), heads_first(k, tokens),
                                                            heads_first(v, tokens)),
            "ours": lambda: cross_view_attention(q, k, v, heads, neighbours),
            "floor": lambda: F.scaled_dot_product_attention(heads_first(q, tokens), long_k, long_v),
        }
        if options.kernels:
            return list_kernels(ways)
        with torch.no_grad():
            times = {name: best_ms(way, options.repeats) for name, way in ways.items()}
        layers.append({"tokens": tokens, "channels": channels, "per_pass": count,
                       **{name: round(ms, 3) for name, ms in times.items()}})
        for name, ms in times.items():
            totals[name] += count * ms
        print(layers[-1], flush=True)
    report({"benchmark": "neighbour_attention_floor", **machine(), "dtype": str(dtype), "views": views,
            "images_per_pass": 2 * views, "layers": layers,
            **{f"{name}_ms_per_pass": round(ms, 2) for name, ms in totals.items()},
            "ours_over_floor": round(totals["ours"] / totals["floor"], 3),
            "floor_over_plain": round(totals["floor"] / totals["plain"], 3)}, options.json)


if __name__ == "__main__":
    main()
