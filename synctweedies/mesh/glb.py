"""Writing a textured mesh as binary glTF 2.0 (.glb): one mesh, one material, the texture embedded as PNG."""
from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
from PIL import Image

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
