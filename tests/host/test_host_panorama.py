"""Panorama nodes inside the real ComfyUI host, with a random-weight SD1.5 and ControlNet."""
import logging

import pytest
import torch

from test_host_nodes import mode_option

RIG = dict(theta_start=0.0, theta_end=360.0, theta_interval=45.0, phi_start=0.0, phi_end=1.0, phi_interval=45.0,
           fov=72.0, view_size=64, latent_height=16, rgb_height=64, feather=True)


@pytest.fixture(scope="module")
def prompts(encode):
    return encode("an old looking library"), encode("")


@pytest.fixture(scope="module")
def panorama(nodes):
    return nodes.panorama.PanoramaNode.execute(**RIG).args[0]


def sample(nodes, model, space, positive, negative, steps=2, views_per_batch=0, vae=None, mode=2):
    return nodes.sampling.SamplerNode.execute(model, positive, negative, 0, steps, 5.0, "euler", "normal", 1.0, space,
                                              mode_option(nodes, mode), 1.0, views_per_batch,
                                              vae=vae).args[0]["samples"]


def test_the_rig_names_what_it_leaves_uncovered(nodes, caplog):
    with caplog.at_level(logging.WARNING, logger="SyncTweedies"):
        space = nodes.panorama.PanoramaNode.execute(**RIG).args[0]
    assert space.num_views == 8 and space.view_size == (8, 8) and space.canonical_size == (16, 32)
    assert "No view sees latitudes north of" in caplog.text
    with pytest.raises(ValueError, match="gaps between views"):
        nodes.panorama.PanoramaNode.execute(**{**RIG, "theta_interval": 120.0})
    with pytest.raises(ValueError, match="FOV must be between 0 and 180"):
        nodes.panorama.PanoramaNode.execute(**{**RIG, "fov": 180.0})


def test_the_uncovered_latitudes_reach_the_editor_on_the_node(nodes, monkeypatch):
    """Not only the server's console: the warning is the node's progress text in the editor, sent to the node
    that ran (its hidden unique_id)."""
    import sys
    import types

    sent = []
    server = types.SimpleNamespace(send_progress_text=lambda text, node_id: sent.append((node_id, text)))
    host = types.SimpleNamespace(PromptServer=types.SimpleNamespace(instance=server))
    monkeypatch.setitem(sys.modules, "server", host)
    monkeypatch.setattr(nodes.panorama.PanoramaNode, "hidden", types.SimpleNamespace(unique_id="12"), raising=False)
    nodes.panorama.PanoramaNode.execute(**RIG)
    assert len(sent) == 1 and sent[0][0] == "12" and "No view sees latitudes north of" in sent[0][1]
    assert "UNIQUE_ID" in str(nodes.panorama.PanoramaNode.define_schema().hidden)


def test_text_to_panorama_saves_an_equirectangular_file_without_overwriting(nodes, tiny_sd15, prompts, panorama,
                                                                              tmp_path, monkeypatch):
    import folder_paths
    from PIL import Image

    model, _, vae = tiny_sd15
    monkeypatch.setattr(folder_paths, "output_directory", str(tmp_path))
    views = sample(nodes, model, panorama, *prompts)
    canvas, images = nodes.decode.DecodeNode.execute(vae, {"samples": views}, panorama).args
    assert canvas.shape == (1, 64, 128, 3) and images.shape == (8, 64, 64, 3)
    files = []
    for _ in range(2):
        saved = nodes.panorama.SavePanoramaNode.execute(canvas, "pano/test", "jpg").ui["panorama"][0]
        files.append(tmp_path / saved["subfolder"] / saved["filename"])
    assert files[0] != files[1] and all(f.is_file() for f in files)
    with Image.open(files[0]) as image:
        assert image.size == (128, 64) and b'GPano:ProjectionType="equirectangular"' in image.info["xmp"]
    with pytest.raises(ValueError, match="twice as wide as it is high"):
        nodes.panorama.SavePanoramaNode.execute(canvas[:, :, :64], "pano/test", "jpg")


def test_rgb_averaging_makes_one_batched_decode_and_encode_per_step(nodes, tiny_sd15, prompts, panorama):
    model, _, vae = tiny_sd15
    calls = {"decode": [], "encode": []}

    class Counting:
        def __getattr__(self, name):
            return getattr(vae, name)

        def decode(self, latents):
            calls["decode"].append(latents.shape[0])
            return vae.decode(latents)

        def encode(self, pixels):
            calls["encode"].append(pixels.shape[0])
            return vae.encode(pixels)

    views = sample(nodes, model, panorama, *prompts, steps=3, vae=Counting())
    assert calls == {"decode": [8, 8, 8], "encode": [8, 8, 8]}
    assert torch.isfinite(views).all()
    with pytest.raises(ValueError, match="Mode 3 does not apply"):
        sample(nodes, model, panorama, *prompts, vae=Counting(), mode=3)


def emulate_the_newer_hint_cache(monkeypatch) -> None:
    """Make this host's ControlNet keep prepared hints by latent size and reuse them, as ComfyUI 0.38 does
    (``ControlBase.cond_hints``), instead of rebuilding them when ``cond_hint`` is None."""
    import comfy.controlnet

    original = comfy.controlnet.ControlNet.get_control

    def get_control(self, x_noisy, *args, **kwargs):
        cache, size = self.__dict__.setdefault("cond_hints", {}), tuple(x_noisy.shape[2:])
        if size in cache:
            self.cond_hint = cache[size]
        out = original(self, x_noisy, *args, **kwargs)
        if self.cond_hint is not None:
            cache[size] = self.cond_hint
        return out

    monkeypatch.setattr(comfy.controlnet.ControlNet, "get_control", get_control)


@pytest.mark.parametrize("host", ["0.3.64", "0.38 hint cache"])
def test_depth_hints_steer_each_view_and_survive_sub_batching(nodes, tiny_sd15, prompts, panorama, models_dir,
                                                               monkeypatch, host):
    import comfy.controlnet
    import folder_paths
    from nodes import ControlNetApplyAdvanced

    if host != "0.3.64":
        emulate_the_newer_hint_cache(monkeypatch)
    model, _, _ = tiny_sd15
    monkeypatch.setattr(folder_paths, "input_directory", str(models_dir / "input"))
    hints, equirect = nodes.panorama.PanoramaDepthNode.execute("room_depth.dpt", panorama).args
    assert hints.shape == (8, 64, 64, 3) and equirect.shape == (1, 32, 64, 3)
    assert (hints[0] - hints[2]).abs().mean() > 0.05, "walls at different distances look different"
    control = comfy.controlnet.load_controlnet(
        str(models_dir / "models" / "controlnet" / "tiny_controlnet.safetensors"))
    apply = lambda image: ControlNetApplyAdvanced().apply_controlnet(*prompts, control, image, 1.0, 0.0, 1.0)  # noqa
    positive, negative = apply(hints)
    together = sample(nodes, model, panorama, positive, negative, mode=0)
    split = sample(nodes, model, panorama, positive, negative, mode=0, views_per_batch=3)
    same_hint = sample(nodes, model, panorama, *apply(hints[:1]), mode=0)
    hint_effect = (same_hint[1:] - together[1:]).abs().amax((1, 2, 3))
    assert (hint_effect > 0.1).all(), "each view got its own hint"
    assert (split - together).abs().max() < 1e-2 * hint_effect.min(), "sub-batches keep their own views' hints"


def test_bad_depth_input_is_named(nodes, panorama, tmp_path, monkeypatch):
    import folder_paths
    import numpy as np

    np.save(tmp_path / "square.npy", np.ones((16, 16), np.float32))
    monkeypatch.setattr(folder_paths, "input_directory", str(tmp_path))
    with pytest.raises(ValueError, match="twice as wide as it is high"):
        nodes.panorama.PanoramaDepthNode.execute("square.npy", panorama)
    wide = nodes.canvas.WideCanvasNode.execute(width=128, height=64, window=64, stride=32, wrap=False).args[0]
    with pytest.raises(ValueError, match="need the space from 'SyncTweedies 360° Panorama'"):
        nodes.panorama.PanoramaDepthNode.execute("square.npy", wide)


def test_a_ramped_controlnet_follows_the_originals_strength_schedule(nodes, tiny_sd15, prompts, panorama, models_dir,
                                                                     monkeypatch):
    import comfy.controlnet
    import folder_paths

    from synctweedies.control import StrengthRamp

    model, _, _ = tiny_sd15
    monkeypatch.setattr(folder_paths, "input_directory", str(models_dir / "input"))
    hints, _ = nodes.panorama.PanoramaDepthNode.execute("room_depth.dpt", panorama).args
    control = comfy.controlnet.load_controlnet(
        str(models_dir / "models" / "controlnet" / "tiny_controlnet.safetensors"))
    positive, negative = nodes.control.ControlNetRampNode.execute(*prompts, control, hints, 0.7, 0.9, 0.0,
                                                                  0.99).args
    ramped = positive[0][1]["control"]
    assert ramped is negative[0][1]["control"]
    assert vars(getattr(ramped, nodes.view_controls.RAMP)) == vars(StrengthRamp())
    seen, get_control = [], ramped.get_control

    def recording(x_noisy, t, *args, **kwargs):
        seen.append((float(t[0]), ramped.strength))
        return get_control(x_noisy, t, *args, **kwargs)

    monkeypatch.setattr(ramped, "get_control", recording)
    sample(nodes, model, panorama, positive, negative, steps=6)
    sampling = model.get_model_object("model_sampling")
    sigmas = [sigma for sigma, _ in dict.fromkeys(seen)]
    strengths = [strength for _, strength in dict.fromkeys(seen)]
    expected = [StrengthRamp().strength(step, None if step == 0 else float(sampling.timestep(
        torch.tensor([sigmas[step - 1]])))) for step in range(len(sigmas))]
    assert len(sigmas) == 6
    assert strengths[0] == 0.7 and strengths[1] > 0.85 and strengths == pytest.approx(expected)
    assert all(a > b for a, b in zip(strengths[1:], strengths[2:])), "after the first step it falls towards 0.7"
