"""Files named from inside other files (an OBJ's material library, a glTF buffer) are only files beside them, and
errors about files name them without their folders."""
from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath


def referenced_file(source: Path, reference: str) -> Path:
    """The file that ``reference``, written inside the file ``source``, names.

    It must be a relative path to a regular file in ``source``'s folder or below it; absolute paths, ``..``
    and links that lead out of the folder raise a ValueError that names ``source`` (saying nothing of what
    lies outside), and a missing file a FileNotFoundError.
    """
    text = reference.strip()
    folder = source.parent.resolve()
    windows = PureWindowsPath(text)
    escapes = (not text or PurePosixPath(text).is_absolute() or windows.is_absolute() or bool(windows.drive)
               or ".." in PurePosixPath(text.replace("\\", "/")).parts)
    path = folder / text
    if not escapes:
        escapes = not path.resolve().is_relative_to(folder)
    if escapes:
        raise ValueError(f"{source.name} refers to {text!r}, which is not a file beside it. The files a "
                         f"{source.suffix or 'file'} uses must be named relative to it and lie in its own folder.")
    if not path.resolve().is_file():
        raise FileNotFoundError(f"{source.name} needs {text}, which is not beside it; put it in the same folder.")
    return path.resolve()


def reason(error: Exception) -> str:
    """What went wrong, for a message: an OSError as its file's name and the system's words (not the full path)."""
    if isinstance(error, OSError) and error.strerror:
        return f"{Path(error.filename or '').name}: {error.strerror}".lstrip(": ")
    return str(error)
