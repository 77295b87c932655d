"""Builds the original SyncTweedies' vendored gsplat for ``original_gaussian_fit.py``, from a checkout of the original:

    python benchmarks/build_original_gsplat.py path/to/SyncTweedies --out .orig-build
    python benchmarks/original_gaussian_fit.py --original .orig-build FOLDER_WITH_transforms_test.json

The original's README installs its vendored gsplat as the package ``gsplat`` (``setup.py install``), which would
replace the gsplat this pack uses. Here its renderer is copied to ``OUT/synctweedies/renderer`` untouched but for
one step of its build: the point-cloud kernels (``csrc/csrc_pcd/*.cu``), which its ``ext.cpp`` binds but its
just-in-time loader leaves out, are included by one-line files beside the others (so that their own includes
resolve where they stand). The extension is then compiled by the original's own
loader (``gsplat/cuda/_backend.py``) into ``OUT/torch_extensions``, apart from any other gsplat build; ``use``
points a process at it. Needs CUDA's compiler (nvcc) and a GPU; about a minute on 16 cores.
"""
from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import time
from pathlib import Path

CSRC = Path("synctweedies/renderer/gaussian/gsplat/gsplat/cuda/csrc")
"""The vendored extension's sources, in a checkout of the original."""


def use(build: Path) -> None:
    """Make this process load the original's renderer and its extension from ``build`` (``OUT`` above): its
    folder on ``sys.path``, its extension folder for torch, and the installed gsplat's own compiled module hidden
    from the original's loader, which would otherwise take it."""
    os.environ["TORCH_EXTENSIONS_DIR"] = str(Path(build, "torch_extensions").resolve())
    sys.modules.setdefault("gsplat.csrc", None)
    sys.path.insert(0, str(Path(build, "synctweedies", "renderer").resolve()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("original", type=Path, help="a checkout of github:KAIST-Visual-AI-Group/SyncTweedies")
    parser.add_argument("--out", type=Path, default=Path(".orig-build"))
    options = parser.parse_args()
    if not (options.original / CSRC / "ext.cpp").is_file():
        parser.error(f"{options.original} is not a checkout of the original SyncTweedies (no {CSRC}/ext.cpp)")
    renderer = options.out / "synctweedies" / "renderer"
    shutil.rmtree(renderer, ignore_errors=True)
    shutil.copytree(options.original / "synctweedies" / "renderer", renderer)
    for source in (renderer.parent.parent / CSRC / "csrc_pcd").glob("*.cu"):  # compiled where they stand
        (renderer.parent.parent / CSRC / f"pcd_{source.name}").write_text(f'#include "csrc_pcd/{source.name}"\n')
    use(options.out)
    start = time.perf_counter()
    backend = importlib.import_module("gaussian.gsplat.gsplat.cuda._backend")
    if backend._C is None:
        sys.exit("the original's loader built nothing: is nvcc on the PATH?")
    missing = [name for name in ("rasterize_to_pixels_pcd_fwd", "isect_tiles_pcd") if not hasattr(backend._C, name)]
    if missing:
        sys.exit(f"the extension lacks {missing}")
    print(f"built {backend._C.__file__} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
