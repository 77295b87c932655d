"""What every benchmark here shares: CUDA-synchronized timing, the machine's name, peak memory, the report."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, TypeVar

import torch

T = TypeVar("T")


def timed(run: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of ``run()``, waiting for the GPU before and after."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = run()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, result


def machine() -> dict:
    """The GPU's name (or "cpu") and, on a GPU, the peak memory allocated so far in GiB."""
    if not torch.cuda.is_available():
        return {"device": "cpu", "peak_gpu_gib": None}
    return {"device": torch.cuda.get_device_name(),
            "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2 ** 30, 2)}


def report(result: dict, json_path: Path | None) -> None:
    """Print ``result`` as one JSON line, and write it to ``json_path`` when given."""
    print(json.dumps(result))
    if json_path:
        json_path.write_text(json.dumps(result, indent=1) + "\n")
