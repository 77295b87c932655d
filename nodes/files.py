"""Files in ComfyUI's input folder (the nodes' file lists, and the one check every file input passes) and new
files in its output folder."""
from __future__ import annotations

import os
from pathlib import Path

import folder_paths
from comfy_api.v0_0_2 import io, ui


EXAMPLES = Path(__file__).resolve().parents[1] / "example_inputs"
"""The pack's own small inputs (``example_inputs/make_examples.py``), offered in every file list as
``example: NAME``."""
EXAMPLE = "example: "
EXAMPLE_USES = {"vase.obj": "Mesh", "gaussians.ply": "Gaussians", "room_depth.png": "Depth map"}
"""What each example is for: a list offers only the examples for its input (a Gaussian .ply is no mesh)."""
ORIGINAL_DATA = "https://github.com/KAIST-Visual-AI-Group/SyncTweedies/tree/main/data"


def input_root() -> Path:
    return Path(folder_paths.get_input_directory()).resolve()


def matching(root: Path, pattern: str, suffixes: tuple[str, ...], recursive: bool = True) -> list[str]:
    """Files under ``root`` matching ``pattern`` and ``suffixes`` (any case), relative to it; links out left out."""
    if not root.is_dir():
        return []
    found = root.rglob(pattern) if recursive else root.glob(pattern)
    return sorted(str(p.relative_to(root)) for p in found
                  if p.is_file() and (not suffixes or p.suffix.lower() in suffixes)
                  and p.resolve().is_relative_to(root))


def examples_for(what: str, pattern: str = "*", suffixes: tuple[str, ...] = ()) -> list[str]:
    """The pack's examples for an input named ``what`` ("Mesh", "Gaussians", "Depth map") that match."""
    return [name for name in matching(EXAMPLES, pattern, suffixes, recursive=False) if EXAMPLE_USES.get(name) == what]


def input_files(pattern: str = "*", suffixes: tuple[str, ...] = (), what: str = "") -> list[str]:
    """Files in the input folder and its subfolders matching ``pattern`` (and, if given, ending in one of
    ``suffixes``, any case), relative to it and sorted, then the pack's examples for ``what`` that match."""
    examples = [EXAMPLE + name for name in examples_for(what, pattern, suffixes)]
    return matching(input_root(), pattern, suffixes) + examples


def input_path(name, what: str, suffixes: tuple[str, ...] = (), folder: bool = False) -> Path:
    """The file (or, with ``folder``, the folder) ``name`` in the input folder; a ValueError otherwise.

    ``name`` must be a relative path whose real path, links resolved, lies inside the input folder and ends in
    one of ``suffixes``. Every refusal reads the same, so that nothing is told about paths outside the folder.
    """
    root = input_root()
    if isinstance(name, str) and name.startswith(EXAMPLE) and not folder:
        example = name[len(EXAMPLE):]
        if example in examples_for(what, "*", suffixes):
            return EXAMPLES / example
    path = (root / name).resolve() if isinstance(name, str) and name and not os.path.isabs(name) else None
    usable = path is not None and path.is_relative_to(root) and (path.is_dir() if folder else path.is_file()) \
        and (not suffixes or path.suffix.lower() in suffixes)
    if not usable:
        kind = f"a {', '.join(suffixes)} file" if suffixes else ("a folder" if folder else "a file")
        examples = [] if folder else examples_for(what, "*", suffixes)
        offer = f" or pick the pack's {EXAMPLE}{examples[0]}" if examples else ""
        raise ValueError(f"{what} {name!r} is not {kind} in ComfyUI's input folder ({root}). Put it there and "
                         f"pick it from the list{offer}. The original's examples: {ORIGINAL_DATA}.")
    return path


def output_file(filename_prefix: str, suffix: str, width: int = 1, height: int = 1) -> tuple[Path, str]:
    """A new file in the output folder for ``filename_prefix`` (numbered after the ones already there): its path,
    and its name relative to the output folder (what Preview3D and the UI's file links read)."""
    folder, name, counter, subfolder, _ = folder_paths.get_save_image_path(
        filename_prefix, folder_paths.get_output_directory(), width, height)
    file = f"{name}_{counter:05}_{suffix}"
    return Path(os.path.join(folder, file)), os.path.join(subfolder, file).replace(os.sep, "/")


def saved_files_ui(paths: list[Path]) -> dict:
    """The UI output of a node that saved ``paths`` in the output folder: each file as a saved result (under
    ``3d``, where the queue command and API clients find meshes and splats) and a line saying what was saved."""
    root = Path(folder_paths.get_output_directory()).resolve()
    names = [path.resolve().relative_to(root) for path in paths]
    return {"3d": [ui.SavedResult(name.name, name.parent.as_posix().removeprefix("."), io.FolderType.output)
                   for name in names],
            "text": (f"Saved {', '.join(name.as_posix() for name in names)}",)}
