"""Importing this puts the pack (``synctweedies``), its test helpers (tiny models, exact denoisers) and this folder
on ``sys.path``, so a benchmark run as ``python benchmarks/NAME.py`` from anywhere imports them; ``add`` puts
another checkout there (ComfyUI, the original research code)."""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
"""The pack's folder."""


def add(*paths: Path | str) -> None:
    """Put ``paths`` first on ``sys.path`` (each once)."""
    for path in reversed([str(path) for path in paths]):
        if path in sys.path:
            sys.path.remove(path)
        sys.path.insert(0, path)


add(REPO, REPO / "tests" / "support", REPO / "tests" / "library", REPO / "benchmarks")
