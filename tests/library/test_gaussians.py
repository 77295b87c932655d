"""3D Gaussian colours: the 3DGS PLY, cameras, the reference renderer against closed forms, colour fitting."""
import importlib.util
import json
import math
import struct
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from gaussian_scenes import sphere_scene
from synctweedies import SyncMode, Synchronizer
from synctweedies.cameras import Cameras, orbit
from synctweedies.gaussians import (GaussianColours, Gaussians, blender_cameras, colmap_cameras,
                                    load_gaussians, render, save_gaussians,
                                    scene_orbit_cameras)
from synctweedies.gaussians.render import blending_weights
from synctweedies.ply import read_ply

REPO = Path(__file__).resolve().parents[2]
WORKFLOW, EXAMPLES = REPO / "workflows" / "api" / "gaussians.json", REPO / "example_inputs"


def test_ply_round_trip_keeps_every_attribute_but_the_colours_we_set(tmp_path):
    path = sphere_scene(tmp_path / "scene.ply")
    scene = load_gaussians(path)
    assert len(scene) == 300 and scene.colours.min() >= 0 and scene.colours.max() <= 1
    colours = torch.rand(300, 3, generator=torch.Generator().manual_seed(1))
    saved = save_gaussians(scene, colours, tmp_path / "recoloured.ply")
    before, after = read_ply(path)["vertex"].data, read_ply(saved)["vertex"].data
    assert before.dtype == after.dtype
    for name in before.dtype.names:
        if not name.startswith(("f_dc_", "f_rest_")):
            assert before[name].tobytes() == after[name].tobytes(), name
    assert all((after[f"f_rest_{k}"] == 0).all() for k in range(9)), "view-dependent colour is cleared"
    torch.testing.assert_close(load_gaussians(saved).colours, colours, atol=1e-6, rtol=0)
    with pytest.raises(FileExistsError):
        save_gaussians(scene, colours, saved)


def test_a_ply_without_gaussian_attributes_is_named(tmp_path):
    (tmp_path / "points.ply").write_text("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
                                         "property float z\nend_header\n0 0 0\n")
    with pytest.raises(ValueError, match="lacks scale_0, scale_1, .*f_dc_2"):
        load_gaussians(tmp_path / "points.ply")


def one_gaussian(scale: float, opacity: float = 0.5) -> Gaussians:
    return Gaussians(torch.zeros(1, 3), torch.tensor([[1.0, 0, 0, 0]]), torch.full((1, 3), math.log(scale)),
                     torch.tensor([math.log(opacity / (1 - opacity))]), torch.ones(1, 3))


def test_reference_renderer_matches_the_closed_form_of_one_gaussian():
    cameras = orbit([0.0], [0.0], 4.0, 60.0, 32, torch.zeros(3), "z")
    focal = float(cameras.Ks[0, 0, 0])
    out = render(one_gaussian(0.1), torch.tensor([[2.0]]), cameras, torch.tensor([0.25]), backend="reference")
    ys, xs = torch.meshgrid(torch.arange(32) + 0.5, torch.arange(32) + 0.5, indexing="ij")
    variance = (focal * 0.1 / 4.0) ** 2 + 0.3
    alpha = 0.5 * torch.exp(-((xs - 16) ** 2 + (ys - 16) ** 2) / (2 * variance))
    alpha = torch.where(alpha >= 1 / 255, alpha, torch.zeros_like(alpha))
    torch.testing.assert_close(out.alpha[0, 0], alpha, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out.images[0, 0], 2 * alpha + 0.25 * (1 - alpha), atol=1e-5, rtol=1e-4)
    assert torch.allclose(out.depth[0, 0][alpha > 0], torch.tensor(4.0))
    # antialiased: the opacity shrinks by the dilation's determinant ratio, the shape stays
    anti = render(one_gaussian(0.1), torch.tensor([[1.0]]), cameras, antialiased=True, backend="reference")
    shrink = math.sqrt((variance - 0.3) / variance) ** 2
    assert abs(anti.alpha[0, 0, 16, 16] / out.alpha[0, 0, 16, 16] - shrink) < 0.02


def test_the_nearer_gaussian_hides_the_farther_one():
    scene = Gaussians(torch.tensor([[0.0, 0, 0], [0, 1.0, 0]]), torch.tensor([[1.0, 0, 0, 0]] * 2),
                      torch.full((2, 3), math.log(0.3)), torch.full((2,), 8.0), torch.ones(2, 3))
    front = orbit([0.0], [0.0], 4.0, 40.0, 16, torch.zeros(3), "z")  # up is z: azimuth 0 sits on +y
    out = render(scene, torch.tensor([[1.0, 0.0], [0.0, 1.0]]), front, backend="reference")
    assert out.images[0, 1, 8, 8] > 0.95 and out.images[0, 0, 8, 8] < 0.05
    assert abs(out.depth[0, 0, 8, 8] - 3.0) < 0.05


def test_cameras_from_blender_colmap_and_the_orbit_look_where_they_say(tmp_path):
    c2w = torch.eye(4)
    c2w[2, 3] = 4.0  # OpenGL: at z = 4 looking down -z at the origin
    (tmp_path / "transforms.json").write_text(json.dumps({"camera_angle_x": math.radians(60), "frames": [
        {"file_path": "r_0", "transform_matrix": c2w.tolist()}]}))
    blender = blender_cameras(tmp_path / "transforms.json", 64)
    point = blender.viewmats[0] @ torch.tensor([0.3, 0.2, 0.0, 1.0])
    assert point[2] == 4.0, "in front, at depth 4"
    pixel = blender.Ks[0] @ (point[:3] / point[2])
    assert pixel[0] > 32 and pixel[1] < 32, "+x is right and +y is up in the image"
    (tmp_path / "cameras.txt").write_text("# comment\n1 PINHOLE 100 50 80 80 50 25\n")
    (tmp_path / "images.txt").write_text("# comment\n2 1 0 0 0 0 0 4 1 b.png\n\n1 1 0 0 0 1 0 4 1 a.png\n\n")
    colmap = colmap_cameras(tmp_path, 64)
    assert len(colmap) == 2 and colmap.viewmats[0, 0, 3] == 1, "sorted by image name"
    torch.testing.assert_close(colmap.Ks[0], torch.tensor([[51.2, 0, 32], [0, 102.4, 32], [0, 0, 1]]))
    with pytest.raises(ValueError, match="missing does not hold a readable COLMAP model.*cameras.txt: No such file"):
        colmap_cameras(tmp_path / "missing", 64)
    binary = tmp_path / "sparse"  # the same model in COLMAP's binary format
    binary.mkdir()
    (binary / "cameras.bin").write_bytes(struct.pack("<QiiQQ4d", 1, 1, 1, 100, 50, 80, 80, 50, 25))
    images = b"".join(struct.pack("<i7di", image_id, 1, 0, 0, 0, *t, 1) + name + b"\0" + struct.pack("<Q", 1) +
                      struct.pack("<ddq", 0.5, 0.5, -1) for image_id, t, name in ((2, (0, 0, 4), b"b.png"),
                                                                                 (1, (1, 0, 4), b"a.png")))
    (binary / "images.bin").write_bytes(struct.pack("<Q", 2) + images)
    again = colmap_cameras(binary, 64)
    assert torch.equal(again.viewmats, colmap.viewmats) and torch.equal(again.Ks, colmap.Ks)
    for up in ("z", "y"):
        rig = orbit([0, 90, 180], [10, 20, -30], 5.0, 50.0, 32, torch.tensor([1.0, 2, 3]), up)
        centre = rig.viewmats[:, :3, :3] @ torch.tensor([1.0, 2, 3]) + rig.viewmats[:, :3, 3]
        torch.testing.assert_close(centre, torch.tensor([[0.0, 0, 5]] * 3), atol=1e-5, rtol=0)
    assert len(rig.subset(2)) == 2 and torch.equal(rig.subset(2).viewmats[1], rig.viewmats[1])


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return load_gaussians(sphere_scene(tmp_path_factory.mktemp("gs") / "scene.ply", count=200))


def rig(views: int = 8) -> Cameras:
    azimuths = [360 * k / views for k in range(views)]
    return orbit(azimuths, [25 * (-1) ** k for k in range(views)], 3.5, 50.0, 24, torch.zeros(3), "z")


def test_unprojection_recovers_the_colours_of_the_views(scene):
    truth = scene.colours * 2 - 1
    space = GaussianColours(scene, rig(), 24, torch.full((3,), -1.0), iterations=0, color_assign="instance")
    views = space.project(truth.T[:, None])
    splat, coverage = space.unproject(views)
    seen = coverage[0, 0] > 0.5 * coverage.median()
    assert seen.float().mean() > 0.5
    splat_error = (splat[:, 0].T - truth)[seen].abs().mean()
    space.final_iterations, space.lr = 200, 0.05
    fitted, _ = space.unproject_final(views)
    assert space.iterations == 0, "the final fit leaves the per-step iterations as they were"
    fit_error = (fitted[:, 0].T - truth)[seen].abs().mean()
    rerender = (space.project(fitted) - views).abs().mean()
    constant_error = (truth[seen] - truth[seen].mean(0)).abs().mean()
    assert splat_error < 0.85 * constant_error, "the splat already beats the best single colour"
    assert fit_error < 0.05, "fitting recovers the colours (range -1 to 1)"
    assert rerender < 0.05, "the fitted colours reproduce the views"
    space.color_assign, space.iterations = "previous", 0
    torch.testing.assert_close(space.unproject(views)[0], fitted)


def test_no_camera_seeing_the_scene_is_an_error(scene):
    away = orbit([0.0], [0.0], 1.0, 30.0, 16, torch.tensor([50.0, 0, 0]), "z")
    with pytest.raises(ValueError, match="No camera sees any Gaussian"):
        GaussianColours(scene, away, 16, torch.zeros(3))


def test_consistent_noise_has_unit_variance_and_follows_the_points(tmp_path):
    """The original's zt_init noise: a camera turned a quarter about its own axis sees the same noise turned a
    quarter, Gaussians and sky alike; without zt_init the views' noise is independent."""
    dense = load_gaussians(sphere_scene(tmp_path / "dense.ply", count=3000))
    front = orbit([30.0], [20.0], 3.5, 50.0, 32, torch.zeros(3), "z")
    turn = torch.eye(4)
    turn[:2, :2] = torch.tensor([[0.0, -1.0], [1.0, 0.0]])  # x -> y, y -> -x in the camera's frame
    both = Cameras(torch.cat([front.viewmats, turn @ front.viewmats]), front.Ks.repeat(2, 1, 1), 32)
    space = GaussianColours(dense, both, 32, torch.zeros(4), iterations=0)
    noise = space.initial_noise(4, torch.Generator().manual_seed(0))
    assert noise.shape == (2, 4, 32, 32) and 0.9 < noise.std() < 1.1 and torch.isfinite(noise).all()
    torch.testing.assert_close(noise[1], noise[0].rot90(-1, (1, 2)), atol=1e-5, rtol=0)
    space.zt_init = False
    independent = space.initial_noise(4, torch.Generator().manual_seed(0))
    assert (independent[1] - independent[0].rot90(-1, (1, 2))).abs().mean() > 1


def test_logit_fits_keep_colours_in_range_and_fit_as_well(scene):
    """The original fits sigmoid logits of RGB colours against targets clamped to [0.001, 0.999]."""
    truth = scene.colours * 2 - 1
    linear = GaussianColours(scene, rig(), 24, torch.full((3,), -1.0), iterations=300, lr=0.025)
    logits = GaussianColours(scene, rig(), 24, torch.full((3,), -1.0), iterations=300, lr=0.025, logits=True)
    views = linear.project(truth.T[:, None]) * 1.2  # targets beyond the colour range, as decoded images can be
    errors = {}
    for name, space in (("linear", linear), ("logits", logits)):
        fitted, _ = space.unproject(views)
        errors[name] = (space.project(fitted) - views.clamp(-1, 1)).abs().mean()
        if name == "logits":
            assert fitted.abs().max() <= 1, "sigmoid colours stay in range"
    assert linear.unproject(views)[0].abs().max() > 1, "linear colours follow the targets out of range"
    assert errors["logits"] <= errors["linear"] + 0.01, errors


def test_without_clean_composition_views_keep_their_own_background(scene):
    space = GaussianColours(scene, rig(), 24, torch.full((3,), -1.0), iterations=50, logits=True,
                            clean_background=False)
    views = space.project((scene.colours * 2 - 1).T[:, None])
    views = torch.where(space.alpha < 0.01, torch.full_like(views, 0.5), views)  # a grey backdrop of their own
    synchronized = space.synchronize(views)
    empty = (space.alpha == 0).expand_as(views)
    assert empty.any()
    torch.testing.assert_close(synchronized[empty], views[empty])
    space.clean_background = True
    assert (space.synchronize(views)[empty] == -1).all(), "the scene's own background colour"


def test_fitting_geometry_moves_the_gaussians_for_the_run_only(scene, tmp_path):
    moved = replace(scene.cloned(), means=scene.means + torch.tensor([0.05, 0.0, 0.0]))
    views = GaussianColours(moved, rig(), 24, torch.full((3,), -1.0)).project((scene.colours * 2 - 1).T[:, None])
    own = replace(scene.cloned())
    space = GaussianColours(own, rig(), 24, torch.full((3,), -1.0), iterations=100, color_assign="instance",
                            optimise={"means": 3e-3, "opacities": 0.05})
    before = own.means.clone()
    space.unproject(views)
    assert (own.means - before).abs().max() > 1e-3, "the fit moves the Gaussians towards the views"
    saved = load_gaussians(save_gaussians(own, scene.colours, tmp_path / "moved.ply"))
    torch.testing.assert_close(saved.means, own.means)
    space.begin_run()
    assert torch.equal(own.means, before), "a new run starts from the scene as loaded"


@pytest.mark.skipif(not torch.cuda.is_available() or importlib.util.find_spec("gsplat") is None,
                    reason="gsplat renders on CUDA only (no CUDA device or no gsplat here)")
def test_gsplat_and_the_reference_renderer_agree(scene):
    cuda = scene.to("cuda")
    colours = torch.rand(len(scene), 3, device="cuda")
    for antialiased in (False, True):
        reference, fast = (render(cuda, colours, rig(), antialiased=antialiased, backend=b, depth=True)
                           for b in ("reference", "gsplat"))
        assert (reference.images - fast.images).abs().mean() < 1e-3
        assert (reference.alpha - fast.alpha).abs().max() < 0.02
        solid = reference.alpha > 0.5
        torch.testing.assert_close(fast.depth[solid], reference.depth[solid], atol=1e-2, rtol=1e-2)


def fits_by_weights_match_fits_by_rendering(scene: Gaussians, backend: str, cameras: Cameras | None = None,
                                            iterations: int = 200, lr: float = 0.025,
                                            same_colours: bool = True) -> None:
    """The blending weights render every view of ``cameras`` (default :func:`rig`) as ``backend`` does, in value
    and gradient, and a colour fit of ``iterations`` steps through them looks as the fit that renders each step
    does, as close to the views (with ``same_colours``, its colours are the same too: over a thousand steps, colours
    of Gaussians the views barely see drift apart from gsplat's backward's rounding without changing any view)."""
    cameras = cameras or rig()
    colours = torch.rand(len(scene), 3, device=scene.means.device, requires_grad=True)
    white = torch.ones(3, device=scene.means.device)
    weights = blending_weights(scene, cameras, antialiased=True, backend=backend)
    full = render(scene, colours, cameras, white, antialiased=True, backend=backend).images
    by_weights = torch.cat([weights.render(colours, view, white) for view in range(len(cameras))])
    torch.testing.assert_close(by_weights, full, atol=1e-5, rtol=1e-5)
    probe = torch.randn_like(full)
    expected, = torch.autograd.grad((full * probe).sum(), colours)
    got, = torch.autograd.grad((by_weights * probe).sum(), colours)
    assert (got - expected).norm() < 1e-3 * expected.norm(), "gsplat's backward divides out alphas: close, not equal"
    space = GaussianColours(scene, cameras, cameras.size, torch.full((3,), -1.0), iterations=iterations, lr=lr,
                            logits=True, antialiased=True, backend=backend, color_assign="zero")
    views = space.project((scene.colours.to(white) * 2 - 1).T[:, None])
    fitted = space.unproject(views)[0]
    assert space.blending_weights() is not None
    space._weights = None
    rendered = space.unproject(views)[0]
    if same_colours:
        assert (fitted - rendered).abs().mean() < 1e-2, "the same fit, up to the renderers' rounding"
    error, rendered_error = ((space.project(x) - views).abs().mean() for x in (fitted, rendered))
    print(f"re-render error {error:.5f} through weights, {rendered_error:.5f} rendering each step")
    assert error < 0.05 and error < rendered_error * 1.1 + 1e-3
    assert (space.project(fitted) - space.project(rendered)).abs().mean() < 0.01, "the fits look the same"


def test_fits_through_blending_weights_match_the_reference_renderer(scene):
    fits_by_weights_match_fits_by_rendering(scene, "reference")


def test_weights_that_would_not_fit_in_memory_are_not_built(scene):
    assert blending_weights(scene, rig(), backend="reference", max_bytes=1000) is None


@pytest.mark.skipif(not torch.cuda.is_available() or importlib.util.find_spec("gsplat") is None,
                    reason="gsplat renders on CUDA only (no CUDA device or no gsplat here)")
def test_fits_through_blending_weights_match_gsplat(scene):
    fits_by_weights_match_fits_by_rendering(scene.to("cuda"), "gsplat")


@pytest.mark.skipif(not torch.cuda.is_available() or importlib.util.find_spec("gsplat") is None,
                    reason="gsplat renders on CUDA only (no CUDA device or no gsplat here); on the CPU the reference "
                           "renderer takes about 80 s per 512 px view of the example scene")
def test_fits_through_blending_weights_at_the_gaussians_workflow_settings():
    """The gaussians workflow's own settings (read from its definition): the example scene, its orbit cameras, RGB
    views of view_size px, its iterations and learning rate."""
    settings = next(node["inputs"] for node in json.loads(WORKFLOW.read_text()).values()
                    if node["class_type"] == "SyncTweediesGaussians")
    assert settings["cameras"] == "orbit (no camera file)" and settings["antialiased"]
    scene = load_gaussians(EXAMPLES / settings["ply"].removeprefix("example: ")).to("cuda")
    cameras = scene_orbit_cameras(scene.means, scene.scales, settings["view_size"], settings["up_vec"])
    fits_by_weights_match_fits_by_rendering(scene, "gsplat", cameras.subset(settings["total_image_to_use"]),
                                            settings["iterations"], settings["lr"], same_colours=False)


def test_previews_show_a_view_without_fitting_or_moving_the_next_fits_start(scene):
    space = GaussianColours(scene, rig(), 24, torch.full((3,), -1.0), iterations=20, color_assign="previous")
    views = space.project((scene.colours * 2 - 1).T[:, None])
    space.unproject(views)
    previous = space.previous.clone()
    preview = Synchronizer(space, SyncMode.TWEEDIE).canvas(views)
    torch.testing.assert_close(preview, views[:1])
    torch.testing.assert_close(space.previous, previous)
