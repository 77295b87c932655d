"""The standalone command on a tiny random-weight diffusers pipeline that the test builds (no host, no hub)."""
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("diffusers", reason="diffusers is not installed (pip install diffusers transformers)")
pytest.importorskip("transformers", reason="transformers is not installed (pip install diffusers transformers)")

from diffusers_support import tiny_controlnet, tiny_sd_pipeline  # noqa: E402
from gaussian_scenes import sphere_scene  # noqa: E402
from synctweedies import WideCanvas  # noqa: E402
from synctweedies.standalone.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    return tiny_sd_pipeline(tmp_path_factory.mktemp("tiny_sd"))


def read_image(path) -> torch.Tensor:
    """A PNG as ``[3, H, W]`` in [-1, 1]."""
    return torch.from_numpy(np.asarray(Image.open(path), dtype=np.float32)).permute(2, 0, 1) / 127.5 - 1


def wide(tiny_pipeline, out, *extra):
    return ["--app", "wide_image", "--sd_path", str(tiny_pipeline), "--prompt", "a mountain", "--save_top_dir",
            str(out), "--panorama_height", "64", "--panorama_width", "192", "--latent_instance_size", "8",
            "--window_stride", "4", "--num_inference_steps", "4", "--log_step", "2", "--seed", "0", *extra]


def test_wide_image_end_to_end(tiny_pipeline, tmp_path, capsys):
    assert main(wide(tiny_pipeline, tmp_path, "--tag", "run", "--initialize_xt_from_zt", "--mvd_end", "1.0")) == 0
    folder = tmp_path / "run"
    assert capsys.readouterr().out.strip() == str(folder)
    canvas = read_image(folder / "results" / "final.png")
    assert canvas.shape == (3, 64, 192) and canvas.std() > 0.01
    space = WideCanvas(8, 24, 8, 4).scaled(8)
    views = sorted((folder / "results").glob("view_*.png"), key=lambda p: int(p.stem.split("_")[1]))
    assert len(views) == space.num_views == 5
    crops = space.project(canvas)
    for index, path in enumerate(views):
        assert (read_image(path) - crops[index]).abs().max() < 0.01
    assert sorted(p.name for p in (folder / "intermediate").iterdir()) == ["x0_step002.png", "x0_step004.png"]
    config = json.loads((folder / "config.json").read_text())
    assert config["case_num"] == "2" and config["panorama_width"] == 192


def test_same_seed_same_image_and_every_mode_runs(tiny_pipeline, tmp_path):
    for tag in ("a", "b"):
        assert main(wide(tiny_pipeline, tmp_path, "--tag", tag, "--initialize_xt_from_zt")) == 0
    assert (tmp_path / "a/results/final.png").read_bytes() == (tmp_path / "b/results/final.png").read_bytes()
    for mode in range(6):
        assert main(wide(tiny_pipeline, tmp_path, "--tag", f"case{mode}", "--case_num", str(mode),
                         "--num_inference_steps", "2", "--initialize_xt_from_zt")) == 0


def test_ambiguous_image_and_panorama_run(tiny_pipeline, tmp_path):
    assert main(["--app", "ambiguous_image", "--sd_path", str(tiny_pipeline), "--save_top_dir", str(tmp_path),
                 "--latent_instance_size", "8", "--num_inference_steps", "2", "--log_step", "0"]) == 0
    canvas = read_image(tmp_path / "ambiguous_image/results/final.png")
    turned = read_image(tmp_path / "ambiguous_image/results/view_1.png")
    assert canvas.shape == (3, 64, 64) and torch.equal(canvas.rot90(-1, (1, 2)), turned)
    assert main(["--app", "panorama", "--sd_path", str(tiny_pipeline), "--save_top_dir", str(tmp_path),
                 "--instance_latent_size", "8", "--canonical_latent_h", "16", "--canonical_rgb_h", "64",
                 "--num_inference_steps", "2", "--log_step", "0"]) == 0
    assert read_image(tmp_path / "panorama/results/final.png").shape == (3, 64, 128)
    assert main(["--app", "panorama", "--sd_path", str(tiny_pipeline), "--save_top_dir", str(tmp_path),
                 "--tag", "rgb", "--average_rgb", "--instance_latent_size", "8", "--canonical_latent_h", "16",
                 "--canonical_rgb_h", "64", "--num_inference_steps", "2", "--log_step", "0"]) == 0
    assert read_image(tmp_path / "rgb/results/final.png").std() > 0.01


@pytest.mark.parametrize("argv, message", [
    (["--app", "painting"], "Give --app, one of"),
    (["--app", "mesh", "--mesh", "m.obj", "--prompt", "x"],
     "guides views with a depth ControlNet .* --controlnet_path"),
    (["--app", "panorama", "--depth_data_path", "x.dpt"], "guides views with a depth ControlNet"),
    (["--app", "mesh", "--mesh", "{tmp}/none.obj", "--prompt", "x", "--model", "sd"], "Mesh none.obj does not exist"),
    (["--app", "mesh", "--mesh", "m.obj", "--prompt", "x", "--model", "sd", "--rgb_view_size", "512"],
     "--rgb_view_size 512 must be 8 × --latent_view_size .768."),
    (["--app", "mesh", "--mesh", "m.obj", "--prompt", "x", "--guess_mode"], "--guess_mode .ControlNet guess mode. is"),
    (["--app", "gs", "--prompt", "x", "--plyfile", "{tmp}/none.ply", "--model", "sd"], "none.ply"),
    (["--app", "wide_image", "--prompt", "x", "--sd_path", "/nowhere"], "does not exist. Models are not downloaded"),
    (["--app", "wide_image", "--prompt", "x", "--panorama_width", "100"], "not divisible by 8"),
    (["--app", "wide_image", "--prompt", "x", "--sd_path", "{tmp}/junk.safetensors"], "could not be loaded as a "
     "single-file Stable Diffusion checkpoint without downloading"),
    (["--app", "wide_image", "--prompt", "x", "--sd_path", "{tmp}"], "without model_index.json"),
    (["--app", "ambiguous_image", "--prompts", "a"], "1 --prompts for 2 --views_names"),
    (["--app", "panorama", "--average_rgb", "--case_num", "3"], "works with --case_num 2 .or 0., not 3"),
    (["--app", "ambiguous_image", "--views_names", "identity", "negate"], "not rearrangements of latent pixels"),
])
def test_bad_flags_are_named(tmp_path, capsys, argv, message):
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint")
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    assert main([*argv, "--save_top_dir", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists(), "a refused run leaves nothing behind"
    assert re.search(message, capsys.readouterr().err)


def test_an_existing_run_is_never_overwritten(tiny_pipeline, tmp_path, capsys):
    assert main(wide(tiny_pipeline, tmp_path, "--tag", "once", "--num_inference_steps", "1")) == 0
    assert main(wide(tiny_pipeline, tmp_path, "--tag", "once", "--num_inference_steps", "1")) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_unknown_flags_fail(tmp_path):
    with pytest.raises(SystemExit):
        main(["--app", "wide_image", "--prompt", "x", "--not_a_flag", "1"])


EXAMPLES = Path(__file__).resolve().parents[2] / "example_inputs"


@pytest.fixture(scope="module")
def tiny_control(tiny_pipeline, tmp_path_factory):
    return tiny_controlnet(tiny_pipeline, tmp_path_factory.mktemp("tiny_controlnet"))


def mesh_argv(pipeline, control, out, *extra):
    """The original README's mesh command, sizes shrunk."""
    return ["--app", "mesh", "--prompt", "A hand carved wood turtle", "--save_top_dir", str(out), "--tag", "mesh",
            "--case_num", "2", "--mesh", str(EXAMPLES / "vase.obj"), "--seed", "0", "--sampling_method", "ddim",
            "--initialize_xt_from_zt", "--sd_path", str(pipeline), "--controlnet_path", str(control),
            "--latent_view_size", "8", "--rgb_view_size", "64", "--latent_tex_size", "32", "--rgb_tex_size", "64",
            "--steps", "3", "--log_interval", "0", "--turntable_frames", "4", "--turntable_size", "32", *extra]


def test_mesh_texturing_as_the_original_readme_calls_it(tiny_pipeline, tiny_control, tmp_path, capsys):
    import trimesh

    assert main(mesh_argv(tiny_pipeline, tiny_control, tmp_path)) == 0
    results = tmp_path / "mesh" / "results"
    texture = read_image(results / "texture.png")
    assert texture.shape == (3, 64, 64) and texture.std() > 0.01
    assert len(list(results.glob("view_*.png"))) == 10, "8 azimuths and the 2 top cameras"
    loaded = trimesh.load(results / "mesh.glb", force="mesh")
    assert len(loaded.faces) > 0 and loaded.visual.material.baseColorTexture.size == (64, 64)
    assert Image.open(results / "turntable.gif").n_frames == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mesh"], "no work folder is left"
    assert main(mesh_argv(tiny_pipeline, tiny_control, tmp_path, "--tag", "plain", "--model", "sd")) == 0
    assert not torch.equal(read_image(tmp_path / "plain/results/texture.png"), texture), "the ControlNet steers"


def test_mesh_editing_starts_from_the_meshes_texture(tiny_pipeline, tiny_control, tmp_path):
    """--sdedit_timestep counts from pure noise (the original's): 0.2 of 5 steps skips 1 and runs 4; 1.0 keeps the
    texture (as the VAE round trip gives it back); near 1 it changes less than at 0, where it is repainted."""
    textures, steps_run = {}, {}
    for timestep in ("1.0", "0.8", "0.2", "0.0"):
        argv = mesh_argv(tiny_pipeline, tiny_control, tmp_path, "--tag", f"edit{timestep}", "--sdedit",
                         "--sdedit_prompt", "A Chinese style lantern", "--sdedit_timestep", timestep, "--steps", "5",
                         "--log_interval", "1", "--guidance_scale", "1")
        assert main(argv) == 0
        textures[timestep] = read_image(tmp_path / f"edit{timestep}/results/texture.png")
        steps_run[timestep] = len(list((tmp_path / f"edit{timestep}/intermediate").iterdir()))
    assert steps_run == {"1.0": 0, "0.8": 1, "0.2": 4, "0.0": 5}
    change = {key: float((texture - textures["1.0"]).abs().mean()) for key, texture in textures.items()}
    assert change["0.8"] < change["0.0"], change


def test_gaussian_texturing_as_the_original_readme_calls_it(tiny_pipeline, tiny_control, tmp_path):
    from synctweedies.gaussians import load_gaussians

    scene_file = sphere_scene(tmp_path / "scene.ply", count=300)
    argv = ["--app", "gs", "--tag", "gs", "--save_dir_now", "--save_top_dir", str(tmp_path), "--prompt",
            "A photo of majestic red throne, adorned with gold accents", "--plyfile", str(scene_file),
            "--case_num", "2", "--zt_init", "--force_clean_composition", "--sd_path", str(tiny_pipeline),
            "--controlnet_path", str(tiny_control), "--total_image_to_use", "4", "--latent_view_size", "8",
            "--rgb_view_size", "64", "--iterations", "3", "--final_iterations", "20", "--steps", "2",
            "--log_interval", "1", "--turntable_frames", "3", "--turntable_size", "32"]
    assert main(argv) == 0
    (run,) = (tmp_path / "gs").iterdir()
    results = run / "results"
    scene, source = load_gaussians(results / "gaussians.ply"), load_gaussians(scene_file)
    assert torch.equal(scene.means, source.means) and not torch.equal(scene.colours, source.colours)
    assert len(list(results.glob("view_*.png"))) == 4
    assert Image.open(results / "turntable.gif").n_frames == 3
    previews = sorted((run / "intermediate").glob("x0_step*.png"))
    assert len(previews) == 2 and Image.open(previews[0]).size == (128, 128), "a 2x2 grid of the views' x0"


def test_panorama_with_a_depth_map(tiny_pipeline, tiny_control, tmp_path):
    argv = ["--app", "panorama", "--sd_path", str(tiny_pipeline), "--save_top_dir", str(tmp_path), "--prompt",
            "An old looking library", "--depth_data_path", str(EXAMPLES / "room_depth.png"), "--case_num", "2",
            "--initialize_xt_from_zt", "--model", "controlnet", "--controlnet_path", str(tiny_control),
            "--instance_latent_size", "8", "--canonical_latent_h", "16", "--canonical_rgb_h", "64",
            "--num_inference_steps", "2", "--log_step", "0"]
    assert main(argv) == 0
    assert main([*argv, "--tag", "plain", "--model", "sd"]) == 0
    guided, plain = (read_image(tmp_path / tag / "results/final.png") for tag in ("panorama", "plain"))
    assert guided.shape == (3, 64, 128) and not torch.equal(guided, plain)


@pytest.mark.parametrize("app, flags, expected", [
    ("panorama", [], {"seed": 0, "guidance_scale": 25.0, "mvd_end": 0.8, "num_inference_steps": 30}),
    ("gs", ["--prompt", "x", "--plyfile", "a.ply", "--model", "sd"], {"seed": 0, "guidance_scale": 35.0}),
    ("mesh", ["--prompt", "x", "--mesh", "m.obj", "--model", "sd"], {"seed": 1, "guidance_scale": 15.5,
                                                                     "sdedit_timestep": 0.2}),
    ("wide_image", ["--prompt", "x"], {"seed": 1, "mvd_end": 0.8, "num_inference_steps": 50}),
])
def test_the_commands_defaults_are_the_originals_configs(app, flags, expected):
    from synctweedies.standalone.flags import parse

    _, args = parse(["--app", app, *flags])
    assert {name: getattr(args, name) for name in expected} == expected


@pytest.mark.parametrize("argv, words", [(["--app", "wide_image", "--help"], "--panorama_width"),
                                         (["batch", "--help"], "--ray ADDRESS")])
def test_the_command_runs_from_the_comfyui_folder_by_its_path(tmp_path, argv, words):
    """From outside the pack (a user in the ComfyUI folder) ``python -m synctweedies`` finds no module; the
    command runs as ``python custom_nodes/ComfyUI-SyncTweedies/synctweedies ...``."""
    import subprocess
    import sys

    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[2] / "synctweedies"), *argv],
                          cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and words in done.stdout, done.stderr
