"""Malformed files, family by family (truncated, oversized headers, wrong types, NaN/inf, degenerate geometry,
references outside the file's folder): each is a ValueError that names the file and what is wrong, never a bare
traceback, a hang or an allocation of what a header merely declares."""
import json
import struct
from pathlib import Path

import numpy as np
import plyfile
import pygltflib
import pytest
import torch
from PIL import Image

from gaussian_scenes import sphere_scene
from meshes import cube
from synctweedies.depth import read_depth, write_dpt
from synctweedies.gaussians import blender_cameras, colmap_cameras, load_gaussians
from synctweedies.mesh import load_mesh, write_glb, write_obj

TRIANGLE = "v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nf 1/1 2/2 3/3\n"


def ply_header(form: str, vertices: int, faces: int, x_type: str = "float") -> str:
    return (f"ply\nformat {form} 1.0\nelement vertex {vertices}\nproperty {x_type} x\nproperty float y\n"
            f"property float z\nproperty float s\nproperty float t\nelement face {faces}\n"
            "property list uchar int vertex_indices\nend_header\n")


ASCII_TRIANGLE = "0 0 0 0 0\n1 0 0 1 0\n0 1 0 0 1\n3 0 1 2\n"


def glb(tmp_path, change=None):
    """A textured cube .glb, its document changed by ``change(document)`` and saved again."""
    texture = Image.new("RGB", (4, 4), (200, 10, 10))
    path = write_glb(cube(), tmp_path / "original.glb", texture)
    if change is None:
        return path
    document = pygltflib.GLTF2.load(str(path))
    change(document)
    document.save_binary(str(tmp_path / "mesh.glb"))
    return tmp_path / "mesh.glb"


def gltf_with_buffer(tmp_path, uri: str):
    document = pygltflib.GLTF2.load(str(glb(tmp_path)))
    (tmp_path / "cube.bin").write_bytes(document.binary_blob())
    document.set_binary_blob(None)
    document.buffers = [pygltflib.Buffer(uri=uri, byteLength=document.buffers[0].byteLength)]
    document.save_json(str(tmp_path / "mesh.gltf"))
    return tmp_path / "mesh.gltf"


def cycle(document):
    document.nodes[0].children = [0]


def two_parents(document):
    document.nodes = [pygltflib.Node(children=[2]), pygltflib.Node(children=[2]), pygltflib.Node(mesh=0)]
    document.scenes = [pygltflib.Scene(nodes=[0, 1])]


def view_past_end(document):
    document.bufferViews[0].byteLength += 10 ** 6


def accessor_past_end(document):
    document.accessors[0].count = 2 ** 40


def missing_mesh(document):
    document.nodes[0].mesh = 7


def write(tmp_path, name: str, content) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


MESHES = {
    "obj index out of range": (lambda t: write(t, "mesh.obj", "v 0 0 0\nvt 0 0\nf 1/1 2/1 3/1\n"),
                               "mesh.obj could not be read as a mesh"),
    "obj NaN vertex": (lambda t: write(t, "mesh.obj", TRIANGLE.replace("v 1 0 0", "v nan 0 0")), "not finite"),
    "obj inf vertex": (lambda t: write(t, "mesh.obj", TRIANGLE.replace("v 1 0 0", "v inf 0 0")), "not finite"),
    "obj empty": (lambda t: write(t, "mesh.obj", ""), "mesh.obj has no faces"),
    "obj binary junk": (lambda t: write(t, "mesh.obj", bytes(range(256)) * 4), "mesh.obj"),
    "obj material library outside": (lambda t: write(t, "mesh.obj", "mtllib ../../etc/passwd\n" + TRIANGLE),
                                     "mesh.obj refers to '../../etc/passwd', which is not a file beside it"),
    "obj absolute material library": (lambda t: write(t, "mesh.obj", "mtllib /etc/passwd\n" + TRIANGLE),
                                      "mesh.obj refers to '/etc/passwd', which is not a file beside it"),
    "mtl texture outside": (lambda t: (write(t, "m.mtl", "newmtl a\nmap_Kd /etc/hostname\n"),
                                       write(t, "mesh.obj", "mtllib m.mtl\nusemtl a\n" + TRIANGLE))[1],
                            "mesh.obj refers to '/etc/hostname', which is not a file beside it"),
    "mtl texture through a link": (lambda t: ((t / "out.png").symlink_to("/etc/hostname"),
                                              write(t, "m.mtl", "newmtl a\nmap_Kd out.png\n"),
                                              write(t, "mesh.obj", "mtllib m.mtl\nusemtl a\n" + TRIANGLE))[2],
                                   "refers to 'out.png', which is not a file beside it"),
    "broken texture image": (lambda t: (write(t, "t.png", b"\x89PNG\r\n\x1a\nnot really"),
                                        write(t, "m.mtl", "newmtl a\nmap_Kd t.png\n"),
                                        write(t, "mesh.obj", "mtllib m.mtl\nusemtl a\n" + TRIANGLE))[2],
                             "texture image t.png of mesh.obj cannot be decoded"),
    "coincident vertices": (lambda t: write(t, "mesh.obj", TRIANGLE.replace("v 1 0 0", "v 0 0 0").replace(
        "v 0 1 0", "v 0 0 0")), "mesh.obj has no extent"),
    "glb of six bytes": (lambda t: write(t, "mesh.glb", b"glTF\x02\x00"), "mesh.glb is not a glTF 2.0 file"),
    "glb node cycle": (lambda t: glb(t, cycle), "mesh.glb: its node hierarchy is not a tree"),
    "glb node with two parents": (lambda t: glb(t, two_parents), "mesh.glb: its node hierarchy is not a tree"),
    "glb buffer view past the end": (lambda t: glb(t, view_past_end), "mesh.glb could not be read as a mesh"),
    "glb accessor past the end": (lambda t: glb(t, accessor_past_end), "mesh.glb could not be read as a mesh "
                                                                       ".*cannot reshape"),
    "glb missing mesh": (lambda t: glb(t, missing_mesh), "mesh.glb: mesh 7 does not exist"),
    "gltf not json": (lambda t: write(t, "mesh.gltf", "{not json"), "mesh.gltf is not a glTF 2.0 file"),
    "gltf buffer outside": (lambda t: gltf_with_buffer(t, "../outside.bin"),
                            "mesh.gltf refers to '../outside.bin', which is not a file beside it"),
    "gltf absolute buffer": (lambda t: gltf_with_buffer(t, "/dev/zero"),
                             "mesh.gltf refers to '/dev/zero', which is not a file beside it"),
    "gltf proc buffer": (lambda t: gltf_with_buffer(t, "/proc/self/environ"), "which is not a file beside it"),
    "gltf missing buffer": (lambda t: gltf_with_buffer(t, "gone.bin"), "mesh.gltf needs gone.bin"),
    "ply misspelt type": (lambda t: write(t, "mesh.ply", ply_header("ascii", 3, 1, "flaot") + ASCII_TRIANGLE),
                          "mesh.ply is not a readable PLY file: its header is broken"),
    "ply truncated": (lambda t: write(t, "mesh.ply", ply_header("ascii", 3, 1) + ASCII_TRIANGLE[:20]),
                      "mesh.ply (declares|could not be read).*truncated|damaged"),
    "ply declaring 10^12 faces": (lambda t: write(t, "mesh.ply", ply_header("ascii", 3, 10 ** 12) + ASCII_TRIANGLE),
                                  "mesh.ply declares 1,000,000,000,000 'face' rows"),
    "binary ply declaring 10^12 vertices": (lambda t: write(t, "mesh.ply", ply_header("binary_little_endian",
                                                                                       10 ** 12, 1)),
                                            "mesh.ply declares 1,000,000,000,000 'vertex' rows"),
    "ply negative count": (lambda t: write(t, "mesh.ply", ply_header("ascii", -3, 1) + ASCII_TRIANGLE),
                           "mesh.ply"),
    "ply without z": (lambda t: write(t, "mesh.ply", ply_header("ascii", 3, 1).replace("property float z\n", "")
                                      + ASCII_TRIANGLE.replace("0 0 0 0 0", "0 0 0 0").replace("1 0 0 1 0", "1 0 1 0")
                                      .replace("0 1 0 0 1", "0 1 0 1")), "mesh.ply has no vertex x, y and z"),
    "not a mesh at all": (lambda t: write(t, "mesh.ply", "hello"), "mesh.ply is not a readable PLY file"),
    "obj vertex of two coordinates": (lambda t: write(t, "mesh.obj", TRIANGLE.replace("v 0 0 0", "v 0 0", 1)),
                                      "mesh.obj has vertices with 2 coordinates, not 3"),
}


@pytest.mark.parametrize("case", MESHES, ids=list(MESHES))
def test_malformed_meshes_are_named_errors(tmp_path, case):
    folder = tmp_path / "input"
    folder.mkdir()
    make, message = MESHES[case]
    path = make(folder)
    with pytest.raises(ValueError, match=message):
        load_mesh(path)[0].normalized()


def test_crlf_and_good_files_still_load(tmp_path):
    path = write(tmp_path, "crlf.ply", (ply_header("ascii", 3, 1) + ASCII_TRIANGLE).replace("\n", "\r\n"))
    assert len(load_mesh(path)[0].faces) == 1
    texture = Image.new("RGB", (4, 4), (1, 2, 3))
    write_obj(cube(), tmp_path / "cube.obj", texture)
    mesh, own = load_mesh(tmp_path / "cube.obj")
    assert len(mesh.faces) == 12 and own.getpixel((0, 0)) == (1, 2, 3)


def gaussians_ply(tmp_path, change) -> Path:
    path = sphere_scene(tmp_path / "base.ply", count=20)
    data = plyfile.PlyData.read(str(path))["vertex"].data.copy()
    data = change(data)
    plyfile.PlyData([plyfile.PlyElement.describe(data, "vertex")]).write(str(tmp_path / "scene.ply"))
    return tmp_path / "scene.ply"


def with_value(name, value):
    def change(data):
        data[name][3] = value
        return data
    return change


GAUSSIANS = {
    "NaN position": (lambda t: gaussians_ply(t, with_value("x", np.nan)), "scene.ply: Gaussian 3 has values "
                                                                             "that are not finite"),
    "inf scale": (lambda t: gaussians_ply(t, with_value("scale_0", np.inf)), "not finite"),
    "zero rotation": (lambda t: gaussians_ply(t, lambda d: (d.__setitem__("rot_0", 0), d.__setitem__("rot_1", 0),
                                                            d.__setitem__("rot_2", 0), d.__setitem__("rot_3", 0),
                                                            d)[-1]), "rotation quaternion of length 0"),
    "no gaussians": (lambda t: gaussians_ply(t, lambda d: d[:0]), "scene.ply has no Gaussians"),
    "missing attributes": (lambda t: write(t, "scene.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n"
                                                            "property float y\nproperty float z\nend_header\n0 0 0\n"),
                           "scene.ply is not a 3D Gaussian Splatting PLY: it lacks scale_0"),
    "truncated binary": (lambda t: write(t, "scene.ply", sphere_scene(t / "x.ply").read_bytes()[:-100]),
                         "scene.ply (declares|could not be read)"),
    "list instead of a number": (lambda t: write(t, "scene.ply", sphere_scene(t / "x.ply").read_bytes().replace(
        b"property float x\n", b"property list uchar float x\n", 1)), "scene.ply"),
}


@pytest.mark.parametrize("case", GAUSSIANS, ids=list(GAUSSIANS))
def test_malformed_gaussian_scenes_are_named_errors(tmp_path, case):
    make, message = GAUSSIANS[case]
    with pytest.raises(ValueError, match=message):
        load_gaussians(make(tmp_path))


def blender(tmp_path, document) -> Path:
    return write(tmp_path, "transforms.json", json.dumps(document) if not isinstance(document, str) else document)


EYE = torch.eye(4).tolist()
CAMERAS = {
    "not json": (lambda t: blender(t, "{"), "transforms.json is not a Blender transforms file"),
    "no frames": (lambda t: blender(t, {"camera_angle_x": 0.7, "frames": []}), "transforms.json has no frames"),
    "zero field of view": (lambda t: blender(t, {"camera_angle_x": 0, "frames": [{"transform_matrix": EYE}]}),
                           "camera_angle_x is 0 radians"),
    "field of view of pi": (lambda t: blender(t, {"camera_angle_x": 3.14159, "frames": [{"transform_matrix": EYE}]}),
                            r"camera_angle_x is 3.14159 radians \(180.0°\) is not a pinhole camera's field of view"),
    "singular matrix": (lambda t: blender(t, {"camera_angle_x": 0.7, "frames": [{"transform_matrix": [[0] * 4] * 4}]}),
                        "transforms.json: camera 0 is not a rotation and a translation"),
    "NaN matrix": (lambda t: blender(t, {"camera_angle_x": 0.7, "frames": [
        {"transform_matrix": [[float("nan")] * 4] * 4}]}), "camera 0 is not a rotation"),
    "3x3 matrix": (lambda t: blender(t, {"camera_angle_x": 0.7, "frames": [{"transform_matrix": [[1, 0, 0]] * 3}]}),
                   "transforms.json is not a Blender transforms file"),
}


@pytest.mark.parametrize("case", CAMERAS, ids=list(CAMERAS))
def test_malformed_blender_cameras_are_named_errors(tmp_path, case):
    make, message = CAMERAS[case]
    with pytest.raises(ValueError, match=message):
        blender_cameras(make(tmp_path), 64)


def colmap(tmp_path, cameras: bytes, images: bytes) -> Path:
    folder = tmp_path / "sparse"
    folder.mkdir()
    (folder / "cameras.bin").write_bytes(cameras)
    (folder / "images.bin").write_bytes(images)
    return folder


ONE_CAMERA = struct.pack("<QiiQQ4d", 1, 1, 1, 100, 50, 80, 80, 50, 25)


def image(points: int = 0, camera: int = 1) -> bytes:
    return struct.pack("<i7di", 1, 1, 0, 0, 0, 0, 0, 4, camera) + b"a.png\0" + struct.pack("<Q", points)


COLMAP = {
    "2^60 points": (lambda t: colmap(t, ONE_CAMERA, struct.pack("<Q", 1) + image(2 ** 60)), "sparse does not hold a "
                                                                                           "readable COLMAP model"),
    "2^60 images": (lambda t: colmap(t, ONE_CAMERA, struct.pack("<Q", 2 ** 60) + image()), "declares"),
    "missing camera id": (lambda t: colmap(t, ONE_CAMERA, struct.pack("<Q", 1) + image(camera=9)),
                          "image a.png uses camera 9"),
    "unknown model": (lambda t: colmap(t, struct.pack("<QiiQQ4d", 1, 1, 99, 100, 50, 80, 80, 50, 25),
                                       struct.pack("<Q", 1) + image()), "unknown camera model id 99"),
    "truncated": (lambda t: colmap(t, ONE_CAMERA[:20], struct.pack("<Q", 1) + image()), "readable COLMAP model"),
    "focal length of a 180° view": (lambda t: colmap(t, struct.pack("<QiiQQ4d", 1, 1, 1, 100, 50, 1e-4, 1e-4, 50, 25),
                                                     struct.pack("<Q", 1) + image()),
                                    "camera 1 has the focal length 0.0001 px for 100 px, not a pinhole camera's"),
    "text garbage": (lambda t: (lambda f: (f.mkdir(), write(f, "cameras.txt", "1 PINHOLE x y\n"),
                                           write(f, "images.txt", "junk\n"), f)[-1])(t / "sparse"),
                     "readable COLMAP model"),
}


@pytest.mark.parametrize("case", COLMAP, ids=list(COLMAP))
def test_malformed_colmap_models_are_named_errors(tmp_path, case):
    make, message = COLMAP[case]
    with pytest.raises(ValueError, match=message):
        colmap_cameras(make(tmp_path), 64)


def npy_with_header(tmp_path, shape) -> Path:
    path = tmp_path / "depth.npy"
    np.save(path, np.ones((2, 4), np.float32))
    data = path.read_bytes().replace(b"(2, 4)", str(shape).encode())
    return write(tmp_path, "depth.npy", data)


DEPTHS = {
    "0x0": (lambda t: (np.save(t / "depth.npy", np.zeros((0, 0), np.float32)), t / "depth.npy")[1], "is 0x0"),
    "all NaN": (lambda t: (np.save(t / "depth.npy", np.full((4, 8), np.nan, np.float32)), t / "depth.npy")[1],
                "no positive finite depth"),
    "all zero": (lambda t: (write_dpt(t / "depth.dpt", np.zeros((4, 8), np.float32)), t / "depth.dpt")[1],
                 "depth.dpt has no positive finite depth"),
    "pickle": (lambda t: (np.save(t / "depth.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True),
                          t / "depth.npy")[1], "depth.npy cannot be read as a depth map"),
    "npy header of 10^12 rows": (lambda t: npy_with_header(t, (10 ** 12, 4)), "depth.npy cannot be read"),
    "dpt declaring more than it holds": (lambda t: write(t, "depth.dpt", struct.pack("<fii", 202021.25, 10 ** 6,
                                                                                     10 ** 6)),
                                         "depth.dpt cannot be read as a depth map .*declares"),
    "dpt negative size": (lambda t: write(t, "depth.dpt", struct.pack("<fii", 202021.25, -2, -1) + b"\0" * 8),
                          "declares -2x-1"),
    "broken png": (lambda t: write(t, "depth.png", b"\x89PNG\r\n\x1a\ngarbage"), "depth.png cannot be read"),
    "wrong aspect": (lambda t: (np.save(t / "depth.npy", np.ones((4, 4), np.float32)), t / "depth.npy")[1],
                     "twice as wide as it is high"),
}


@pytest.mark.parametrize("case", DEPTHS, ids=list(DEPTHS))
def test_malformed_depth_maps_are_named_errors(tmp_path, case):
    make, message = DEPTHS[case]
    with pytest.raises(ValueError, match=message):
        read_depth(make(tmp_path))
