"""The standalone command on a tiny random-weight diffusers pipeline that the test builds (no host, no hub)."""
import json
import re

import pytest
import torch

pytest.importorskip("diffusers", reason="diffusers is not installed (pip install diffusers transformers)")
pytest.importorskip("transformers", reason="transformers is not installed (pip install diffusers transformers)")

from diffusers_support import write_sd_pipeline  # noqa: E402
from synctweedies import WideCanvas  # noqa: E402
from synctweedies.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    """A StableDiffusionPipeline folder: 2-level UNet, 8x KL VAE, 2-layer CLIP text model, a letter tokenizer."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig

    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=8, block_out_channels=(32, 64), layers_per_block=1,
                                down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
                                attention_head_dim=4, norm_num_groups=8)
    vae = AutoencoderKL(block_out_channels=(8, 8, 8, 8), down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=1, norm_num_groups=4,
                        sample_size=64)
    text = CLIPTextConfig(vocab_size=54, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=4, max_position_embeddings=77, bos_token_id=0, eos_token_id=1,
                          pad_token_id=1)
    return write_sd_pipeline(tmp_path_factory.mktemp("tiny_sd"), unet, vae, text)


def read_image(path) -> torch.Tensor:
    """A PNG as ``[3, H, W]`` in [-1, 1]."""
    import numpy as np
    from PIL import Image

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
    (["--app", "mesh"], "--app mesh .3D mesh texturing. is not supported by this command yet"),
    (["--app", "painting"], "Give --app, one of"),
    (["--app", "panorama", "--depth_data_path", "x.dpt"], "--depth_data_path .depth ControlNet guidance. is a flag"),
    (["--app", "wide_image", "--prompt", "x", "--sd_path", "/nowhere"], "does not exist. Models are not downloaded"),
    (["--app", "wide_image", "--prompt", "x", "--panorama_width", "100"], "not divisible by 8"),
    (["--app", "wide_image", "--prompt", "x", "--sd_path", "{tmp}/junk.safetensors"], "could not be loaded as a "
     "single-file Stable Diffusion checkpoint without downloading"),
    (["--app", "wide_image", "--prompt", "x", "--sd_path", "{tmp}"], "without model_index.json"),
    (["--app", "ambiguous_image", "--prompts", "a"], "1 --prompts for 2 --views_names"),
    (["--app", "panorama", "--average_rgb", "--case_num", "3"], "use --case_num 2 .or 0., not 3"),
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
