"""3D Gaussian nodes inside the real ComfyUI host, with a random-weight SD1.5 and a scene the tests write."""
import sys

import pytest
import torch

from test_host_nodes import mode_option

GAUSSIANS = dict(ply="sphere.ply", cameras="orbit (no camera file)", total_image_to_use=6, up_vec="z", view_size=64,
                 antialiased=True, background_color="white", canonical_domain="rgb", iterations=20, lr=0.05,
                 color_assign_method="instance", zt_init=True, final_iterations=30)


def test_recolouring_a_scene_saves_a_ply_with_the_fitted_colours(nodes, tiny_sd15, encode, models_dir, tmp_path,
                                                                 monkeypatch):
    import folder_paths

    from synctweedies.gaussians import load_gaussians

    model, _, vae = tiny_sd15
    monkeypatch.setattr(folder_paths, "input_directory", str(models_dir / "input"))
    monkeypatch.setattr(folder_paths, "output_directory", str(tmp_path))
    space, depth = nodes.gaussians.GaussiansNode.execute(**GAUSSIANS).args
    assert space.num_views == 6 and space.view_size == (8, 8) and depth.shape == (6, 64, 64, 3)
    assert depth.max() > 0.9 and (depth == 0).any(), "the scene in front of a black background"
    with pytest.raises(ValueError, match="averaged as images.*Connect the VAE"):
        nodes.sampling.SamplerNode.execute(model, encode("a red throne"), encode(""), 0, 2, 5.0, "euler", "normal",
                                           1.0, space, mode_option(nodes, 2), 1.0, 0)
    views = nodes.sampling.SamplerNode.execute(model, encode("a red throne"), encode(""), 0, 2, 5.0, "euler", "normal",
                                               1.0, space, mode_option(nodes, 2), 1.0, 0, vae=vae).args[0]["samples"]
    colours, renders = nodes.decode.DecodeNode.execute(vae, {"samples": views}, space).args
    assert colours.shape == (1, 1, 150, 3) and renders.shape == (6, 64, 64, 3)
    path = nodes.gaussians.SaveGaussiansNode.execute(colours, space, "gs/scene").args[0]
    again = nodes.gaussians.SaveGaussiansNode.execute(colours, space, "gs/scene").args[0]
    assert path != again, "a second save never overwrites the first"
    torch.testing.assert_close(load_gaussians(path).colours, colours[0, 0].clamp(0, 1), atol=1e-6, rtol=0)
    out = nodes.gaussians.GaussiansTurntableNode.execute(colours, space, 4, 32, 20.0, 12.0, "gif", "gs/turn")
    frames = out.args[0]
    assert frames.shape == (4, 32, 32, 3) and (frames[0] - frames[2]).abs().mean() > 0.01
    with pytest.raises(ValueError, match="Decode canvas of this space"):
        nodes.gaussians.SaveGaussiansNode.execute(torch.zeros(1, 8, 8, 3), space, "gs/x")


def test_interrupt_stops_a_long_colour_fit(nodes, tiny_sd15, models_dir, monkeypatch):
    import comfy.model_management
    import folder_paths

    progress = sys.modules[nodes.__name__.rpartition(".")[0] + ".synctweedies.progress"]
    _, _, vae = tiny_sd15
    monkeypatch.setattr(folder_paths, "input_directory", str(models_dir / "input"))
    space = nodes.gaussians.GaussiansNode.execute(**{**GAUSSIANS, "final_iterations": 100000}).args[0]
    checks, check = [], progress._interrupt

    def interrupt_at_the_hundredth_check():
        checks.append(1)
        if len(checks) == 100:
            comfy.model_management.interrupt_current_processing(True)
        check()

    monkeypatch.setattr(progress, "_interrupt", interrupt_at_the_hundredth_check)
    try:
        with pytest.raises(comfy.model_management.InterruptProcessingException):
            nodes.decode.DecodeNode.execute(vae, {"samples": torch.randn(6, 4, 8, 8)}, space)
    finally:
        comfy.model_management.interrupt_current_processing(False)
    assert len(checks) == 100, "the fit stopped at the check after the interrupt, not 100,000 steps in"


def test_a_cached_space_gives_the_same_run_twice(nodes, tiny_sd15, encode, models_dir, monkeypatch):
    """The host caches a space node's output: a second run with 'previous' colour fits must not start from the
    first run's last fit."""
    import folder_paths

    model, _, vae = tiny_sd15
    monkeypatch.setattr(folder_paths, "input_directory", str(models_dir / "input"))
    space = nodes.gaussians.GaussiansNode.execute(**{**GAUSSIANS, "color_assign_method": "previous"}).args[0]

    def run():
        views = nodes.sampling.SamplerNode.execute(model, encode("a red throne"), encode(""), 0, 3, 5.0, "euler",
                                                   "normal", 1.0, space, mode_option(nodes, 2), 1.0, 0,
                                                   vae=vae).args[0]["samples"]
        return views, nodes.decode.DecodeNode.execute(vae, {"samples": views}, space).args[0]

    first, second = run(), run()
    assert space.scaled(8).previous is not None, "the runs did fit from the previous step"
    torch.testing.assert_close(second[0], first[0], atol=0, rtol=0)
    torch.testing.assert_close(second[1], first[1], atol=0, rtol=0)


def test_geometry_options_reach_the_fit(nodes, models_dir, monkeypatch):
    import folder_paths

    monkeypatch.setattr(folder_paths, "input_directory", str(models_dir / "input"))
    plain = nodes.gaussians.GaussiansNode.execute(**GAUSSIANS).args[0]
    assert plain.optimise == {} and plain.color_assign == "instance" and plain.clean_background
    space = nodes.gaussians.GaussiansNode.execute(**{**GAUSSIANS, "enable_xyz": True, "xyz_lr": 0.01,
                                                     "enable_covariance": True,
                                                     "force_clean_composition": False}).args[0]
    assert space.optimise == {"means": 0.01, "scales": 0.005, "quats": 0.001} and not space.clean_background
    assert space.scaled(8).optimise == space.optimise, "the RGB twin fits the same geometry"
