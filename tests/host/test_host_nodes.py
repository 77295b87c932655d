"""The nodes and guider inside the real ComfyUI host (in this process), with a random-weight SD1.5."""
import pytest
import torch

from host_support import counting_calls

SPACE_ARGS = dict(width=256, height=64, window=64, stride=16, wrap=False)


@pytest.fixture(scope="module")
def prompts(encode):
    return encode("a mountain range at twilight"), encode(""), encode("a city at night")


@pytest.fixture(scope="module")
def space(nodes):
    return nodes.canvas.WideCanvasNode.execute(**SPACE_ARGS).args[0]


def mode_option(nodes, mode: int) -> str:
    return nodes.sampling.MODE_OPTIONS[mode]


def custom_advanced(nodes, model, positive, negative, space, mode=2, sampler="euler", steps=4, seed=0,
                    views_per_batch=0, sync_end=1.0, cfg=5.0):
    """Run the host's own SamplerCustomAdvanced with our guider, noise and latent; (output, denoised) views."""
    from comfy_extras.nodes_custom_sampler import BasicScheduler, KSamplerSelect, SamplerCustomAdvanced

    guider = nodes.sampling.GuiderNode.execute(model, positive, negative, cfg, space, mode_option(nodes, mode),
                                               sync_end, views_per_batch).args[0]
    noise = nodes.noise.NoiseNode.execute(seed, space).args[0]
    latent = nodes.canvas.EmptyLatentNode.execute(space).args[0]
    sigmas = BasicScheduler().get_sigmas(model, "normal", steps, 1.0)[0]
    sampler_object = KSamplerSelect().get_sampler(sampler)[0]
    out, denoised = SamplerCustomAdvanced().sample(noise, guider, sampler_object, sigmas, latent)
    return out["samples"], denoised["samples"]


def disagreement(space, views):
    return (space.synchronize(views) - views).abs().max().item() / views.abs().max().item()


@pytest.mark.parametrize("mode", range(6))
def test_every_mode_runs_through_sampler_custom_advanced(nodes, tiny_sd15, prompts, space, mode):
    model, _, _ = tiny_sd15
    views, denoised = custom_advanced(nodes, model, prompts[0], prompts[1], space, mode)
    assert views.shape == (space.num_views, 4, 8, 8) and torch.isfinite(views).all()
    assert denoised.shape == (1, 4, 8, 32), "the denoised output is the stitched canvas"
    if mode == 0:
        assert disagreement(space, views) > 1e-3
    else:
        assert disagreement(space, views) < 1e-5


@pytest.mark.parametrize("sampler", ["euler_ancestral", "dpmpp_2m", "heun", "dpmpp_sde", "uni_pc", "ddim", "lcm"])
def test_any_host_sampler_is_synchronized(nodes, tiny_sd15, prompts, space, sampler):
    model, _, _ = tiny_sd15
    views, _ = custom_advanced(nodes, model, prompts[0], prompts[1], space, 2, sampler=sampler, steps=3)
    assert torch.isfinite(views).all() and disagreement(space, views) < 1e-4


def plain_host_sampling(model, positive, negative, noise, sigmas, cfg=5.0):
    import comfy.samplers

    guider = comfy.samplers.CFGGuider(model)
    guider.set_conds(positive, negative)
    guider.set_cfg(cfg)
    return guider.sample(noise, torch.zeros_like(noise), comfy.samplers.sampler_object("euler"), sigmas, seed=0)


@pytest.mark.parametrize("parameterisation", ["eps", "v_prediction", "flow"])
def test_independent_mode_is_exactly_the_hosts_sampling(nodes, tiny_sd15, prompts, space, parameterisation):
    """Mode 0 reproduces the host's own CFG sampling, so our x0 convention is the host's for every model type."""
    from comfy_extras.nodes_custom_sampler import BasicScheduler
    from comfy_extras.nodes_model_advanced import ModelSamplingDiscrete, ModelSamplingSD3

    model, _, _ = tiny_sd15
    if parameterisation == "v_prediction":
        model = ModelSamplingDiscrete().patch(model, "v_prediction", False)[0]
    elif parameterisation == "flow":
        model = ModelSamplingSD3().patch(model, 3.0)[0]
    sigmas = BasicScheduler().get_sigmas(model, "normal", 4, 1.0)[0]
    noise = space.initial_noise(4, torch.Generator().manual_seed(0))
    expected = plain_host_sampling(model, prompts[0], prompts[1], noise, sigmas)
    guider = nodes.sampling.make_guider(model, prompts[0], prompts[1], 5.0, space,
                                        nodes.sampling.sync_settings(mode_option(nodes, 0), 1.0, 0))
    import comfy.samplers

    ours = guider.sample(noise, torch.zeros_like(noise), comfy.samplers.sampler_object("euler"), sigmas, seed=0)
    torch.testing.assert_close(ours, expected)
    synced = nodes.sampling.make_guider(model, prompts[0], prompts[1], 5.0, space,
                                        nodes.sampling.sync_settings(mode_option(nodes, 2), 1.0, 0))
    views = synced.sample(noise, torch.zeros_like(noise), comfy.samplers.sampler_object("euler"), sigmas, seed=0)
    assert torch.isfinite(views).all() and disagreement(space, views) < 1e-4


def test_views_per_batch_does_not_change_the_result(nodes, tiny_sd15, prompts, space):
    model, _, _ = tiny_sd15
    together, _ = custom_advanced(nodes, model, prompts[0], prompts[1], space, views_per_batch=0)
    split, _ = custom_advanced(nodes, model, prompts[0], prompts[1], space, views_per_batch=3)
    torch.testing.assert_close(split, together, atol=1e-3, rtol=1e-3)


def test_each_view_can_have_its_own_prompt(nodes, tiny_sd15, prompts, space):
    """Per-view conditioning, split over several model calls, equals running each prompt on its own."""
    import comfy.samplers
    from comfy_extras.nodes_custom_sampler import BasicScheduler

    model, _, _ = tiny_sd15
    mountain, negative, city = prompts
    per_view = [mountain if i % 2 == 0 else city for i in range(space.num_views)]
    sigmas = BasicScheduler().get_sigmas(model, "normal", 3, 1.0)[0]
    noise = space.initial_noise(4, torch.Generator().manual_seed(0))
    euler = comfy.samplers.sampler_object("euler")

    def run(positive, views_per_batch=0):
        guider = nodes.guider.SyncTweediesGuider(model, space, nodes.guider.SyncSettings(0, 1.0, views_per_batch))
        guider.set_conds(positive, negative)
        guider.set_cfg(5.0)
        return guider.sample(noise, torch.zeros_like(noise), euler, sigmas, seed=0)

    mixed, all_mountain, all_city = run(per_view, views_per_batch=2), run(mountain), run(city)
    torch.testing.assert_close(mixed[0::2], all_mountain[0::2], atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(mixed[1::2], all_city[1::2], atol=1e-3, rtol=1e-3)
    assert (all_mountain - all_city).abs().max() > 1e-2
    with pytest.raises(ValueError, match="3 positive conditionings were given for 13 views"):
        nodes.guider.SyncTweediesGuider(model, space).set_conds(per_view[:3], negative)


def test_sampler_node_previews_the_canvas_and_reports_every_step(nodes, tiny_sd15, prompts, space, monkeypatch):
    import latent_preview

    model, _, _ = tiny_sd15
    seen = []

    def prepare_callback(model, steps, x0_output_dict=None):
        return lambda step, x0, x, total: seen.append((step, tuple(x0.shape), total))

    monkeypatch.setattr(latent_preview, "prepare_callback", prepare_callback)
    nodes.sampling.SamplerNode.execute(model, prompts[0], prompts[1], 0, 6, 5.0, "euler", "normal", 1.0, space,
                                       mode_option(nodes, 2), 0.5, 0)
    assert [step for step, _, _ in seen] == list(range(6)), "steps continue across the synchronized/free split"
    assert {shape for _, shape, _ in seen} == {(1, 4, 8, 32)} and {total for *_, total in seen} == {6}


def test_interrupt_stops_sampling_cleanly(nodes, tiny_sd15, prompts, space, monkeypatch):
    import comfy.model_management
    import latent_preview

    model, _, _ = tiny_sd15
    steps = []

    def prepare_callback(model, total, x0_output_dict=None):
        def callback(step, x0, x, total_steps):
            steps.append(step)
            if step == 1:
                comfy.model_management.interrupt_current_processing(True)
        return callback

    monkeypatch.setattr(latent_preview, "prepare_callback", prepare_callback)
    try:
        with pytest.raises(comfy.model_management.InterruptProcessingException):
            nodes.sampling.SamplerNode.execute(model, prompts[0], prompts[1], 0, 8, 5.0, "euler", "normal", 1.0,
                                               space, mode_option(nodes, 2), 1.0, 0)
    finally:
        comfy.model_management.interrupt_current_processing(False)
    assert steps == [0, 1]


def test_img2img_with_denoise_starts_from_the_given_views(nodes, tiny_sd15, prompts, space):
    model, _, _ = tiny_sd15
    start = space.project(torch.randn(4, *space.canonical_size))
    views = nodes.sampling.SamplerNode.execute(model, prompts[0], prompts[1], 0, 4, 5.0, "euler", "normal", 0.3,
                                               space, mode_option(nodes, 2), 1.0, 0,
                                               latent_image={"samples": start}).args[0]
    fresh = nodes.sampling.SamplerNode.execute(model, prompts[0], prompts[1], 0, 4, 5.0, "euler", "normal", 1.0,
                                               space, mode_option(nodes, 2), 1.0, 0).args[0]
    start_in = start * 0.18215  # SD1.5's latent scale: the sampler works on scaled latents
    assert (views["samples"] * 0.18215 - start_in).abs().mean() < (fresh["samples"] * 0.18215 - start_in).abs().mean()
    assert disagreement(space, views["samples"]) < 1e-4


def test_decode_stitches_a_canvas_that_agrees_with_the_views(nodes, tiny_sd15, prompts, space):
    model, _, vae = tiny_sd15
    views, denoised = custom_advanced(nodes, model, prompts[0], prompts[1], space, 2)
    canvas, images = nodes.decode.DecodeNode.execute(vae, {"samples": views}, space).args
    assert canvas.shape == (1, 64, 256, 3) and images.shape == (space.num_views, 64, 64, 3)
    pixel_space = space.scaled(8)
    crops = pixel_space.project(canvas[0].movedim(-1, 0)).movedim(1, -1)
    assert (crops - images).abs().mean() < 0.05, "the stitched canvas shows what each view shows"
    from_canvas = nodes.decode.DecodeNode.execute(vae, {"samples": denoised}, space).args[0]
    assert from_canvas.shape == canvas.shape


def test_bad_input_is_a_clear_error(nodes, tiny_sd15, prompts, space):
    model, _, vae = tiny_sd15
    with pytest.raises(ValueError, match="not a multiple of 8"):
        nodes.canvas.WideCanvasNode.execute(**{**SPACE_ARGS, "width": 260})
    with pytest.raises(ValueError, match="smaller than one"):
        nodes.canvas.WideCanvasNode.execute(**{**SPACE_ARGS, "width": 32})
    with pytest.raises(ValueError, match="larger than the window"):
        nodes.canvas.WideCanvasNode.execute(**{**SPACE_ARGS, "stride": 128})
    with pytest.raises(ValueError, match="batch of 2 but the canonical space has 13 views"):
        nodes.sampling.SamplerNode.execute(model, prompts[0], prompts[1], 0, 2, 5.0, "euler", "normal", 0.5, space,
                                           mode_option(nodes, 2), 1.0, 0,
                                           latent_image={"samples": torch.zeros(2, 4, 8, 8)})
    with pytest.raises(ValueError, match="batch of 2"):
        nodes.decode.DecodeNode.execute(vae, {"samples": torch.zeros(2, 4, 8, 8)}, space)


def test_noise_mask_keeps_unmasked_pixels(nodes, tiny_sd15, prompts, space):
    model, _, _ = tiny_sd15
    start = space.project(torch.randn(4, *space.canonical_size))
    mask = torch.zeros(space.num_views, 1, 8, 8)
    mask[:, :, :, 4:] = 1.0
    latent = {"samples": start, "noise_mask": mask}
    views = nodes.sampling.SamplerNode.execute(model, prompts[0], prompts[1], 0, 3, 5.0, "euler", "normal", 1.0,
                                               space, mode_option(nodes, 2), 1.0, 0,
                                               latent_image=latent).args[0]["samples"]
    torch.testing.assert_close(views[:, :, :, :4], start[:, :, :, :4], atol=1e-3, rtol=1e-3)
    assert (views[:, :, :, 4:] - start[:, :, :, 4:]).abs().mean() > 0.1
    with pytest.raises(ValueError, match="noise mask works with synchronization modes 0-2"):
        nodes.sampling.SamplerNode.execute(model, prompts[0], prompts[1], 0, 3, 5.0, "euler", "normal", 1.0,
                                           space, mode_option(nodes, 5), 1.0, 0, latent_image=latent)


def test_automatic_batching_asks_the_model_patcher_for_free_memory(nodes, tiny_sd15, prompts, space, monkeypatch):
    """As the host's own batching does since ComfyUI 0.38, where the module-level get_free_memory is marked as not
    to be used: when the patcher answers, the guider does not call the module function."""
    import inspect

    import comfy.model_management

    model, _, _ = tiny_sd15
    original, asked_by_the_guider, asked_the_patcher = comfy.model_management.get_free_memory, [], []

    def module_function(*args, **kwargs):
        if inspect.stack()[1].filename.endswith("guider.py"):
            asked_by_the_guider.append(args)
        return original(*args, **kwargs)

    patched, batches = counting_calls(model)
    patched.get_free_memory = lambda device: asked_the_patcher.append(device) or 1.0  # room for one view
    monkeypatch.setattr(comfy.model_management, "get_free_memory", module_function)
    custom_advanced(nodes, patched, prompts[0], prompts[1], space, steps=1)
    assert asked_the_patcher and not asked_by_the_guider
    assert set(batches) <= {1, 2}, "one view (with or without its CFG twin) per model call"


def test_decode_and_encode_take_any_vae_output_dtype(nodes, tiny_sd15, prompts, space):
    """With --fp16-intermediates the VAE hands back fp16; Decode and Encode give what they give for fp32."""
    model, _, vae = tiny_sd15
    views, _ = custom_advanced(nodes, model, prompts[0], prompts[1], space, 2)

    class HalfVAE:
        def __getattr__(self, name):
            return getattr(vae, name)

        def decode(self, latent):
            return vae.decode(latent).half()

        def encode(self, pixels):
            return vae.encode(pixels).half()

    canvas, images = nodes.decode.DecodeNode.execute(vae, {"samples": views}, space).args
    half_canvas, half_images = nodes.decode.DecodeNode.execute(HalfVAE(), {"samples": views}, space).args
    assert half_canvas.dtype == torch.float32 and half_images.dtype == torch.float32
    torch.testing.assert_close(half_canvas, canvas, atol=2e-3, rtol=0)
    encoded = nodes.decode.EncodeNode.execute(HalfVAE(), canvas, space).args[0]["samples"]
    assert encoded.dtype == torch.float32
    torch.testing.assert_close(encoded, nodes.decode.EncodeNode.execute(vae, canvas, space).args[0]["samples"],
                               atol=5e-2, rtol=1e-2)


def test_mode_labels_are_short_and_workflows_saved_with_the_long_ones_still_validate(nodes):
    from synctweedies import MODE_DESCRIPTIONS

    assert all(len(label) <= 26 for label in nodes.sampling.MODE_OPTIONS)
    for mode, description in MODE_DESCRIPTIONS.items():
        assert description in nodes.sampling.MODE_TOOLTIP
        for label in (description, nodes.sampling.MODE_OPTIONS[mode]):
            assert nodes.sampling.parse_mode(label) == mode
            assert nodes.sampling.SamplerNode.validate_inputs("euler", "normal", label) is True
            assert nodes.sampling.GuiderNode.validate_inputs(label) is True
    assert "not one of its options" in nodes.sampling.GuiderNode.validate_inputs("7: everything")


def test_nodes_are_grouped_by_stage_and_described(nodes):
    schemas = [cls.define_schema() for cls in nodes.NODES]
    assert all(len(schema.description or "") > 20 for schema in schemas), "every node says what it does"
    categories = {schema.category for schema in schemas}
    assert categories == {"SyncTweedies/spaces", "SyncTweedies/guidance", "SyncTweedies/sampling",
                          "SyncTweedies/output"}


def counted_phases(nodes, model, space, prompts, steps, denoise, monkeypatch, sync_end=0.8, reference_end=0.2):
    """Run the sampler node (euler, ddim_uniform) and count its synchronized and reference-attention steps and
    the model timestep it starts at."""
    synced, starts = [], []
    guider_class = nodes.guider.SyncTweediesGuider
    predict = guider_class.predict_noise

    def spy(self, x, timestep, model_options={}, seed=None):
        sampling = self.model_patcher.get_model_object("model_sampling")
        starts.append(float(sampling.timestep(timestep.max().reshape(1))))
        synced.append(self.synchronizer.mode != nodes.guider.SyncMode.NONE)
        spy.reference_steps = self.reference_steps
        return predict(self, x, timestep, model_options, seed)

    monkeypatch.setattr(guider_class, "predict_noise", spy)
    latent = nodes.canvas.EmptyLatentNode.execute(space).args[0]
    nodes.sampling.SamplerNode.execute(model, prompts[0], prompts[1], 0, steps, 5.0, "euler", "ddim_uniform", denoise,
                                       space, mode_option(nodes, 2), sync_end, 0, reference_end,
                                       latent_image=latent)
    return sum(synced), spy.reference_steps, round(starts[0]), len(starts)


def test_synchronization_and_reference_attention_end_on_the_originals_timesteps(nodes, tiny_sd15, prompts,
                                                                               monkeypatch):
    """30 steps at sync_end 0.8 and ref_attention_end 0.2: 23 synchronized and 5 reference steps from t = 958, as
    the original's DDIM; the editing template's 24 steps at denoise 0.8 run the original's last 24 from t = 760,
    17 of them synchronized."""
    model, _, _ = tiny_sd15
    space = nodes.canvas.WideCanvasNode.execute(width=96, height=64, window=64, stride=32, wrap=False).args[0]
    assert counted_phases(nodes, model, space, prompts, 30, 1.0, monkeypatch) == (23, 5, 958, 30)
    assert counted_phases(nodes, model, space, prompts, 24, 0.8, monkeypatch) == (17, 0, 760, 24)


def test_the_editing_template_starts_where_the_originals_sdedit_does(nodes, tiny_sd15, prompts, monkeypatch):
    import json
    from pathlib import Path

    workflow = json.loads((Path(__file__).resolve().parents[2] / "workflows/api/mesh_texture_editing.json").read_text())
    sampler = next(node["inputs"] for node in workflow.values() if node["class_type"] == "SyncTweediesSampler")
    assert (sampler["scheduler"], sampler["initial_noise"]) == ("ddim_uniform", "per view")
    model, _, _ = tiny_sd15
    space = nodes.canvas.WideCanvasNode.execute(width=96, height=64, window=64, stride=32, wrap=False).args[0]
    synced, _, first, steps = counted_phases(nodes, model, space, prompts, sampler["steps"], sampler["denoise"],
                                             monkeypatch, sampler["sync_end"], sampler["ref_attention_end"])
    assert (first, steps, synced) == (760, 24, 17)


def test_views_start_from_canonical_or_their_own_noise(nodes, tiny_sd15, prompts, space):
    """'canonical' noise agrees where views overlap (the original's --initialize_xt_from_zt); 'per view' noise is
    every view's own (the original's default and its SDEdit), drawn from the same seed each time."""
    model, _, _ = tiny_sd15
    noises = {}
    for kind in ("canonical", "per view"):
        noises[kind] = nodes.sampling.INITIAL_NOISE[kind](space, 4, torch.Generator().manual_seed(3))
    assert disagreement(space, noises["canonical"]) < 1e-6 < disagreement(space, noises["per view"])
    runs = [nodes.sampling.SamplerNode.execute(model, prompts[0], prompts[1], 3, 2, 5.0, "euler", "normal", 1.0,
                                               space, mode_option(nodes, 0), 1.0, 0, initial_noise=kind
                                               ).args[0]["samples"] for kind in ("per view", "per view", "canonical")]
    assert torch.equal(runs[0], runs[1]) and not torch.equal(runs[0], runs[2])


@pytest.mark.parametrize("name, noise", [("ambiguous_image", "per view"), ("ambiguous_image_1024", "per view"),
                                         ("mesh_texture_editing", "per view"), ("mesh_texturing", "canonical"),
                                         ("panorama", "canonical"), ("wide_image", "canonical")])
def test_each_template_starts_from_the_noise_the_originals_run_does(name, noise):
    """The original's README runs anagrams without --initialize_xt_from_zt (every view its own noise) and edits
    textures from noise per view; its other runs draw the noise on the canonical space."""
    import json
    from pathlib import Path

    workflow = json.loads((Path(__file__).resolve().parents[2] / f"workflows/api/{name}.json").read_text())
    samplers = [node["inputs"] for node in workflow.values() if node["class_type"] == "SyncTweediesSampler"]
    assert samplers and all(sampler["initial_noise"] == noise for sampler in samplers)


def test_an_image_canvas_encodes_any_image_size_and_decodes_it_back_at_that_size(nodes, tiny_sd15):
    """A 70x45 px image (not whole latent pixels) through Image Canvas, Encode (latents and one hint image per
    window) and Decode: the canvas comes back at 70x45, and each view image is the image's cut for its window."""
    _, _, vae = tiny_sd15
    image = torch.rand(1, 45, 70, 3)
    space = nodes.image_canvas.ImageCanvasNode.execute(image, 32, 24, "taper", False, False).args[0]
    assert (space.height, space.width, space.window, space.stride, space.num_views) == (6, 9, 4, 3, 6)
    latents, view_images = nodes.decode.EncodeNode.execute(vae, image, space).args
    assert latents["samples"].shape == (6, 4, 4, 4) and view_images.shape == (6, 32, 32, 3)
    assert space.window_origins[2].tolist() == [0, 5], "the third window ends at the padded right edge"
    assert space.window_origins[1].tolist() == [0, 3]
    torch.testing.assert_close(latents["samples"][0][..., 3:], latents["samples"][1][..., :1],
                               msg="windows are cut from one encoding of the whole image: overlaps agree")
    torch.testing.assert_close(view_images[0], image[0, :32, :32])
    torch.testing.assert_close(view_images[2, :, :30], image[0, :32, 40:70])
    assert torch.equal(view_images[2, :, 30:], view_images[2, :, 29:30].expand(-1, 2, -1)), "edge repeated"
    canvas, views = nodes.decode.DecodeNode.execute(vae, latents, space).args
    assert canvas.shape == (1, 45, 70, 3) and views.shape == (6, 32, 32, 3)
    with pytest.raises(ValueError, match="holds 2 images"):
        nodes.image_canvas.ImageCanvasNode.execute(image.repeat(2, 1, 1, 1), 32, 24, "taper", False, False)


def test_the_tiled_preview_repeats_the_image_and_shows_it(nodes):
    image = torch.rand(1, 8, 12, 3)
    output = nodes.image_canvas.TiledPreviewNode.execute(image, 2, 3)
    tiled = output.args[0]
    assert tiled.shape == (1, 24, 24, 3)
    assert torch.equal(tiled[:, 16:24, 12:24], image)
    assert output.ui is not None, "the node shows the tiled image"


def test_a_wide_canvas_can_wrap_both_ways_and_old_graphs_do_not(nodes):
    both = nodes.canvas.WideCanvasNode.execute(**{**SPACE_ARGS, "wrap": True, "wrap_vertical": True}).args[0]
    old = nodes.canvas.WideCanvasNode.execute(**SPACE_ARGS).args[0]
    assert both.wrap_vertical and not old.wrap_vertical
    assert both.window_origins[:, 0].unique().tolist() == list(range(0, 8, SPACE_ARGS["stride"] // 8))


def test_a_wide_canvas_runs_coarse_windows_only_when_asked(nodes):
    node = nodes.canvas.WideCanvasNode
    old, coarse = node.execute(**SPACE_ARGS).args[0], node.execute(**SPACE_ARGS, coarse_until=0.5).args[0]
    evens = list(range(0, old.num_views, 2))
    for step, expected in ((0, evens), (4, evens), (5, None), (9, None)):
        old.begin_step(step, 10), coarse.begin_step(step, 10)
        assert old.step_views() is None
        assert (coarse.step_views() and coarse.step_views().views.tolist()) == expected
    problem = node.validate_inputs(**{**SPACE_ARGS, "stride": 48}, coarse_until=0.5)
    assert "windows 96 pixels apart" in problem and "stride of at most half the window" in problem
    assert node.validate_inputs(**{**SPACE_ARGS, "stride": 48}) is True
    with pytest.raises(ValueError, match="at most half the window"):
        node.execute(**{**SPACE_ARGS, "stride": 48}, coarse_until=0.5)
