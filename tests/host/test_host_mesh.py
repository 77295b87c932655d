"""Mesh texture nodes inside the real ComfyUI host, with a random-weight SD1.5 and a cube the tests write."""
import numpy as np
import pytest
import torch
from PIL import Image

from test_host_nodes import mode_option

MESH = dict(mesh="cube.obj", mesh_scale=1.0, azimuths="-180, -90, 0, 90", elevation=0.0, top_views=True,
            distance=4.0, fov=40.0, view_size=64, latent_texture=16, rgb_texture=64, background="none")


@pytest.fixture(scope="module")
def space(nodes, models_dir):
    import folder_paths

    previous = folder_paths.get_input_directory()
    folder_paths.set_input_directory(str(models_dir / "input"))
    try:
        space, texture = nodes.mesh.MeshNode.execute(**MESH).args
        assert texture.shape == (1, 64, 64, 3)
        own = Image.open(models_dir / "input" / "cube.png")
        assert (texture[0] - torch.from_numpy(np.asarray(own, dtype=np.float32) / 255)).abs().max() < 1e-6
        yield space
    finally:
        folder_paths.set_input_directory(previous)


def test_texturing_a_cube_writes_a_glb_with_one_textured_material(nodes, tiny_sd15, encode, space, tmp_path,
                                                                   monkeypatch):
    import folder_paths

    import pygltflib

    from synctweedies.mesh import load_mesh

    model, _, vae = tiny_sd15
    monkeypatch.setattr(folder_paths, "output_directory", str(tmp_path))
    assert space.num_views == 6 and space.view_size == (8, 8) and space.canonical_size == (16, 16)
    views = nodes.sampling.SamplerNode.execute(model, encode("a hand carved wood cube"), encode(""), 0, 2, 5.0,
                                               "euler", "normal", 1.0, space, mode_option(nodes, 2), 1.0,
                                               0).args[0]["samples"]
    assert torch.isfinite(views).all()
    texture, renders = nodes.decode.DecodeNode.execute(vae, {"samples": views}, space).args
    assert texture.shape == (1, 64, 64, 3) and renders.shape == (6, 64, 64, 3) and texture.std() > 0.01
    rendered = space.scaled(8).project(texture[0].movedim(-1, 0) * 2 - 1).movedim(1, -1)
    torch.testing.assert_close(renders, ((rendered + 1) / 2).clamp(0, 1))  # the views show the saved texture
    saves = [nodes.mesh.SaveTexturedMeshNode.execute(texture, space, "mesh/cube").args for _ in range(2)]
    paths = [path for path, _ in saves]
    assert paths[0] != paths[1], "a second save never overwrites the first"
    assert saves[0][1] == "mesh/cube_00001_.glb" and (tmp_path / saves[0][1]).samefile(paths[0]), \
        "model_file is the path in the output folder, as Preview3D reads it"
    document = pygltflib.GLTF2.load(paths[0])
    assert len(document.materials) == 1 and document.images[0].mimeType == "image/png"
    assert load_mesh(paths[0])[0].faces.shape == (12, 3)
    obj = nodes.mesh.SaveTexturedMeshNode.execute(texture, space, "mesh/cube", "obj").args[0]
    mesh, own = load_mesh(obj)
    assert obj.endswith(".obj") and mesh.faces.shape == (12, 3) and own is not None


def test_shuffled_backgrounds_end_on_each_views_last_colour_in_vae_units(nodes, tiny_sd15, encode, models_dir,
                                                                         monkeypatch):
    """The background colours are encoded once by the VAE and shown in the model's units where views are rendered
    from the texture: exactly the VAE latent of the colour each view ended on. Synchronized sampling (mode 2)
    keeps each view's own background, as the original's does."""
    import folder_paths

    model, _, vae = tiny_sd15
    monkeypatch.setattr(folder_paths, "input_directory", str(models_dir / "input"))
    with pytest.raises(ValueError, match="needs the VAE to encode its colours"):
        nodes.mesh.MeshNode.execute(**{**MESH, "background": "shuffle"})
    space = nodes.mesh.MeshNode.execute(**{**MESH, "background": "shuffle", "vae": vae}).args[0]
    assert space.vae_palette.shape == (14, 4)
    views = nodes.sampling.SamplerNode.execute(model, encode("a wooden cube"), encode(""), 0, 6, 5.0, "euler",
                                               "normal", 1.0, space, mode_option(nodes, 2), 1.0, 0).args[0]["samples"]
    rendered = space.project(torch.zeros(4, *space.canonical_size))
    background = ~space.fragments.mask
    for view, shown, colour, empty in zip(views, rendered, space.background_colours, background):
        expected = space.vae_palette[colour][:, None].expand(-1, int(empty.sum()))
        in_model_units = model.model.process_latent_in(expected[None, :, :, None])[0, :, :, 0]
        torch.testing.assert_close(shown[:, empty], in_model_units, atol=1e-4, rtol=1e-4)
        assert (view[:, empty] - expected).abs().max() > 0.1, "mode 2 keeps the view's own background"
    assert set(space.background_colours.tolist()) <= {0, 1}, "black or white at the end"
    white = nodes.mesh.MeshNode.execute(**{**MESH, "background": "white", "vae": vae}).args[0]
    white.palette = space.vae_palette
    white.begin_step(0, 6)
    assert (white.background_colours == 1).all()


def test_orthographic_views_keep_the_mesh_size_whatever_the_distance(nodes, models_dir, monkeypatch):
    import folder_paths

    monkeypatch.setattr(folder_paths, "input_directory", str(models_dir / "input"))
    near, far = (nodes.mesh.MeshNode.execute(**{**MESH, "projection": "orthographic", "distance": d}).args[0]
                 for d in (3.0, 9.0))
    assert near.cameras.orthographic and torch.equal(near.fragments.mask, far.fragments.mask)
    perspective = nodes.mesh.MeshNode.execute(**{**MESH, "distance": 9.0}).args[0]
    assert perspective.fragments.mask.sum() < far.fragments.mask.sum(), "far away, perspective views shrink"


def test_bad_mesh_input_is_named(nodes, tmp_path, monkeypatch):
    import folder_paths

    (tmp_path / "nouv.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    monkeypatch.setattr(folder_paths, "input_directory", str(tmp_path))
    with pytest.raises(ValueError, match="faces without UVs"):
        nodes.mesh.MeshNode.execute(**{**MESH, "mesh": "nouv.obj"})
    with pytest.raises(ValueError, match="azimuths must be numbers"):
        nodes.mesh.parse_angles("front, back", "azimuths")
    for text in ("", "0, nan", ", ".join(["1"] * 101)):
        with pytest.raises(ValueError, match="azimuths must list 1 to 100 finite angles"):
            nodes.mesh.parse_angles(text, "azimuths")
    wide = nodes.canvas.WideCanvasNode.execute(width=128, height=64, window=64, stride=32, wrap=False).args[0]
    with pytest.raises(ValueError, match="needs the space from 'SyncTweedies Mesh Texture'"):
        nodes.mesh.SaveTexturedMeshNode.execute(torch.zeros(1, 8, 8, 3), wide, "x")


def test_depth_and_normal_views_show_the_cube(nodes, space):
    depth, normal = nodes.mesh.MeshHintsNode.execute(space).args
    assert depth.shape == normal.shape == (6, 64, 64, 3)
    front = 2  # azimuth 0: looking at the +z side straight on
    mask = space.scaled(8).fragments.mask[front]
    # a flat side seen straight on: one depth away from its blurred edges, and its normal points at the camera (blue)
    inner = torch.nn.functional.max_pool2d((~mask)[None].float(), 7, 1, 3)[0] == 0
    assert inner.any() and (depth[front][inner] == 1).all(), "one depth: all nearest"
    assert depth[4].max() > 0.9 and depth[4][:4].max() == 0, "the nearest edge is bright, far background black"
    torch.testing.assert_close(normal[front][mask].mean(0), torch.tensor([0.5, 0.5, 1.0]), atol=0.02, rtol=0)
    top, back_top = 4, 5  # the original's top cameras, 30° above the front and the back
    fragments = space.scaled(8).fragments
    for view, side in ((top, 2), (back_top, 2)):
        world = fragments.normal[view][fragments.mask[view]]
        assert (world[:, 1] > 0.99).float().mean() > 0.2, "the top side is seen"
        assert (world[:, side].abs() > 0.99).float().mean() > 0.2, "and the front (or back) side"
    assert (fragments.normal[top][fragments.mask[top]][:, 2] > 0.99).any()
    assert (fragments.normal[back_top][fragments.mask[back_top]][:, 2] < -0.99).any()


def test_turntable_saves_an_animation(nodes, space, tmp_path, monkeypatch):
    import folder_paths

    monkeypatch.setattr(folder_paths, "output_directory", str(tmp_path))
    texture = torch.rand(1, 64, 64, 3)
    out = nodes.mesh.TurntableNode.execute(texture, space, 6, 32, 20.0, 12.0, "gif", "turntable/cube")
    frames, saved = out.args[0], out.ui.as_dict()
    assert frames.shape == (6, 32, 32, 3) and saved["animated"] == (True,)
    shown = (frames[0] != 1).any(-1) | (frames[3] != 1).any(-1)  # the background is white
    assert (frames[0] - frames[3]).abs()[shown].mean() > 0.1, "the mesh turns"
    assert (tmp_path / saved["images"][0]["subfolder"] / saved["images"][0]["filename"]).stat().st_size > 0


def test_editing_a_texture_starts_from_it(nodes, tiny_sd15, encode, space):
    """SDEdit: encode the texture into views and denoise with a new prompt; the original's --sdedit_timestep 0.2
    (denoise 0.8, the editing workflow's) moves the texture further than denoise 0.2 and less than 1.0. Measured
    on the latent texture: the random-weight VAE saturates decoded images."""
    model, _, vae = tiny_sd15
    texture = nodes.decode.DecodeNode.execute(vae, {"samples": space.project(torch.randn(4, 16, 16))}, space).args[0]
    assert (nodes.mesh.own_texture(None, 8) == 0.5).all(), "grey when the mesh has no texture"
    start = nodes.decode.EncodeNode.execute(vae, texture, space).args[0]
    assert start["samples"].shape == (6, 4, 8, 8)

    def moved(denoise):
        views = nodes.sampling.SamplerNode.execute(model, encode("a chinese style lantern"), encode(""), 0, 5, 5.0,
                                                   "euler", "normal", denoise, space, mode_option(nodes, 2), 1.0, 0,
                                                   latent_image=start).args[0]["samples"]
        return (space.unproject(views)[0] - space.unproject(start["samples"])[0]).abs().mean()

    assert moved(0.2) < moved(0.8) < moved(1.0)
    with pytest.raises(ValueError, match="resize it"):
        nodes.decode.EncodeNode.execute(vae, texture[:, :32], space)


def test_view_prompts_follow_the_original_directions(nodes, tiny_sd15, space):
    """Each view's prompt ends with the side its camera sees; negatives add ', front view.' off the front."""
    from synctweedies.mesh.directions import camera_angles, negative_direction, view_direction

    _, clip, _ = tiny_sd15
    rig = nodes.mesh.MeshNode.execute(**{**MESH, "azimuths": "-180, -135, -90, -45, 0, 45, 90, 135"}).args[0]
    angles = camera_angles(rig.cameras.positions)
    assert [view_direction(*a) for a in angles] == ["back", "back", "side", "side", "front", "side", "side", "back",
                                                    "front", "back"], "the original's top cameras (30°) are not 'top'"
    assert [negative_direction(a) for _, a in angles] == ["front"] * 4 + [""] + ["front"] * 3 + ["", "front"]
    positive, negative = nodes.prompts.MeshViewPromptsNode.execute(clip, rig, "a turtle", "blurry").args
    encoded = lambda text: clip.encode_from_tokens_scheduled(clip.tokenize(text))[0][0]  # noqa: E731
    assert [e[1]["synctweedies_views"] for e in positive] == [e[1]["synctweedies_views"] for e in negative] == \
        [[view] for view in range(10)], "one prompt per view, in one conditioning, each entry naming its view"
    torch.testing.assert_close(positive[4][0][0], encoded("a turtle, front view.")[0])
    torch.testing.assert_close(positive[0][0][0], encoded("a turtle, back view.")[0])
    torch.testing.assert_close(negative[4][0][0], encoded("blurry, view.")[0])
    torch.testing.assert_close(negative[2][0][0], encoded("blurry, front view.")[0])
    with pytest.raises(ValueError, match="needs the space from 'SyncTweedies Mesh Texture'"):
        wide = nodes.canvas.WideCanvasNode.execute(width=128, height=64, window=64, stride=32, wrap=False).args[0]
        nodes.prompts.MeshViewPromptsNode.execute(clip, wide, "a", "b")
