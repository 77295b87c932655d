"""Anagram nodes inside the real ComfyUI host, with a random-weight SD1.5 (skipped without a host)."""
import pytest
import torch

from host_support import counting_calls
from test_host_nodes import mode_option


@pytest.fixture(scope="module")
def prompts(encode):
    return encode("an oil painting of a horse"), encode("an oil painting of a snowy mountain village"), encode("")


ANAGRAM = dict(view_1="identity", view_2="rotate_cw", view_3="none", view_4="none", size=64, rotate_angle=45.0,
               skew_factor=1.5, num_patches=8, permutation_seed=11, optimize_inverse_mapping=False, iterations=10,
               lr=0.1)


def anagram(nodes, prompts, **settings):
    horse, village, _ = prompts
    return nodes.anagram.AnagramViewsNode.execute(**{**ANAGRAM, **settings}, positive_1=horse,
                                                  positive_2=village).args


def sample(nodes, model, space, positive, negative, mode=2, steps=3, views_per_batch=0, vae=None):
    return nodes.sampling.SamplerNode.execute(model, positive, negative, 0, steps, 5.0, "euler", "normal", 1.0, space,
                                              mode_option(nodes, mode), 1.0, views_per_batch,
                                              vae=vae).args[0]["samples"]


def test_each_view_is_sampled_with_its_own_prompt(nodes, tiny_sd15, prompts):
    model, _, _ = tiny_sd15
    horse, village, negative = prompts
    space, per_view = anagram(nodes, prompts)
    assert space.num_views == 2 and [entry[1]["synctweedies_views"] for entry in per_view] == [[0], [1]], \
        "one entry per view, each naming its view"
    mixed = sample(nodes, model, space, per_view, negative, mode=0, views_per_batch=1)
    all_horse = sample(nodes, model, space, horse, negative, mode=0)
    all_village = sample(nodes, model, space, village, negative, mode=0)
    torch.testing.assert_close(mixed[0], all_horse[0], atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(mixed[1], all_village[1], atol=1e-3, rtol=1e-3)
    assert (all_horse - all_village).abs().max() > 1e-2


def test_one_batched_model_call_per_step_for_all_views_and_both_cfg_halves(nodes, tiny_sd15, prompts):
    model, _, _ = tiny_sd15
    space, per_view = anagram(nodes, prompts)
    counted, batches = counting_calls(model)
    views = sample(nodes, counted, space, per_view, prompts[2], steps=3)
    assert batches == [4, 4, 4], "two views × (cond, uncond) in one call per step"
    assert space.is_consistent(views), "mode 2 leaves the views showing one image"


def test_pixel_space_averaging_through_the_vae(nodes, tiny_sd15, prompts):
    model, _, vae = tiny_sd15
    space, per_view = anagram(nodes, prompts, view_2="negate")
    with pytest.raises(ValueError, match="negate are not rearrangements of latent pixels.*Connect the VAE"):
        sample(nodes, model, space, per_view, prompts[2])
    with pytest.raises(ValueError, match="Mode 1 does not apply"):
        sample(nodes, model, space, per_view, prompts[2], mode=1, vae=vae)
    views = sample(nodes, model, space, per_view, prompts[2], steps=2, vae=vae)
    assert torch.isfinite(views).all()
    canvas, images = nodes.decode.DecodeNode.execute(vae, {"samples": views}, space).args
    torch.testing.assert_close(images[1], 1 - images[0], atol=1e-5, rtol=0)
    assert canvas.shape == (1, 64, 64, 3)


def test_a_compiled_vae_averages_as_the_plain_one_and_compiles_once(nodes, tiny_sd15, prompts):
    model, _, vae = tiny_sd15
    space, per_view = anagram(nodes, prompts, view_2="negate")
    graphs = torch._dynamo.utils.counters["stats"]
    before = graphs["unique_graphs"]
    compiled = nodes.vae_compile.CompileVaeNode.execute(vae).args[0]
    assert not isinstance(vae.first_stage_model, nodes.vae_compile.CompiledStage), "the input VAE is left as it was"
    plain = sample(nodes, model, space, per_view, prompts[2], steps=2, vae=vae)
    fast = sample(nodes, model, space, per_view, prompts[2], steps=2, vae=compiled)
    compiled_graphs = graphs["unique_graphs"] - before
    assert compiled_graphs >= 2, "decode and encode ran compiled"
    torch.testing.assert_close(fast, plain, atol=1e-4, rtol=1e-4)
    again = nodes.vae_compile.CompileVaeNode.execute(vae).args[0]
    torch.testing.assert_close(sample(nodes, model, space, per_view, prompts[2], steps=2, vae=again), fast)
    assert graphs["unique_graphs"] - before == compiled_graphs, "a re-run of the node reuses what was compiled"
    images = nodes.decode.DecodeNode.execute(compiled, {"samples": fast}, space).args[1]
    torch.testing.assert_close(images[1], 1 - images[0], atol=1e-5, rtol=0)


def test_a_compiled_vae_compiles_once_whatever_the_layout_of_the_views(nodes, tiny_sd15):
    """The sampler's views may be laid out channel-outermost (projected canonical noise keeps its layout, and so do
    the images a space projects); the VAE is handed one layout, so what is compiled for a size is compiled once."""
    model, _, vae = tiny_sd15
    decode, encode = nodes.vae_codec.vae_codec(nodes.vae_compile.compiled_vae(vae), model.model)
    latents = torch.randn(4, 3, 8, 8).transpose(0, 1)  # [3 views, 4 channels, 8, 8], channels outermost
    images = decode(latents.contiguous())
    encode(images)
    graphs = torch._dynamo.utils.counters["stats"]
    before = graphs["unique_graphs"]
    outer = lambda x: x.transpose(0, 1).contiguous().transpose(0, 1)  # noqa: E731  the same values, channels outermost
    torch.testing.assert_close(decode(latents), images)
    encode(outer(images))
    assert graphs["unique_graphs"] == before, "no new compile for another layout"


def test_decode_and_animation_write_new_files(nodes, tiny_sd15, prompts, tmp_path, monkeypatch):
    import folder_paths

    model, _, vae = tiny_sd15
    monkeypatch.setattr(folder_paths, "output_directory", str(tmp_path))
    space, per_view = anagram(nodes, prompts, view_3="jigsaw", positive_3=prompts[0])
    views = sample(nodes, model, space, per_view, prompts[2])
    canvas, images = nodes.decode.DecodeNode.execute(vae, {"samples": views}, space).args
    torch.testing.assert_close(images[1], canvas[0].rot90(-1, (0, 1)))
    outputs = []
    for fmt in ("webp", "gif", "webp"):
        out = nodes.anagram.AnagramAnimationNode.execute(canvas, space, 4, 1, 12.0, fmt, "anagram/test")
        assert out.args[0].shape == (2 * (1 + 4 + 1 + 4), 64, 64, 3)
        saved = out.ui.as_dict()
        assert saved["animated"] == (True,)
        outputs.append(tmp_path / saved["images"][0]["subfolder"] / saved["images"][0]["filename"])
    assert len(set(outputs)) == 3 and all(path.stat().st_size > 0 for path in outputs)
    from PIL import Image
    with Image.open(outputs[1]) as gif:
        assert gif.n_frames > 2 and gif.info["loop"] == 0


def test_bad_anagram_input_is_a_clear_error(nodes, tiny_sd15, prompts):
    with pytest.raises(ValueError, match="3 views were picked but 2 prompts are connected"):
        anagram(nodes, prompts, view_3="flip")
    with pytest.raises(ValueError,
                       match="Anagram of 80 px .*jigsaw needs views whose side in cells is a multiple of 4"):
        anagram(nodes, prompts, view_2="jigsaw", size=80)
    wide = nodes.canvas.WideCanvasNode.execute(width=128, height=64, window=64, stride=32, wrap=False).args[0]
    with pytest.raises(ValueError, match="needs the space from 'SyncTweedies Anagram Views'"):
        nodes.anagram.AnagramAnimationNode.execute(torch.zeros(1, 64, 128, 3), wide, 4, 1, 12.0, "gif", "x")


@pytest.fixture(scope="module")
def tiny_taesd(comfy):
    import comfy.sd
    from host_support import taesd_state

    return comfy.sd.VAE(sd=taesd_state())


def test_a_draft_vae_averages_the_first_steps_and_images_stay_on_the_views_device(nodes, tiny_sd15, tiny_taesd,
                                                                                   prompts, monkeypatch):
    model, _, vae = tiny_sd15
    space, per_view = anagram(nodes, prompts, view_2="negate")
    calls = []
    for name, codec in (("full", vae), ("draft", tiny_taesd)):
        monkeypatch.setattr(codec, "output_device", torch.device("meta"))
        for method in ("decode", "encode"):
            def spy(*args, _name=name, _codec=codec, _call=getattr(codec, method), _method=method, **kwargs):
                calls.append((_name, _method, _codec.output_device))
                return _call(*args, **kwargs)
            monkeypatch.setattr(codec, method, spy)

    def run(**drafting):
        calls.clear()
        return nodes.sampling.SamplerNode.execute(model, per_view, prompts[2], 0, 4, 5.0, "euler", "normal", 1.0,
                                                  space, mode_option(nodes, 2), 1.0, 0, vae=vae,
                                                  **drafting).args[0]["samples"]

    drafted = run(draft_vae=tiny_taesd, draft_vae_end=0.5)
    assert [(name, method) for name, method, _ in calls] == [("draft", "decode"), ("draft", "encode")] * 2 + \
        [("full", "decode"), ("full", "encode")] * 2
    assert {device for _, _, device in calls} == {torch.device("cpu")}, "images stay on the sampler's device"
    assert vae.output_device == tiny_taesd.output_device == torch.device("meta"), "the VAEs are left as found"
    full = run()
    assert {name for name, _, _ in calls} == {"full"}
    assert (drafted - full).abs().max() > 1e-3
    with pytest.raises(ValueError, match="draft_vae is connected but no vae"):
        nodes.sampling.make_guider(model, per_view, prompts[2], 5.0, space,
                                   nodes.sampling.sync_settings(mode_option(nodes, 2), 1.0, 0,
                                                                draft_vae=tiny_taesd)).sync_space()
