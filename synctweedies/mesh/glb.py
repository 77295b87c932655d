"""glTF 2.0: writing a textured mesh as .glb (one mesh, one material, the texture embedded as PNG), and reading
the triangles, UVs and base-colour texture of .glb and .gltf files."""
from __future__ import annotations

import io
import json
import base64
import struct
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .cameras import quaternion_matrix
from .obj import Mesh


def _pad(data: bytes, fill: bytes = b"\0") -> bytes:
    return data + fill * (-len(data) % 4)


def write_glb(mesh: Mesh, path: str | Path, texture: Image.Image) -> Path:
    """Save ``mesh`` with ``texture`` as ``path`` (a new file; existing files are never overwritten).

    Corners with different UVs become separate vertices, as glTF stores one UV per vertex.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; pick another name.")
    corners = np.stack([mesh.faces.numpy().reshape(-1), mesh.uv_faces.numpy().reshape(-1)], 1)
    unique, inverse = np.unique(corners, axis=0, return_inverse=True)
    positions = mesh.vertices.numpy()[unique[:, 0]].astype("<f4")
    uvs = mesh.uvs.numpy()[unique[:, 1]].astype("<f4") * [1, -1] + [0, 1]  # glTF's v points down
    indices = inverse.reshape(-1).astype("<u4")
    png = io.BytesIO()
    texture.convert("RGB").save(png, "PNG")
    chunks = [positions.tobytes(), uvs.astype("<f4").tobytes(), indices.tobytes(), png.getvalue()]
    offsets, blob = [], b""
    for chunk in chunks:
        offsets.append(len(blob))
        blob += _pad(chunk)
    views = [{"buffer": 0, "byteOffset": o, "byteLength": len(c)} for o, c in zip(offsets, chunks)]
    views[0]["target"] = views[1]["target"] = 34962
    views[2]["target"] = 34963
    document = {
        "asset": {"version": "2.0", "generator": "ComfyUI-SyncTweedies"},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1}, "indices": 2, "material": 0}]}],
        "materials": [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}, "metallicFactor": 0.0,
                                                "roughnessFactor": 1.0}, "doubleSided": True}],
        "textures": [{"source": 0, "sampler": 0}], "samplers": [{"magFilter": 9729, "minFilter": 9729}],
        "images": [{"bufferView": 3, "mimeType": "image/png"}],
        "buffers": [{"byteLength": len(blob)}], "bufferViews": views,
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": len(positions), "type": "VEC3",
             "min": positions.min(0).tolist(), "max": positions.max(0).tolist()},
            {"bufferView": 1, "componentType": 5126, "count": len(uvs), "type": "VEC2"},
            {"bufferView": 2, "componentType": 5125, "count": len(indices), "type": "SCALAR"},
        ],
    }
    text = _pad(json.dumps(document, separators=(",", ":")).encode(), b" ")
    body = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(blob), 0x004E4942) + blob
    path.write_bytes(struct.pack("<III", 0x46546C67, 2, 12 + len(body)) + body)
    return path


def read_glb(path: str | Path) -> tuple[dict, bytes]:
    """The JSON document and binary buffer of a .glb file (for checks); a ValueError if it is not one."""
    data = Path(path).read_bytes()
    magic, version, length = struct.unpack_from("<III", data)
    if magic != 0x46546C67 or version != 2 or length != len(data):
        raise ValueError(f"{path} is not a glTF 2.0 binary file.")
    json_length, _ = struct.unpack_from("<II", data, 12)
    document = json.loads(data[20:20 + json_length])
    blob_length, _ = struct.unpack_from("<II", data, 20 + json_length)
    return document, data[28 + json_length:28 + json_length + blob_length]


COMPONENTS = {5120: "i1", 5121: "u1", 5122: "i2", 5123: "u2", 5125: "u4", 5126: "f4"}
WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}


def load_gltf(path: str | Path) -> tuple[Mesh, Image.Image | None]:
    """The triangles of every mesh in the default scene of a .glb or .gltf (node transforms applied), with
    ``TEXCOORD_0`` as UVs (``uv_faces`` -1 when a primitive has none), and the first material's base-colour
    texture if it has one."""
    path = Path(path)
    if path.suffix.lower() == ".glb":
        document, blob = read_glb(path)
    else:
        document, blob = json.loads(path.read_text()), b""
    buffers = [_buffer(entry, blob, path) for entry in document.get("buffers", [])]
    vertices, faces, uvs, uv_faces, offset = [], [], [], [], 0
    scene = document.get("scenes", [{"nodes": list(range(len(document.get("nodes", []))))}])[document.get("scene", 0)]
    stack = [(index, np.eye(4)) for index in scene.get("nodes", [])]
    while stack:
        index, parent = stack.pop()
        node = document["nodes"][index]
        world = parent @ _local_matrix(node)
        stack += [(child, world) for child in node.get("children", [])]
        for primitive in document["meshes"][node["mesh"]]["primitives"] if "mesh" in node else []:
            if primitive.get("mode", 4) != 4:
                continue
            position = _accessor(document, buffers, primitive["attributes"]["POSITION"], path)
            position = position @ world[:3, :3].T + world[:3, 3]
            triangles = (_accessor(document, buffers, primitive["indices"], path).reshape(-1, 3)
                         if "indices" in primitive else np.arange(len(position)).reshape(-1, 3))
            vertices.append(position)
            faces.append(triangles + offset)
            if "TEXCOORD_0" in primitive["attributes"]:
                uv = _accessor(document, buffers, primitive["attributes"]["TEXCOORD_0"], path)
                uvs.append(uv * [1, -1] + [0, 1])  # glTF's v points down
                uv_faces.append(triangles + sum(len(u) for u in uvs[:-1]))
            else:
                uv_faces.append(np.full_like(triangles, -1))
            offset += len(position)
    if not vertices:
        raise ValueError(f"{path.name} has no triangle meshes in its scene.")
    mesh = Mesh(torch.from_numpy(np.concatenate(vertices)).float(), torch.from_numpy(np.concatenate(faces)).long(),
                torch.from_numpy(np.concatenate(uvs) if uvs else np.zeros((0, 2))).float(),
                torch.from_numpy(np.concatenate(uv_faces)).long())
    return mesh, _base_colour(document, buffers, path)


def _buffer(entry: dict, blob: bytes, path: Path) -> bytes:
    uri = entry.get("uri")
    if uri is None:
        return blob
    if uri.startswith("data:"):
        return base64.b64decode(uri.split(",", 1)[1])
    file = path.parent / uri
    if not file.is_file():
        raise ValueError(f"{path.name} needs its buffer file {uri}, which is not beside it.")
    return file.read_bytes()


def _accessor(document: dict, buffers: list[bytes], index: int, path: Path) -> np.ndarray:
    """An accessor's values as float64 ``[count, width]`` (normalised integers scaled to [0, 1])."""
    accessor = document["accessors"][index]
    if "sparse" in accessor or "bufferView" not in accessor:
        raise ValueError(f"{path.name} uses sparse or empty accessors, which are not supported; re-export it.")
    view = document["bufferViews"][accessor["bufferView"]]
    kind, width = np.dtype("<" + COMPONENTS[accessor["componentType"]]), WIDTHS[accessor["type"]]
    stride = view.get("byteStride") or kind.itemsize * width
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    data = buffers[view["buffer"]]
    rows = np.ndarray((accessor["count"], width), kind, data, start, (stride, kind.itemsize))
    values = rows.astype(np.float64)
    if accessor.get("normalized"):
        values /= np.iinfo(kind).max
    return values


def _local_matrix(node: dict) -> np.ndarray:
    if "matrix" in node:
        return np.array(node["matrix"], dtype=np.float64).reshape(4, 4).T  # column-major
    x, y, z, w = node.get("rotation", [0, 0, 0, 1])
    rotation = quaternion_matrix(torch.tensor([w, x, y, z], dtype=torch.float64)).numpy()
    matrix = np.eye(4)
    matrix[:3, :3] = rotation * np.array(node.get("scale", [1, 1, 1]))
    matrix[:3, 3] = node.get("translation", [0, 0, 0])
    return matrix


def _base_colour(document: dict, buffers: list[bytes], path: Path) -> Image.Image | None:
    for material in document.get("materials", []):
        texture = material.get("pbrMetallicRoughness", {}).get("baseColorTexture")
        if texture is None:
            continue
        image = document["images"][document["textures"][texture["index"]]["source"]]
        if "bufferView" in image:
            view = document["bufferViews"][image["bufferView"]]
            start = view.get("byteOffset", 0)
            data = buffers[view["buffer"]][start:start + view["byteLength"]]
        else:
            data = _buffer(image, b"", path)
        return Image.open(io.BytesIO(data)).convert("RGB")
    return None
