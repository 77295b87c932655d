"""Loading a mesh to texture from OBJ, glTF (.glb/.gltf) or PLY with trimesh, with its own texture.

trimesh parses every format. Our code only converts its result, keeps the files a mesh names inside the
mesh's folder (:func:`~synctweedies.files.referenced_file`), and checks what trimesh accepts silently: a glTF
node hierarchy that is not a tree, glTF accessors past the end of their buffers, and PLY rows the file does
not hold (read through plyfile first, :func:`~synctweedies.ply.read_ply`).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..files import referenced_file
from ..ply import read_ply
from .mesh import Mesh

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".ply")


def load_mesh(path: str | Path, auto_uv: bool = False) -> tuple[Mesh, Image.Image | None]:
    """The mesh at ``path`` and its own base-colour texture (None if it has none).

    ``auto_uv`` unwraps new UVs with xatlas (``pip install xatlas``), also when the mesh has UVs; without it a
    mesh must bring one UV atlas in [0, 1]. ValueErrors name what is wrong and how to fix it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MESH_SUFFIXES:
        raise ValueError(f"{path.name}: meshes must be {', '.join(MESH_SUFFIXES)}.")
    if not path.is_file():
        raise ValueError(f"Mesh {path.name} does not exist.")
    if suffix in (".glb", ".gltf"):
        check_gltf(path)
    elif suffix == ".ply":
        check_ply_mesh(path)
    mesh, texture = to_mesh(read_with_trimesh(path), path.name)
    if not torch.isfinite(mesh.vertices).all():
        raise ValueError(f"{path.name} has vertices that are not finite numbers (NaN or inf); repair the mesh.")
    if (mesh.vertices.amax(0) - mesh.vertices.amin(0)).max() <= 0:
        raise ValueError(f"{path.name} has no extent: all its vertices coincide.")
    if auto_uv:
        return unwrap(mesh), None
    check_uvs(mesh, path.name)
    return mesh, texture


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tga", ".tif", ".tiff", ".webp")


class _FolderResolver:
    """What trimesh reads beside a mesh: regular files in its folder only, images only if they decode. trimesh
    skips an OBJ material it cannot read, so the problems are kept, to refuse the mesh after loading."""

    def __init__(self, path: Path):
        self.path, self.problems = path, []

    def get(self, name: str) -> bytes:
        try:
            data = referenced_file(self.path, name).read_bytes()
            if Path(name).suffix.lower() in IMAGE_SUFFIXES:
                try:
                    Image.open(io.BytesIO(data)).verify()
                except Exception as error:  # PIL's decode errors have no common type
                    raise ValueError(f"The texture image {name.strip()} of {self.path.name} cannot be decoded "
                                     f"({error}); repair or replace it.") from None
            return data
        except ValueError as error:
            self.problems.append(str(error))
            raise

    __getitem__ = get


def read_with_trimesh(path: Path):
    """``trimesh.load`` of ``path`` (no processing, so vertices and faces stay as stored)."""
    import trimesh

    resolver = _FolderResolver(path)
    try:
        loaded = trimesh.load(str(path), file_type=path.suffix.lower()[1:], resolver=resolver, process=False)
    except FileNotFoundError as error:
        raise ValueError(str(error)) from None
    except Exception as error:  # trimesh's parse errors have no common type
        if resolver.problems:
            raise ValueError(resolver.problems[0]) from None
        raise ValueError(f"{path.name} could not be read as a mesh ({str(error) or type(error).__name__}); "
                         "the file is damaged. Repair or re-export it.") from None
    if resolver.problems:
        raise ValueError(resolver.problems[0])
    return loaded


def to_mesh(loaded, name: str) -> tuple[Mesh, Image.Image | None]:
    """The triangles of a trimesh ``Trimesh`` or ``Scene`` (node transforms applied) as one :class:`Mesh`, with
    per-vertex UVs (``uv_faces`` -1 where a part has none), and the first base-colour texture found."""
    import trimesh

    if isinstance(loaded, trimesh.Scene):
        parts = [(loaded.geometry[geometry], transform) for transform, geometry in
                 (loaded.graph[node] for node in loaded.graph.nodes_geometry)]
    else:
        parts = [(loaded, np.eye(4))]
    parts = [(part, transform) for part, transform in parts if isinstance(part, trimesh.Trimesh) and len(part.faces)]
    if not parts:
        raise ValueError(f"{name} has no faces; texturing needs a surface mesh (a point cloud is not one).")
    for part, _ in parts:
        if part.vertices.ndim != 2 or part.vertices.shape[1] != 3:
            raise ValueError(f"{name} has vertices with {part.vertices.shape[-1]} coordinates, not 3 (x y z); repair "
                             "or re-export the mesh.")
    vertices, faces, uvs, uv_faces, texture, offset = [], [], [], [], None, 0
    for part, transform in parts:
        uv = getattr(part.visual, "uv", None)
        vertices.append(trimesh.transform_points(part.vertices, transform))
        faces.append(part.faces + offset)
        uvs.append(np.zeros((len(part.vertices), 2)) if uv is None else uv)
        uv_faces.append(np.full_like(part.faces, -1) if uv is None else part.faces + offset)
        texture = texture or own_texture(part.visual, name)
        offset += len(part.vertices)
    as_tensor = lambda arrays, kind: torch.from_numpy(np.concatenate(arrays).astype(kind))  # noqa: E731
    return Mesh(as_tensor(vertices, np.float32), as_tensor(faces, np.int64), as_tensor(uvs, np.float32),
                as_tensor(uv_faces, np.int64)), texture


def check_ply_mesh(path: Path) -> None:
    """A ValueError unless the PLY reads whole (:func:`~synctweedies.ply.read_ply`) and has vertex x, y and z."""
    ply = read_ply(path)
    names = ply["vertex"].data.dtype.names if "vertex" in ply else ()
    if not {"x", "y", "z"} <= set(names or ()):
        raise ValueError(f"{path.name} has no vertex x, y and z, so it holds no mesh.")


def own_texture(visual, name: str) -> Image.Image | None:
    """The base-colour image of a trimesh visual's material (glTF ``baseColorTexture``, or an OBJ ``map_Kd``, which
    trimesh marks with the ``file_path`` it came from; other images are trimesh's placeholder for none)."""
    material = getattr(visual, "material", None)
    image = getattr(material, "baseColorTexture", None)
    if image is None and "file_path" in getattr(getattr(material, "image", None), "info", {}):
        image = material.image
    if image is None:
        return None
    try:
        return image.convert("RGB")
    except (OSError, ValueError) as error:
        raise ValueError(f"The texture image of {name} cannot be decoded ({error}); repair or replace it.") from None


def check_gltf(path: Path) -> None:
    """A ValueError unless every index in the glTF names something it has and its nodes form a tree (trimesh skips
    a node whose mesh is missing and walks a cycle as if it were not there). Read with pygltflib, which reads no
    buffer; trimesh's reads stay inside the buffers (numpy checks every accessor against its buffer)."""
    import pygltflib

    try:
        document = pygltflib.GLTF2.load(str(path))
    except Exception as error:  # pygltflib's parse errors have no common type
        raise ValueError(f"{path.name} is not a glTF 2.0 file ({error}); re-export it.") from None
    if document is None:
        raise ValueError(f"{path.name} is not a glTF 2.0 file; re-export it.")
    check_gltf_indices(document, path)
    nodes, parent = document.nodes, {}  # each node's parent: a tree has at most one, and every node is reached
    for index, node in enumerate(nodes):
        for child in node.children or []:
            if not isinstance(child, int) or not 0 <= child < len(nodes) or child in parent:
                raise _not_a_tree(path)
            parent[child] = index
    reached, queue = 0, [index for index in range(len(nodes)) if index not in parent]
    while queue:
        reached += 1
        queue += nodes[queue.pop()].children or []
    if reached < len(nodes):
        raise _not_a_tree(path)


def check_gltf_indices(document, path: Path) -> None:
    """A ValueError naming the first reference to a scene, node, mesh, accessor, material, texture, image, buffer
    view or buffer that the document does not have."""
    references = [("scene", document.scene, document.scenes)]
    references += [("node", node, document.nodes) for scene in document.scenes for node in scene.nodes or []]
    references += [("mesh", node.mesh, document.meshes) for node in document.nodes]
    for mesh in document.meshes:
        for primitive in mesh.primitives:
            attributes = [value for value in vars(primitive.attributes).values() if isinstance(value, int)]
            references += [("accessor", index, document.accessors) for index in [*attributes, primitive.indices]]
            references.append(("material", primitive.material, document.materials))
    references += [("texture", getattr(material.pbrMetallicRoughness, "baseColorTexture", None) and
                    material.pbrMetallicRoughness.baseColorTexture.index, document.textures)
                   for material in document.materials]
    references += [("image", texture.source, document.images) for texture in document.textures]
    references += [("buffer view", item.bufferView, document.bufferViews)
                   for item in document.images + document.accessors]
    references += [("buffer", view.buffer, document.buffers) for view in document.bufferViews]
    for what, index, items in references:
        if index is not None and not (isinstance(index, int) and 0 <= index < len(items)):
            raise ValueError(f"{path.name}: {what} {index} does not exist; the file is damaged. Re-export it.")


def _not_a_tree(path: Path) -> ValueError:
    return ValueError(f"{path.name}: its node hierarchy is not a tree (a node is its own ancestor, has two parents "
                      "or names a node that does not exist); re-export it.")


def check_uvs(mesh: Mesh, name: str) -> None:
    """A ValueError unless every corner of ``mesh`` has a UV in [0, 1]."""
    if not mesh.has_uvs:
        raise ValueError(f"{name} has faces without UVs. Turn on mesh_autouv to unwrap it with xatlas, or unwrap it "
                         "yourself (e.g. in Blender: Smart UV Project).")
    used = mesh.uvs[mesh.uv_faces.unique()]
    if not torch.isfinite(used).all() or (used < -1e-6).any() or (used > 1 + 1e-6).any():
        raise ValueError(f"{name} has UVs outside [0, 1] (tiling or UDIMs); texturing needs one [0, 1] atlas. "
                         "Turn on mesh_autouv to unwrap new UVs.")


def unwrap(mesh: Mesh) -> Mesh:
    """``mesh`` with new UVs from xatlas: one atlas in [0, 1], seams cut where xatlas chooses."""
    try:
        import xatlas
    except ImportError:
        raise ValueError("Unwrapping UVs (mesh_autouv) needs xatlas: pip install xatlas") from None
    mapping, corners, uvs = xatlas.parametrize(mesh.vertices.numpy(), mesh.faces.numpy().astype(np.uint32))
    corners = torch.from_numpy(corners.astype(np.int64))
    return Mesh(mesh.vertices, torch.from_numpy(mapping.astype(np.int64))[corners], torch.from_numpy(uvs).float(),
                corners)
