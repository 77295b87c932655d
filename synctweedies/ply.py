"""Reading and writing PLY files (ASCII and binary), element by element, as numpy structured arrays.

Scalar properties keep their stored type, so a file read and written back is byte-identical for every
value not changed. List properties (a mesh's ``vertex_indices``) are read as one ``[rows, count]`` array.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TYPES = {"char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
         "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
         "float": "f4", "float32": "f4", "double": "f8", "float64": "f8"}
NAMES = {"i1": "char", "u1": "uchar", "i2": "short", "u2": "ushort", "i4": "int", "u4": "uint", "f4": "float",
         "f8": "double"}


@dataclass
class Element:
    """One PLY element: ``count`` rows of scalar properties (``data``, a structured array) and list properties
    (``lists``: name → ``[count, length]`` array, with the count's and items' stored types in ``list_types``)."""

    name: str
    data: np.ndarray
    lists: dict[str, np.ndarray] = field(default_factory=dict)
    list_types: dict[str, tuple[str, str]] = field(default_factory=dict)


def read_ply(path: str | Path) -> dict[str, Element]:
    """The elements of a PLY file by name; a ValueError naming what is wrong otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} does not exist.")
    raw = path.read_bytes()
    end = raw.find(b"end_header\n")
    if not raw.startswith(b"ply") or end < 0:
        raise ValueError(f"{path.name} is not a PLY file (no 'ply' ... 'end_header' header).")
    lines = raw[:end].decode("ascii", errors="replace").splitlines()
    body = raw[end + len(b"end_header\n"):]
    form = next((line.split()[1] for line in lines if line.startswith("format")), None)
    if form not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise ValueError(f"{path.name}: unknown PLY format {form!r}.")
    declared: list[tuple[str, int, list[tuple]]] = []
    for line in lines:
        parts = line.split()
        if parts[:1] == ["element"]:
            declared.append((parts[1], int(parts[2]), []))
        elif parts[:1] == ["property"]:
            if parts[1] == "list":
                declared[-1][2].append(("list", parts[4], TYPES[parts[2]], TYPES[parts[3]]))
            else:
                declared[-1][2].append(("scalar", parts[2], TYPES[parts[1]]))
    if form == "ascii":
        return _read_ascii(declared, body.decode("ascii", errors="replace").split(), path)
    order = "<" if form == "binary_little_endian" else ">"
    elements, offset = {}, 0
    for name, count, properties in declared:
        element, offset = _read_binary(name, count, properties, body, offset, order, path)
        elements[name] = element
    return elements


def _read_binary(name: str, count: int, properties: list[tuple], body: bytes, offset: int, order: str,
                 path: Path) -> tuple[Element, int]:
    scalars = [(p[1], order + p[2]) for p in properties if p[0] == "scalar"]
    if all(p[0] == "scalar" for p in properties):
        dtype = np.dtype(scalars)
        if offset + count * dtype.itemsize > len(body):
            raise _truncated(path, name)
        return Element(name, np.frombuffer(body, dtype, count, offset).copy()), offset + count * dtype.itemsize
    # Rows with lists: assume every row's lists have the first row's lengths, and check that they do.
    fields, cursor = [], offset
    for prop in properties:
        if prop[0] == "scalar":
            fields.append((prop[1], order + prop[2]))
            cursor += np.dtype(prop[2]).itemsize
        else:
            length = int(np.frombuffer(body, order + prop[2], 1, cursor)[0])
            fields += [(prop[1] + "@count", order + prop[2]), (prop[1], order + prop[3], (length,))]
            cursor += np.dtype(prop[2]).itemsize + length * np.dtype(prop[3]).itemsize
    dtype = np.dtype(fields)
    if offset + count * dtype.itemsize > len(body):
        raise _ragged(path, name)
    rows = np.frombuffer(body, dtype, count, offset)
    lists, list_types = {}, {}
    for prop in properties:
        if prop[0] == "list":
            if (rows[prop[1] + "@count"] != rows.dtype[prop[1]].shape[0]).any():
                raise _ragged(path, name)
            lists[prop[1]], list_types[prop[1]] = rows[prop[1]].copy(), (prop[2], prop[3])
    data = np.empty(count, np.dtype(scalars))
    for field_name, _ in scalars:
        data[field_name] = rows[field_name]
    return Element(name, data, lists, list_types), offset + count * dtype.itemsize


def _read_ascii(declared: list[tuple], tokens: list[str], path: Path) -> dict[str, Element]:
    elements, at = {}, 0
    for name, count, properties in declared:
        scalars = [(p[1], p[2]) for p in properties if p[0] == "scalar"]
        data = np.empty(count, np.dtype(scalars))
        lists: dict[str, list] = {p[1]: [] for p in properties if p[0] == "list"}
        for row in range(count):
            for prop in properties:
                if at >= len(tokens):
                    raise _truncated(path, name)
                if prop[0] == "scalar":
                    data[prop[1]][row] = float(tokens[at])
                    at += 1
                else:
                    length = int(tokens[at])
                    lists[prop[1]].append([float(t) for t in tokens[at + 1:at + 1 + length]])
                    at += 1 + length
        arrays = {}
        for prop in properties:
            if prop[0] == "list":
                if len({len(row) for row in lists[prop[1]]}) > 1:
                    raise _ragged(path, name)
                arrays[prop[1]] = np.array(lists[prop[1]], dtype=prop[3]).reshape(count, -1)
        elements[name] = Element(name, data, arrays, {p[1]: (p[2], p[3]) for p in properties if p[0] == "list"})
    return elements


def _truncated(path: Path, element: str) -> ValueError:
    return ValueError(f"{path.name} ends inside its '{element}' element; the file is truncated.")


def _ragged(path: Path, element: str) -> ValueError:
    return ValueError(f"{path.name}: the rows of '{element}' have lists of different lengths (e.g. mixed triangles "
                      "and quads); triangulate the mesh first.")


def write_ply(path: str | Path, elements: list[Element]) -> Path:
    """Write ``elements`` as a new binary little-endian PLY (an existing file is never overwritten)."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; pick another name.")
    header = ["ply", "format binary_little_endian 1.0"]
    chunks = []
    for element in elements:
        header.append(f"element {element.name} {len(element.data)}")
        fields = []
        for name in element.data.dtype.names:
            kind = element.data.dtype[name].str[1:]
            header.append(f"property {NAMES[kind]} {name}")
            fields.append((name, "<" + kind))
        for name, values in element.lists.items():
            count_type, item_type = element.list_types.get(name, ("u1", values.dtype.str[1:]))
            header.append(f"property list {NAMES[count_type]} {NAMES[item_type]} {name}")
            fields += [(name + "@count", "<" + count_type), (name, "<" + item_type, (values.shape[1],))]
        rows = np.empty(len(element.data), np.dtype(fields))
        for name in element.data.dtype.names:
            rows[name] = element.data[name]
        for name, values in element.lists.items():
            rows[name + "@count"], rows[name] = values.shape[1], values
        chunks.append(rows.tobytes())
    path.write_bytes(("\n".join(header) + "\nend_header\n").encode() + b"".join(chunks))
    return path
