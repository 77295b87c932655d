"""PLY files through plyfile, with the two things it leaves to its callers: rows declared in the header are
checked against the file's size before plyfile allocates them, and every failure names the file."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def read_ply(path: str | Path):
    """The ``plyfile.PlyData`` of ``path``; a ValueError naming the file and what is wrong otherwise."""
    import plyfile

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path.name} does not exist.")
    with path.open("rb") as stream:
        try:
            # plyfile's own header parser (a static method of PlyData): counts first, data only if they fit
            header = plyfile.PlyData._parse_header(stream)
        except (plyfile.PlyParseError, UnicodeDecodeError, ValueError) as error:
            raise ValueError(f"{path.name} is not a readable PLY file: its header is broken ({error}).") from None
        body = path.stat().st_size - stream.tell()
    for element in header.elements:
        least = element.count * least_row_bytes(element, header.text)
        if element.count < 0 or least > body:
            raise ValueError(f"{path.name} declares {element.count:,} '{element.name}' rows, which its {body:,} bytes "
                             "of data cannot hold: the file is truncated or its header is wrong. Re-export it.")
    try:
        return plyfile.PlyData.read(str(path), mmap=False)
    except (plyfile.PlyParseError, ValueError, MemoryError) as error:
        raise ValueError(f"{path.name} could not be read as PLY ({error}); the file is damaged. "
                         "Re-export it.") from None


def least_row_bytes(element, text: bool) -> int:
    """The fewest bytes one row of ``element`` takes: each ASCII value at least a digit and a separator, each
    binary scalar its size and each binary list its length field."""
    import plyfile

    if text:
        return 2 * len(element.properties)
    return sum(np.dtype(p.len_dtype if isinstance(p, plyfile.PlyListProperty) else p.val_dtype).itemsize
               for p in element.properties)


def write_ply(path: str | Path, data) -> Path:
    """Write ``data`` (a ``plyfile.PlyData``) as a new binary PLY; an existing file is never overwritten."""
    import plyfile

    path = Path(path)
    binary = plyfile.PlyData(data.elements, text=False, byte_order="<", comments=data.comments,
                             obj_info=data.obj_info)
    with path.open("xb") as stream:
        binary.write(stream)
    return path
