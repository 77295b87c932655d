"""Mesh texturing foundations: OBJ loading, the PyTorch rasteriser against analytic geometry, the texture space."""
import math

import pytest
import torch

from meshes import cube
from synctweedies import PosteriorMeanDenoiser, karras_sigmas, sample
from synctweedies.mesh import Mesh, MeshTexture, load_mesh, orbit_cameras, rasterize, write_glb, write_obj
from synctweedies.cameras import Cameras, look_at


def plane() -> Mesh:
    """The square [-1, 1]² at z = 0 facing +z, UVs covering [0, 1]²."""
    vertices = torch.tensor([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], dtype=torch.float32)
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]])
    return Mesh(vertices, faces, torch.tensor([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=torch.float32), faces.clone())


def front_camera(**kwargs) -> Cameras:
    position = torch.tensor([[0.0, 0.0, 3.0]])
    return Cameras.from_poses(look_at(position[0])[None], position, **kwargs)


def test_orthographic_plane_fills_the_view_with_exact_uvs_and_depths():
    fragments = rasterize(plane(), front_camera(ortho_scale=1.0), 8)
    assert fragments.mask.all()
    centres = (torch.arange(8) + 0.5) / 8
    torch.testing.assert_close(fragments.uv[0, :, :, 0], centres.expand(8, 8))
    torch.testing.assert_close(fragments.uv[0, :, :, 1], (1 - centres)[:, None].expand(8, 8))
    torch.testing.assert_close(fragments.depth[0], torch.full((8, 8), 3.0))
    assert (fragments.cosine == 1).all()
    below_diagonal = torch.arange(8)[:, None] + torch.arange(8)[None] >= 7
    assert ((fragments.face[0] == 0) == below_diagonal).all(), "face 0 is the lower-right triangle"


def test_perspective_plane_covers_what_the_field_of_view_sees():
    fragments = rasterize(plane(), front_camera(fov=2 * math.degrees(math.atan(0.5))), 16)
    # at distance 3 the view's half-width is 1.5: the plane (half-width 1) covers the middle 2/3
    inside = ((torch.arange(16) + 0.5) / 16 - 0.5).abs() < 1 / 3
    assert (fragments.mask[0] == (inside[:, None] & inside[None])).all()
    torch.testing.assert_close(fragments.uv[0, 8, 8], torch.tensor([0.5 + 1.5 / 32, 0.5 - 1.5 / 32]))


def test_cube_front_face_hides_the_back_one():
    mesh = cube()
    fragments = rasterize(mesh, front_camera(ortho_scale=1.2), 12)
    front = fragments.face[0][fragments.mask[0]]
    assert set(front.tolist()) == {8, 9}, "only the +z side (faces 8 and 9) is visible"
    torch.testing.assert_close(fragments.depth[0][fragments.mask[0]], torch.full((int(fragments.mask[0].sum()),), 2.0))
    at = torch.tensor([[3.0, 3.0, 3.0]])
    corner = rasterize(mesh, Cameras.from_poses(look_at(at[0])[None], at, ortho_scale=2.0), 32)
    sides = torch.div(corner.face[0][corner.mask[0]], 2, rounding_mode="floor")
    assert set(sides.unique().tolist()) == {0, 2, 4}, "a corner view sees the +x, +y and +z sides"


def test_obj_loading_triangulates_and_rejects_broken_meshes(tmp_path):
    (tmp_path / "quad.obj").write_text("v -1 -1 0\nv 1 -1 0\nv 1 1 0\nv -1 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\n"
                                       "f 1/1 2/2 3/3 4/4\n")
    mesh, texture = load_mesh(tmp_path / "quad.obj")
    assert len(mesh.faces) == 2 and texture is None
    torch.testing.assert_close(mesh.uvs[mesh.uv_faces], (mesh.vertices[mesh.faces][..., :2] + 1) / 2)
    small = Mesh(mesh.vertices + 3, mesh.faces, mesh.uvs, mesh.uv_faces).normalized(0.5)
    torch.testing.assert_close(small.vertices.norm(dim=1), torch.full((4,), 0.5)), "the bounding sphere about the mean"
    same_surface(load_mesh(write_obj(cube(), tmp_path / "cube.obj"))[0], cube())
    (tmp_path / "points.obj").write_text("v 0 0 0\nv 1 0 0\n")
    with pytest.raises(ValueError, match="has no faces"):
        load_mesh(tmp_path / "points.obj")
    (tmp_path / "nouv.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    with pytest.raises(ValueError, match="faces without UVs. Turn on mesh_autouv"):
        load_mesh(tmp_path / "nouv.obj")
    (tmp_path / "tiled.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 2 0\nvt 0 1\nf 1/1 2/2 3/3\n")
    with pytest.raises(ValueError, match="UVs outside \\[0, 1\\]"):
        load_mesh(tmp_path / "tiled.obj")
    (tmp_path / "nan.obj").write_text("v 0 0 nan\nv 1 0 0\nv 0 1 0\nvt 0 0\nf 1/1 2/1 3/1\n")
    with pytest.raises(ValueError, match="not finite"):
        load_mesh(tmp_path / "nan.obj")
    (tmp_path / "mesh.stl").write_text("solid")
    with pytest.raises(ValueError, match="meshes must be .obj, .glb, .gltf, .ply"):
        load_mesh(tmp_path / "mesh.stl")
    with pytest.raises(ValueError, match="does not exist"):
        load_mesh(tmp_path / "missing.obj")
    (tmp_path / "bad.obj").write_text("v 0 0 0\nvt 0 0\nf 1/1 2/1 3/1\n")
    with pytest.raises(ValueError, match="bad.obj could not be read as a mesh .*damaged"):
        load_mesh(tmp_path / "bad.obj")


def smooth_texture(size: int, seed: int = 0) -> torch.Tensor:
    coarse = torch.randn(1, 3, 6, 6, generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=True)[0]


@pytest.fixture(scope="module")
def textured_cube() -> MeshTexture:
    """The cube seen from 8 azimuths and from straight above and below, so every side is seen head-on."""
    azimuths, elevations = [-180, -135, -90, -45, 0, 45, 90, 135, 0, 180], [0] * 8 + [89.99, -89.99]
    return MeshTexture(cube(), orbit_cameras(azimuths, elevations, distance=4.0, fov=40.0, top_views=False),
                       view_size=48, texture_size=48)


def test_a_rendered_texture_unprojects_back_onto_every_well_seen_texel(textured_cube):
    texture = smooth_texture(48)
    back, coverage = textured_cube.unproject(textured_cube.project(texture))
    well_seen = coverage[0] > 0.05
    assert ((coverage[0] > 0) <= textured_cube.seen).all(), "coverage only where some view pixel lands"
    inner, near = torch.zeros(48, 48, dtype=torch.bool), torch.zeros(48, 48, dtype=torch.bool)
    for k in range(6):  # each side's UVs span texels 3.2-12.8 of its 16-wide cell, rows 4.8-19.2 of its 24
        u0, v0 = (k % 3) * 16, (1 - k // 3) * 24
        inner[v0 + 6:v0 + 18, u0 + 4:u0 + 12] = True
        near[v0 + 4:v0 + 20, u0 + 2:u0 + 14] = True
    assert textured_cube.seen[inner].all(), "every side of the cube is seen"
    assert well_seen[inner].float().mean() > 0.9
    error = (back - texture)[:, inner & well_seen].abs()  # texture std 0.89
    assert error.mean() < 0.02 and error.max() < 0.1, "interpolating there and back blurs a little, no more"
    assert not textured_cube.seen[~near].any(), "texels outside the sides' UVs are never seen"
    assert (back[:, ~textured_cube.seen] == back[:, ~textured_cube.seen]).all() and torch.isfinite(back).all()


def test_synctweedies_views_agree_on_one_texture(textured_cube):
    data = torch.cat([textured_cube.project(smooth_texture(48, seed)) for seed in range(6)])
    denoiser = PosteriorMeanDenoiser(data)
    disagreement = {}
    for mode in (0, 2):
        noise = textured_cube.initial_noise(3, torch.Generator().manual_seed(0))
        views = sample(denoiser, textured_cube, noise, karras_sigmas(20, 0.005, 40.0), mode)
        rendered = textured_cube.project(textured_cube.unproject(views)[0])
        mask = textured_cube.fragments.mask.unsqueeze(1).expand_as(views)
        disagreement[mode] = (rendered - views)[mask].abs().mean().item()
    assert disagreement[2] < 0.05 and disagreement[0] > 3 * disagreement[2], disagreement


def test_glb_export_round_trips_geometry_uvs_and_texture(tmp_path):
    import io

    import numpy as np
    import pygltflib
    from PIL import Image

    mesh = cube()
    texture = Image.fromarray((np.random.default_rng(0).random((16, 16, 3)) * 255).astype(np.uint8))
    path = write_glb(mesh, tmp_path / "cube.glb", texture)
    reloaded, own = load_mesh(path)
    same_surface(reloaded, mesh)
    assert np.array_equal(np.asarray(own), np.asarray(texture))
    document = pygltflib.GLTF2.load(str(path))
    material = document.materials[0]
    assert material.doubleSided and material.pbrMetallicRoughness.metallicFactor == 0
    image = document.images[material.pbrMetallicRoughness.baseColorTexture.index]
    view = document.bufferViews[image.bufferView]
    png = document.binary_blob()[view.byteOffset:view.byteOffset + view.byteLength]
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), np.asarray(texture)), "the texture is embedded"
    with pytest.raises(FileExistsError):
        write_glb(mesh, path, texture)


def test_turntable_shows_each_side_of_the_cube_in_turn():
    from synctweedies.mesh import turntable

    texture = torch.zeros(3, 48, 48)
    for k in range(6):  # each side of the atlas its own colour
        u0, v0 = (k % 3) * 16, (1 - k // 3) * 24
        texture[:, v0:v0 + 24, u0:u0 + 16] = torch.tensor([k / 5, 1 - k / 5, (k % 2) * 1.0])[:, None, None]
    frames = turntable(cube(), texture, frames=4, size=32, elevation=0.0, distance=4.0, fov=40.0)
    assert frames.shape == (4, 3, 32, 32)
    assert (frames[:, :, 0, 0] == 1).all(), "the background"
    centre = frames[:, :, 16, 16]
    # azimuth 0 looks at +z (side 4), 90 at +x (side 0), 180 at -z (side 5), 270 at -x (side 1)
    for frame, side in zip(centre, (4, 0, 5, 1)):
        torch.testing.assert_close(frame, torch.tensor([side / 5, 1 - side / 5, (side % 2) * 1.0]))


def test_textured_obj_export_reloads_with_its_texture(tmp_path):
    import numpy as np
    from PIL import Image

    texture = Image.fromarray((np.random.default_rng(1).random((8, 8, 3)) * 255).astype(np.uint8))
    path = write_obj(cube(), tmp_path / "cube.obj", texture)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cube.mtl", "cube.obj", "cube.png"]
    assert "Kd 1.0" in (tmp_path / "cube.mtl").read_text(), "white diffuse: viewers show the texture as it is"
    reloaded, own = load_mesh(path)
    same_surface(reloaded, cube())
    assert np.array_equal(np.asarray(own), np.asarray(texture))
    with pytest.raises(FileExistsError):
        write_obj(cube(), path, texture)


def same_surface(a: Mesh, b: Mesh) -> None:
    """``a`` and ``b`` have the same triangles with the same UVs at their corners (vertex order may differ)."""
    torch.testing.assert_close(a.vertices[a.faces], b.vertices[b.faces])
    torch.testing.assert_close(a.uvs[a.uv_faces], b.uvs[b.uv_faces])


def test_gltf_with_an_external_buffer_loads_with_its_node_transforms(tmp_path):
    import numpy as np
    import pygltflib
    from PIL import Image

    texture = Image.fromarray((np.random.default_rng(2).random((8, 8, 3)) * 255).astype(np.uint8))
    document = pygltflib.GLTF2.load(str(write_glb(cube(), tmp_path / "cube.glb", texture)))
    blob = document.binary_blob()
    (tmp_path / "cube.bin").write_bytes(blob)
    document.set_binary_blob(None)
    document.buffers = [pygltflib.Buffer(uri="cube.bin", byteLength=len(blob))]
    document.nodes = [pygltflib.Node(children=[1], translation=[1, 2, 3]), pygltflib.Node(mesh=0, scale=[2, 2, 2])]
    document.scenes = [pygltflib.Scene(nodes=[0])]
    document.save_json(str(tmp_path / "cube.gltf"))
    moved, own = load_mesh(tmp_path / "cube.gltf")
    torch.testing.assert_close(moved.vertices[moved.faces],
                               cube().vertices[cube().faces] * 2 + torch.tensor([1.0, 2, 3]))
    assert np.array_equal(np.asarray(own), np.asarray(texture))
    (tmp_path / "cube.bin").unlink()
    with pytest.raises(ValueError, match="cube.gltf needs cube.bin, which is not beside it"):
        load_mesh(tmp_path / "cube.gltf")


def write_ply_mesh(path, vertex, faces: dict):
    """A PLY with the structured array ``vertex`` and a face element of the list properties ``faces``."""
    import numpy as np
    import plyfile

    face = np.empty(len(next(iter(faces.values()))), [(name, "O") for name in faces])
    for name, rows in faces.items():
        face[name] = list(rows)
    return plyfile.PlyData([plyfile.PlyElement.describe(vertex, "vertex"),
                            plyfile.PlyElement.describe(face, "face", val_types={"texcoord": "f4"})],
                           text=True).write(str(path))


def test_ply_meshes_load_with_vertex_or_face_uvs_and_are_triangulated(tmp_path):
    import numpy as np

    mesh = cube()
    corners = mesh.faces.numpy().reshape(-1)
    vertex = np.zeros(len(corners), [("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("s", "<f4"), ("t", "<f4")])
    for k, name in enumerate("xyz"):
        vertex[name] = mesh.vertices.numpy()[corners, k]
    vertex["s"], vertex["t"] = mesh.uvs.numpy()[mesh.uv_faces.numpy().reshape(-1)].T
    write_ply_mesh(tmp_path / "cube.ply", vertex, {"vertex_indices": np.arange(len(corners)).reshape(-1, 3)})
    same_surface(load_mesh(tmp_path / "cube.ply")[0], mesh)
    # MeshLab's flavour: per-face texcoord lists, no vertex UVs
    points = np.zeros(len(mesh.vertices), [("x", "<f4"), ("y", "<f4"), ("z", "<f4")])
    for k, name in enumerate("xyz"):
        points[name] = mesh.vertices.numpy()[:, k]
    write_ply_mesh(tmp_path / "meshlab.ply", points, {"vertex_indices": mesh.faces.numpy(),
                                                      "texcoord": mesh.uvs[mesh.uv_faces].reshape(-1, 6).numpy()})
    same_surface(load_mesh(tmp_path / "meshlab.ply")[0], mesh)
    quad = np.zeros(4, [("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("s", "<f4"), ("t", "<f4")])
    quad["x"], quad["y"] = [0, 1, 1, 0], [0, 0, 1, 1]
    quad["s"], quad["t"] = [0, 1, 1, 0], [0, 0, 1, 1]
    write_ply_mesh(tmp_path / "quad.ply", quad, {"vertex_indices": [[0, 1, 2, 3]]})
    assert len(load_mesh(tmp_path / "quad.ply")[0].faces) == 2, "a quad becomes two triangles"


def test_autouv_unwraps_a_mesh_without_uvs_into_one_atlas(tmp_path):
    pytest.importorskip("xatlas", reason="xatlas (pip install xatlas) unwraps UVs")
    (tmp_path / "nouv.obj").write_text("\n".join(f"v {x} {y} {z}" for x, y, z in cube().vertices.tolist()) + "\n" +
                                       "\n".join("f " + " ".join(str(i + 1) for i in f) for f in cube().faces.tolist()))
    mesh, own = load_mesh(tmp_path / "nouv.obj", auto_uv=True)
    assert own is None and mesh.has_uvs and len(mesh.faces) == 12
    torch.testing.assert_close(mesh.vertices[mesh.faces], cube().vertices[cube().faces])
    assert mesh.uvs.min() >= 0 and mesh.uvs.max() <= 1
    # charts do not overlap: rasterising the UV triangles covers each texel at most once
    from synctweedies.cameras import Cameras, look_at
    flat = Mesh(torch.cat([mesh.uvs * 2 - 1, torch.zeros(len(mesh.uvs), 1)], 1), mesh.uv_faces, mesh.uvs, mesh.uv_faces)
    camera = Cameras.from_poses(look_at(torch.tensor([0.0, 0, 3]))[None], torch.tensor([[0.0, 0, 3]]), ortho_scale=1.0)
    area = rasterize(flat, camera, 64).mask.float().mean()
    uv_area = sum(abs(float(torch.linalg.det(torch.stack([t[1] - t[0], t[2] - t[0]])))) / 2
                  for t in mesh.uvs[mesh.uv_faces])
    assert abs(area - uv_area) < 0.05, "the charts' total area is what the atlas covers"
    MeshTexture(mesh, orbit_cameras(distance=4.0), view_size=16, texture_size=32)


def test_background_schedule_shuffles_colours_then_black_or_white_then_keeps_them():
    from synctweedies.mesh.background import COLOURS, BackgroundSchedule

    schedule = BackgroundSchedule(change=0.4, end=0.8)
    drawn, previous = [], None
    for step in range(30):
        previous = schedule.colours(step, 30, previous, 10)
        drawn.append(previous)
    early, middle, late = torch.stack(drawn[:12]), torch.stack(drawn[12:24]), torch.stack(drawn[24:])
    assert early.max() > 1 and len(early.unique()) > 6, "all colours early"
    assert set(middle.unique().tolist()) == {0, 1}, "black or white in the middle"
    assert (late == drawn[23]).all(), "the last colours are kept"
    assert torch.equal(BackgroundSchedule(0.0, 0.0, fixed="white").colours(0, 30, None, 3),
                       torch.full((3,), list(COLOURS).index("white")))
    with pytest.raises(ValueError, match="shuffle_bg_change <= shuffle_bg_end"):
        BackgroundSchedule(0.9, 0.5)


def test_mesh_views_show_the_scheduled_background_in_latents_and_pixels():
    from synctweedies.mesh.background import COLOURS, BackgroundSchedule

    space = MeshTexture(cube(), orbit_cameras(distance=4.0), view_size=8, texture_size=16, pixel_texture_size=32,
                        schedule=BackgroundSchedule(0.5, 0.5))
    pixels = space.scaled(4)
    with pytest.raises(ValueError, match="palette must be \\[14, 4\\]"):
        space.project(torch.zeros(4, 16, 16))
    space.palette = torch.arange(14 * 4, dtype=torch.float32).reshape(14, 4)
    space.begin_step(0, 10)
    views = space.project(torch.zeros(4, 16, 16))
    colours = space.background_colours
    background = ~space.fragments.mask
    assert background.any()
    for n in range(space.num_views):
        assert (views[n][:, background[n]] == space.palette[colours[n]][:, None]).all()
        assert (views[n][:, ~background[n]] == 0).all()
    rgb = pixels.project(torch.zeros(3, 32, 32))
    expected = torch.tensor(list(COLOURS.values()), dtype=torch.float32)[colours]
    corner = rgb[:, :, 0, 0]  # every view's corner is background
    torch.testing.assert_close(corner, expected)
    noise = space.initial_noise(4, torch.Generator().manual_seed(0))
    assert 0.8 < noise.movedim(1, 0)[:, background].std() < 1.2, "independent unit noise on the background"
    assert space.reference_view == 4, "the camera at azimuth 0 looks at the front"


@pytest.mark.skipif(not __import__("synctweedies.mesh.rasterize", fromlist=["x"]).pytorch3d_available(),
                    reason="pytorch3d is not installed (no wheel on PyPI; build it from source to compare)")
def test_pytorch3d_and_the_torch_backend_agree():
    device = "cuda" if torch.cuda.is_available() else "cpu"
    for mesh, cameras in ((cube(), orbit_cameras(distance=4.0, fov=40.0)),
                          (plane(), front_camera(ortho_scale=1.3))):
        mesh, cameras = mesh.to(device), cameras.to(device)
        ours, theirs = (rasterize(mesh, cameras, 48, backend=b) for b in ("torch", "pytorch3d"))
        same = ours.face == theirs.face
        assert same.float().mean() > 0.995, "the same face, but for pixel centres on shared edges"
        both = same & ours.mask
        for name in ("barycentric", "uv", "depth", "normal", "cosine"):
            torch.testing.assert_close(getattr(ours, name)[both], getattr(theirs, name)[both], atol=1e-4, rtol=1e-4)


def test_depth_hints_span_nearest_to_farthest_per_view_or_over_all_views():
    from synctweedies.depth import view_depth_hints

    position = torch.tensor([[3.0, 3.0, 3.0], [6.0, 6.0, 6.0]])
    cameras = Cameras.from_poses(torch.stack([look_at(p) for p in position]), position, fov=50.0)
    fragments = rasterize(cube(), cameras, 33)
    sharp = view_depth_hints(fragments.depth, fragments.mask, blur=1)
    for hint, mask in zip(sharp, fragments.mask):
        assert hint[16, 16] == hint.max() == 1, "the corner (1, 1, 1) points at the camera"
        assert hint[mask].min() == 0 and (hint[~mask] == 0).all(), "the farthest point is as dark as the background"
    together = view_depth_hints(fragments.depth, fragments.mask, per_view=False, blur=1)
    assert together[0].max() == 1 and together[1].max() < 0.5, "over all views, the farther camera sees darker"
    blurred = view_depth_hints(fragments.depth, fragments.mask)
    assert blurred.max() < 1 and (blurred[:, :3] == 0).all(), "a 5 px blur softens the edges, not the far corners"


def test_the_background_palette_is_encoded_as_the_originals():
    """The original encodes each colour channel c as c (c + 1) / 2: channels at 0 are black, as at -1, so maroon,
    olive, green, teal, navy and purple encode as black; white stays white, red red."""
    from synctweedies.mesh.background import COLOURS, colour_images

    pixels = dict(zip(COLOURS, colour_images(4)[:, 0, 0].tolist()))
    assert pixels["white"] == [1, 1, 1] and pixels["red"] == [1, 0, 0] and pixels["fuchsia"] == [1, 0, 1]
    black = sorted(name for name, rgb in pixels.items() if rgb == [0, 0, 0])
    assert black == ["black", "green", "maroon", "navy", "olive", "purple", "teal"]
