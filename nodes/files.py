"""Files in ComfyUI's input folder (the nodes' file lists, and the one check every file input passes) and new
files in its output folder."""
from __future__ import annotations

import os
from pathlib import Path

import folder_paths
from comfy_api.v0_0_2 import io, ui


def input_root() -> Path:
    return Path(folder_paths.get_input_directory()).resolve()


def input_files(pattern: str = "*", suffixes: tuple[str, ...] = ()) -> list[str]:
    """Files in the input folder and its subfolders matching ``pattern`` (and, if given, ending in one of
    ``suffixes``, any case), relative to it and sorted; links that lead out of the folder are left out."""
    root = input_root()
    if not root.is_dir():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob(pattern)
                  if p.is_file() and (not suffixes or p.suffix.lower() in suffixes) and p.resolve().is_relative_to(root))


def input_path(name, what: str, suffixes: tuple[str, ...] = (), folder: bool = False, hint: str = "") -> Path:
    """The file (or, with ``folder``, the folder) ``name`` in the input folder; a ValueError otherwise.

    ``name`` must be a relative path whose real path, links resolved, lies inside the input folder and ends in
    one of ``suffixes``. Every refusal reads the same, so that nothing is told about paths outside the folder.
    """
    root = input_root()
    path = (root / name).resolve() if isinstance(name, str) and name and not os.path.isabs(name) else None
    usable = path is not None and path.is_relative_to(root) and (path.is_dir() if folder else path.is_file()) \
        and (not suffixes or path.suffix.lower() in suffixes)
    if not usable:
        kind = f"a {', '.join(suffixes)} file" if suffixes else ("a folder" if folder else "a file")
        raise ValueError(f"{what} {name!r} is not {kind} in ComfyUI's input folder ({root}). Put it there and "
                         f"pick it from the list.{' ' + hint if hint else ''}")
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
