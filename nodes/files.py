"""Files in ComfyUI's input folder (for the nodes' file lists) and new files in its output folder."""
from __future__ import annotations

import os
from pathlib import Path

import folder_paths


def input_files(pattern: str = "*", suffixes: tuple[str, ...] = ()) -> list[str]:
    """Files in the input folder and its subfolders matching ``pattern`` (and, if given, ending in one of
    ``suffixes``, any case), relative to it and sorted."""
    root = Path(folder_paths.get_input_directory())
    if not root.is_dir():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob(pattern)
                  if p.is_file() and (not suffixes or p.suffix.lower() in suffixes))


def output_file(filename_prefix: str, suffix: str, width: int = 1, height: int = 1) -> tuple[Path, str]:
    """A new file in the output folder for ``filename_prefix`` (numbered after the ones already there): its path,
    and its name relative to the output folder (what Preview3D and the UI's file links read)."""
    folder, name, counter, subfolder, _ = folder_paths.get_save_image_path(
        filename_prefix, folder_paths.get_output_directory(), width, height)
    file = f"{name}_{counter:05}_{suffix}"
    return Path(os.path.join(folder, file)), os.path.join(subfolder, file).replace(os.sep, "/")
