"""Model families beyond SD1.5 inside the real host, as tiny random-weight instances of the host's own model
classes: SDXL, SD3, Flux, Qwen-Image (latents with a time axis, [N, 16, 1, h, w]) and HunyuanImage-2.1 (64
channels, byT5 glyph tokens), through the guider, the sampler and noise nodes, every bundled space type, and
compared with the host's own sampling."""
import functools

import pytest
import torch

from host_support import TINY_UNET, counting_calls, randomize

QWEN = {"image_model": "qwen_image", "in_channels": 64, "out_channels": 16, "num_layers": 1, "attention_head_dim": 16,
        "num_attention_heads": 2, "joint_attention_dim": 32, "axes_dims_rope": (4, 6, 6)}
"""Qwen-Image's transformer, one block wide enough to run (the real one: 60 blocks of 24 heads of 128)."""
FLUX = {"image_model": "flux", "guidance_embed": True, "in_channels": 16, "out_channels": 16, "vec_in_dim": 32,
        "context_in_dim": 32, "hidden_size": 32, "mlp_ratio": 2.0, "num_heads": 2, "depth": 1, "depth_single_blocks": 1,
        "axes_dim": [4, 6, 6], "theta": 10000, "patch_size": 2, "qkv_bias": True}
"""Flux.1's transformer with one double and one single block (the real one: 19 and 38 of width 3072)."""
SDXL = dict(TINY_UNET, model_channels=64, num_head_channels=8, context_dim=32, adm_in_channels=32 + 6 * 256,
            num_classes="sequential", use_linear_in_transformer=True, use_temporal_attention=False)
"""SDXL's UNet at one level, with its size-and-crop conditioning (a 32-wide pooled text vector + 6 embeddings)."""
SD3 = {"in_channels": 16, "out_channels": 16, "patch_size": 2, "depth": 1, "input_size": None, "adm_in_channels": 32,
       "context_embedder_config": {"target": "torch.nn.Linear", "params": {"in_features": 32, "out_features": 64}},
       "num_patches": 64, "pos_embed_max_size": 8, "pos_embed_scaling_factor": None, "x_block_self_attn_layers": []}
"""SD3's MMDiT with one joint block of one 64-wide head (the real one: 24 blocks, SD3.5 Large 38)."""
HUNYUAN = {"image_model": "hunyuan_video", "in_channels": 64, "out_channels": 64, "patch_size": [1, 1],
           "vec_in_dim": None, "axes_dim": [8, 8], "meanflow": False, "context_in_dim": 32, "hidden_size": 32,
           "mlp_ratio": 2.0, "num_heads": 2, "depth": 1, "depth_single_blocks": 1, "theta": 256, "qkv_bias": True,
           "byt5": True, "guidance_embed": False}
"""HunyuanImage-2.1's transformer with one double and one single block and its byT5 glyph mapper (64 latent
channels of a 32x VAE)."""
LUMINA2 = {"image_model": "lumina2", "patch_size": 2, "in_channels": 16, "dim": 32, "cap_feat_dim": 32, "n_layers": 1,
           "n_refiner_layers": 1, "n_heads": 2, "n_kv_heads": 1, "qk_norm": True, "axes_dims": [4, 6, 6],
           "axes_lens": [300, 512, 512], "multiple_of": 16}
"""Lumina 2's NextDiT with one layer (the real one: 26 of width 2304); its text tokens are counted from the text
encoder's attention mask, one count for the whole batch."""
WAN22 = {"image_model": "wan2.1", "model_type": "t2v", "in_dim": 48, "out_dim": 48, "dim": 32, "ffn_dim": 64,
         "num_heads": 2, "num_layers": 1, "text_dim": 32, "patch_size": (1, 2, 2), "freq_dim": 256,
         "window_size": (-1, -1), "qk_norm": True, "cross_attn_norm": True, "eps": 1e-6}
"""Wan 2.2 (5B)'s transformer with one block, on the 48 channels of its 16x VAE (the real one: 30 blocks of 3072)."""


def sampled_alone(model, positive: list, negative: list, noise, latent, view: int, sigmas):
    """The host's own sampling (euler, CFG 4) of view ``view`` alone with ``positive`` and ``negative``."""
    import comfy.samplers

    host = comfy.samplers.CFGGuider(model)
    host.set_conds(positive, negative)
    host.set_cfg(4.0)
    return host.sample(noise[view:view + 1], latent[view:view + 1], comfy.samplers.sampler_object("euler"), sigmas,
                       seed=0)


def tiny_model(config_class, unet_config: dict):
    """A ModelPatcher of the host's own model class for ``config_class``, random weights, norms at 1."""
    import comfy.model_patcher

    config = config_class(dict(unet_config))
    config.set_inference_dtype(torch.float32, None)
    model = config.get_model({})
    randomize(model.diffusion_model, seed=0)
    for name, value in model.diffusion_model.state_dict().items():
        if ("norm" in name or "scale" in name) and value.ndim == 1:
            value.fill_(1.0)
    return comfy.model_patcher.ModelPatcher(model, torch.device("cpu"), torch.device("cpu"))


def family_model(class_name: str, unet_config: dict):
    """A module fixture: the tiny model of the host's ``comfy.supported_models.<class_name>``."""
    @pytest.fixture(scope="module")
    def model(comfy):
        import comfy.supported_models

        return tiny_model(getattr(comfy.supported_models, class_name), unet_config)

    return model


qwen, sdxl, flux = family_model("QwenImage", QWEN), family_model("SDXL", SDXL), family_model("Flux", FLUX)
sd3, hunyuan, wan22 = family_model("SD3", SD3), family_model("HunyuanImage21", HUNYUAN), \
    family_model("WAN22_T2V", WAN22)
lumina = family_model("Lumina2", LUMINA2)


@pytest.fixture(scope="module")
def conditioning():
    generator = torch.Generator().manual_seed(1)
    return ([[torch.randn(1, 5, 32, generator=generator), {}]], [[torch.randn(1, 3, 32, generator=generator), {}]])


@pytest.fixture(scope="module")
def space(nodes):
    return nodes.canvas.WideCanvasNode.execute(width=128, height=32, window=32, stride=16, wrap=False).args[0]


def empty_views(nodes, model, space):
    import comfy.sample

    latent = nodes.canvas.EmptyLatentNode.execute(space).args[0]["samples"]
    return comfy.sample.fix_empty_latent_channels(model, latent)


def test_qwen_image_latents_have_a_time_axis_and_mode_0_is_the_hosts_sampling(nodes, qwen, conditioning, space):
    import comfy.samplers
    from comfy_extras.nodes_custom_sampler import BasicScheduler

    latent = empty_views(nodes, qwen, space)
    assert latent.shape == (space.num_views, 16, 1, 4, 4)
    assert nodes.noise.CanonicalNoise(0, space).generate_noise({"samples": latent}).shape == latent.shape
    noise = torch.randn(latent.shape, generator=torch.Generator().manual_seed(0))  # views that disagree at first
    sigmas = BasicScheduler().get_sigmas(qwen, "simple", 3, 1.0)[0]
    host = comfy.samplers.CFGGuider(qwen)
    host.set_conds(*conditioning)
    host.set_cfg(4.0)
    euler = comfy.samplers.sampler_object("euler")
    expected = host.sample(noise, latent, euler, sigmas, seed=0)
    ours = nodes.sampling.make_guider(qwen, *conditioning, 4.0, space,
                                      nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[0], 1.0, 0))
    torch.testing.assert_close(ours.sample(noise, latent, euler, sigmas, seed=0), expected, rtol=1e-4, atol=1e-5)
    synced = nodes.sampling.make_guider(qwen, *conditioning, 4.0, space,
                                        nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[2], 1.0, 1))
    views = synced.sample(noise, latent, euler, sigmas, seed=0)
    assert views.shape == latent.shape
    flat = views[:, :, 0]
    assert (space.synchronize(flat) - flat).abs().max() < 1e-5 * flat.abs().max(), "overlaps agree"
    assert (space.synchronize(expected[:, :, 0]) - expected[:, :, 0]).abs().max() > 1e-3


@pytest.mark.parametrize("mode", [3, 4])
def test_qwen_image_through_the_sampler_node_and_sampler_custom_advanced(nodes, qwen, conditioning, space, mode):
    from comfy_extras.nodes_custom_sampler import BasicScheduler, KSamplerSelect, SamplerCustomAdvanced

    option = nodes.sampling.MODE_OPTIONS[mode]
    out = nodes.sampling.SamplerNode.execute(qwen, *conditioning, seed=0, steps=2, cfg=4.0, sampler_name="euler",
                                             scheduler="simple", denoise=1.0, space=space, mode=option,
                                             sync_end=1.0, views_per_batch=0).args[0]["samples"]
    assert out.shape == (space.num_views, 16, 1, 4, 4) and torch.isfinite(out).all()
    guider = nodes.sampling.GuiderNode.execute(qwen, *conditioning, 4.0, space, option, 1.0, 0).args[0]
    noise = nodes.noise.NoiseNode.execute(0, space).args[0]
    latent = {"samples": nodes.canvas.EmptyLatentNode.execute(space).args[0]["samples"]}
    sigmas = BasicScheduler().get_sigmas(qwen, "simple", 2, 1.0)[0]
    views, canvas = SamplerCustomAdvanced().sample(noise, guider, KSamplerSelect().get_sampler("euler")[0], sigmas,
                                                   latent)
    assert views["samples"].shape == out.shape and canvas["samples"].shape == (1, 16, 1, 4, 16)
    torch.testing.assert_close(views["samples"], out)


def test_a_latent_of_several_frames_is_refused_with_the_fix(nodes, qwen, conditioning, space):
    import comfy.samplers

    frames = torch.zeros(space.num_views, 16, 2, 4, 4)
    guider = nodes.sampling.make_guider(qwen, *conditioning, 4.0, space,
                                        nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[2], 1.0, 0))
    with pytest.raises(ValueError, match="2 frames per view, but views are single images"):
        guider.sample(frames, frames, comfy.samplers.sampler_object("euler"), torch.tensor([1.0, 0.0]), seed=0)


def random_video_vae(module_class, **config):
    """The host's VAE around ``module_class`` (a Wan VAE) with random weights of unit gain, so images and latents
    keep their scale."""
    import comfy.sd

    torch.manual_seed(0)
    state = randomize(module_class(**config), seed=0)
    for name, value in state.items():
        if name.endswith("gamma"):
            value.fill_(1.0)
        elif value.ndim == 5:  # conv3d
            value.normal_(0, (2 / (value[0].numel())) ** 0.5, generator=torch.Generator().manual_seed(len(name)))
    vae = comfy.sd.VAE(sd=state)
    vae.throw_exception_if_invalid()
    return vae


@pytest.fixture(scope="module")
def wan_vae(comfy):
    """The host's Wan 2.1 VAE (Qwen-Image's), random weights: 8x, 16 channels, a time axis."""
    import comfy.ldm.wan.vae

    return random_video_vae(comfy.ldm.wan.vae.WanVAE, dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2,
                            attn_scales=[], temperal_downsample=[False, True, True], dropout=0.0)


@pytest.fixture(scope="module")
def wan22_vae(comfy):
    """The host's Wan 2.2 VAE at its real size, random weights: 16x, 48 channels, a time axis."""
    import comfy.ldm.wan.vae2_2

    return random_video_vae(comfy.ldm.wan.vae2_2.WanVAE, dim=160, z_dim=48, dim_mult=[1, 2, 4, 4], num_res_blocks=2,
                            attn_scales=[], temperal_downsample=[False, True, True], dropout=0.0)


def test_decode_encode_and_rgb_averaging_with_a_video_vae(nodes, qwen, conditioning, space, wan_vae):
    import comfy.samplers

    assert wan_vae.latent_dim == 3
    latent = empty_views(nodes, qwen, space)
    noise = torch.randn(latent.shape, generator=torch.Generator().manual_seed(0))
    guider = nodes.sampling.make_guider(qwen, *conditioning, 4.0, space,
                                        nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[2], 1.0, 0,
                                                                     vae=wan_vae))
    sigmas = torch.tensor([1.0, 0.5, 0.0])
    views = guider.sample(noise, latent, comfy.samplers.sampler_object("euler"), sigmas, seed=0)
    assert views.shape == latent.shape and torch.isfinite(views).all()
    canvas, shown = nodes.decode.DecodeNode.execute(wan_vae, {"samples": views}, space).args
    assert canvas.shape == (1, 32, 128, 3) and shown.shape == (space.num_views, 32, 32, 3)
    encoded = nodes.decode.EncodeNode.execute(wan_vae, canvas, space).args[0]["samples"]
    assert encoded.shape == (space.num_views, 16, 1, 4, 4), "each view encoded on its own, not as video frames"
    single = wan_vae.encode(shown[2:3])  # one image: a one-frame video
    torch.testing.assert_close(encoded[2:3], single, rtol=1e-4, atol=1e-4)


def test_a_16x_vae_sizes_the_canvas_and_averages_its_views_in_pixels(nodes, wan22, wan22_vae):
    """Wan 2.2's 16x VAE on the space node makes a 128x64 px canvas 8x4 latent pixels; the sampler averages the
    views through it (mode 2 in pixels) and Decode and Encode give the canvas in pixels and the views back."""
    import comfy.samplers

    assert wan22_vae.spacial_compression_decode() == 16 and wan22_vae.latent_channels == 48
    space = nodes.canvas.WideCanvasNode.execute(width=128, height=64, window=64, stride=32, wrap=False,
                                                vae=wan22_vae).args[0]
    assert space.latent_scale == 16 and space.view_size == (4, 4) and space.num_views == 3
    generator = torch.Generator().manual_seed(7)
    positive, negative = [[torch.randn(1, 5, 32, generator=generator), {}]], [[torch.zeros(1, 5, 32), {}]]
    latent = empty_views(nodes, wan22, space)
    assert latent.shape == (3, 48, 1, 4, 4)
    noise = torch.randn(latent.shape, generator=generator)
    guider = nodes.sampling.make_guider(wan22, positive, negative, 4.0, space,
                                        nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[2], 1.0, 0,
                                                                     vae=wan22_vae))
    views = guider.sample(noise, latent, comfy.samplers.sampler_object("euler"), torch.tensor([1.0, 0.0]), seed=0)
    assert views.shape == latent.shape and torch.isfinite(views).all()
    canvas, shown = nodes.decode.DecodeNode.execute(wan22_vae, {"samples": views}, space).args
    assert canvas.shape == (1, 64, 128, 3) and shown.shape == (3, 64, 64, 3)
    torch.testing.assert_close(shown[1], canvas[0, :, 32:96], msg="each view shows its window of the canvas")
    encoded = nodes.decode.EncodeNode.execute(wan22_vae, canvas, space).args[0]["samples"]
    assert encoded.shape == latent.shape


class SixteenTimesVae:
    """What a space node reads of a VAE: its pixels per latent pixel (16, as Wan 2.2's and Flux.2-class VAEs)."""

    def spacial_compression_decode(self) -> int:
        return 16


def test_sizes_in_pixels_follow_the_connected_vae(nodes):
    canvas = nodes.canvas.WideCanvasNode.execute(width=2048, height=512, window=512, stride=256, wrap=False,
                                                 vae=SixteenTimesVae()).args[0]
    assert canvas.view_size == (32, 32) and tuple(canvas.canonical_size) == (32, 128) and canvas.latent_scale == 16
    default = nodes.canvas.WideCanvasNode.execute(width=2048, height=512, window=512, stride=256, wrap=False).args[0]
    assert default.view_size == (64, 64) and default.latent_scale == 8
    with pytest.raises(ValueError, match="width is 2056 px, which is not a multiple of 16"):
        nodes.canvas.WideCanvasNode.execute(width=2056, height=512, window=512, stride=256, wrap=False,
                                            vae=SixteenTimesVae())
    panorama = nodes.panorama.PanoramaNode.execute(0.0, 360.0, 90.0, 0.0, 1.0, 45.0, 90.0, view_size=256,
                                                   latent_height=16, rgb_height=128, vae=SixteenTimesVae()).args[0]
    assert panorama.view_size == (16, 16)
    hints, _ = nodes.panorama.PanoramaDepthNode.execute("example: room_depth.png", panorama).args
    assert hints.shape == (4, 256, 256, 3), "hints at the views' pixel size, 16 x 16"
    mesh, _ = nodes.mesh.MeshNode.execute("example: vase.obj", 1.0, "0, 180", 0.0, False, 2.0, 60.0, 256, 64, 64,
                                          background="none", vae=SixteenTimesVae()).args
    assert mesh.view_size == (16, 16)
    depth, normal = nodes.mesh.MeshHintsNode.execute(mesh).args
    assert depth.shape == normal.shape == (2, 256, 256, 3)


def prompt(family: str, length: int, view: int, generator: torch.Generator) -> list:
    """One CONDITIONING entry of ``length`` tokens as ``family``'s text encoders shape it, with the options that
    vary per view: SDXL's width (1024 or 2048) and pooled output, SD3's pooled output, Flux's guidance (3.5 or 7)
    and pooled output, HunyuanImage's byT5 glyph tokens (2 or 4) and its text encoder's attention mask (all ones:
    the host's HunyuanImage-2.1 cannot apply a mask with padding to a batch, or beside glyph tokens, in its own
    sampling either)."""
    options: dict = {}
    if family in ("sdxl", "sd3", "flux"):
        options["pooled_output"] = torch.randn(1, 32, generator=generator)
    if family == "flux":
        options["guidance"] = 3.5 if view % 2 else 7.0
    elif family == "sdxl":
        options["width"] = 1024 if view % 2 else 2048
        length *= 77
    elif family == "hunyuan":
        options["conditioning_byt5small"] = torch.randn(1, 2 + 2 * (view % 2), 1472, generator=generator)
        options["attention_mask"] = torch.ones(1, length, dtype=torch.long)
    elif family == "lumina":
        options["attention_mask"] = torch.ones(1, length, dtype=torch.long)
    return [torch.randn(1, length, 32, generator=generator), options]


def per_view_prompts(family: str, num_views: int, generator: torch.Generator) -> tuple[list, list]:
    """Per-view prompts of three lengths (SDXL: 77, 154, 231 tokens, as CLIP makes them) with their per-view
    options (:func:`prompt`), and a negative."""
    if family == "sdxl":
        return [[prompt(family, 1 + view % 3, view, generator)] for view in range(num_views)], \
            [prompt(family, 1, 0, generator)]
    return [[prompt(family, 3 + 2 * (view % 3), view, generator)] for view in range(num_views)], \
        [prompt(family, 4, 0, generator)]


@pytest.mark.parametrize("family, groups", [("qwen", [2, 2, 3]), ("flux", [1, 1, 1, 1, 1, 2]), ("sdxl", [3, 4]),
                                           ("sd3", [2, 2, 3]), ("hunyuan", [1, 1, 1, 1, 1, 2]),
                                           ("lumina", [2, 2, 3])])
def test_per_view_prompts_of_different_lengths_are_exact_for_every_family(nodes, space, family, groups, request):
    """Qwen-Image's, Flux's, SD3's and HunyuanImage's text tokens join the image tokens in one attention, so a
    prompt repeated to a common length would weigh more: views with prompts of another length (or another Flux
    guidance, or glyph tokens of another length) run in calls of their own; HunyuanImage's attention masks stay
    per view. SDXL's UNet reads prompts by cross-attention, so lengths share a call and only its per-view size splits
    views. Each view's result is the host's own sampling of that view with its prompt."""
    import comfy.samplers
    from comfy_extras.nodes_custom_sampler import BasicScheduler

    model = request.getfixturevalue(family)
    generator = torch.Generator().manual_seed(2)
    prompts, negative = per_view_prompts(family, space.num_views, generator)
    latent = empty_views(nodes, model, space)
    noise = torch.randn(latent.shape, generator=generator)
    sigmas = BasicScheduler().get_sigmas(model, "simple", 2, 1.0)[0]
    euler = comfy.samplers.sampler_object("euler")
    guider = nodes.sampling.make_guider(model, prompts, negative, 4.0, space,
                                        nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[0], 1.0, 0))
    assert sorted(map(len, guider.groups)) == groups, "one group per prompt length (guidance, width, glyphs)"
    ours = guider.sample(noise, latent, euler, sigmas, seed=0)
    for view in range(space.num_views):
        alone = sampled_alone(model, prompts[view], negative, noise, latent, view, sigmas)
        assert (ours[view:view + 1] - alone).abs().max() <= 1e-4 * alone.abs().max(), f"view {view}"


def test_per_view_options_stay_per_view(nodes, qwen, space):
    """A per-view option (Flux's guidance, SDXL's size and crop) cannot be one view's for all: views with
    different values run apart, each with its own."""
    prompts = [[[torch.ones(1, 4, 32), {"guidance": 3.5 if view < 3 else 7.0, "width": 512}]]
               for view in range(space.num_views)]
    guider = nodes.sampling.make_guider(qwen, prompts, [[torch.zeros(1, 4, 32), {}]], 4.0, space,
                                        nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[2], 1.0, 0))
    assert guider.groups == [[0, 1, 2], [3, 4, 5, 6]]
    options = [guider.original_conds[f"positive_{index}"][0] for index in range(2)]
    assert [o["guidance"] for o in options] == [3.5, 7.0] and all("synctweedies_views" not in o for o in options)
    assert options[1]["cross_attn"].shape == (4, 4, 32), "one row per view of the group"


FAMILIES = ["sdxl", "sd3", "flux", "qwen", "hunyuan", "lumina"]


@pytest.mark.parametrize("family", FAMILIES)
def test_per_view_prompts_of_one_length_are_one_model_call_per_step(nodes, space, family, request):
    """All views and both CFG halves in one call when the prompts batch (same length, same options' shapes)."""
    import comfy.samplers

    model, batches = counting_calls(request.getfixturevalue(family))
    generator = torch.Generator().manual_seed(3)
    prompts = [[prompt(family, 5, 0, generator)] for _ in range(space.num_views)]
    negative = [prompt(family, 5, 0, generator)]
    latent = empty_views(nodes, model, space)
    guider = nodes.sampling.make_guider(model, prompts, negative, 4.0, space,
                                        nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[2], 1.0, 0))
    guider.sample(torch.randn(latent.shape, generator=generator), latent, comfy.samplers.sampler_object("euler"),
                  torch.tensor([1.0, 0.5, 0.0]), seed=0)
    assert batches == [2 * space.num_views] * 2, "one call of every view's cond and uncond per step"


@functools.cache
def bundled_space_of(nodes, kind: str):
    """A bundled space built once for every family (spaces do not depend on the model)."""
    return bundled_space(nodes, kind, [], [])[0]


def bundled_space(nodes, kind: str, positive: list, other: list) -> tuple:
    """(space, positive) for each bundled space type at small sizes: a wide canvas, an anagram whose two views have
    prompts of different lengths, a 360° panorama of 8 views, the example mesh's texture seen from 4 sides and the
    example Gaussians' colours (in latent units) seen from 4 cameras."""
    if kind == "wide":
        return nodes.canvas.WideCanvasNode.execute(width=128, height=32, window=32, stride=16, wrap=False).args[0], \
            positive
    if kind == "anagram":
        return nodes.anagram.AnagramViewsNode.execute(
            view_1="identity", view_2="rotate_cw", view_3="none", view_4="none", size=64, rotate_angle=45.0,
            skew_factor=1.5, num_patches=8, permutation_seed=11, optimize_inverse_mapping=False, iterations=10,
            lr=0.1, positive_1=positive, positive_2=other).args
    if kind == "mesh":
        return nodes.mesh.MeshNode.execute("example: vase.obj", 1.0, "0, 90, 180, 270", 0.0, False, 2.0, 60.0, 64, 32,
                                           32, background="none").args[0], positive
    if kind == "gaussians":
        return nodes.gaussians.GaussiansNode.execute(
            ply="example: gaussians.ply", cameras="orbit (no camera file)", total_image_to_use=4, up_vec="z",
            view_size=64, antialiased=True, background_color="white", canonical_domain="latent", iterations=30,
            lr=0.05, color_assign_method="instance", zt_init=True, final_iterations=30).args[0], positive
    return nodes.panorama.PanoramaNode.execute(
        theta_start=0.0, theta_end=360.0, theta_interval=45.0, phi_start=0.0, phi_end=1.0, phi_interval=45.0,
        fov=72.0, view_size=64, latent_height=16, rgb_height=64, feather=True).args[0], positive


def disagreement(space, views) -> float:
    """How far ``views`` ``[N, C, (1,) h, w]`` are from showing one canonical, relative to their scale."""
    flat = views[:, :, 0] if views.ndim == 5 else views
    return ((space.synchronize(flat) - flat).abs().max() / flat.abs().max()).item()


@pytest.mark.parametrize("kind", ["wide", "anagram", "panorama", "mesh", "gaussians"])
@pytest.mark.parametrize("family", FAMILIES)
def test_every_bundled_space_on_every_family(nodes, family, kind, request):
    """Mode 0 is the host's own sampling of each view with its prompt; mode 2 makes the views one canonical (the
    wide canvas and the anagram exactly; the resampled panorama, texture and Gaussian colours to a fraction of
    mode 0's disagreement)."""
    import comfy.samplers
    from comfy_extras.nodes_custom_sampler import BasicScheduler

    model = request.getfixturevalue(family)
    generator = torch.Generator().manual_seed(4)
    positive, other = [prompt(family, 3, 1, generator)], [prompt(family, 6, 1, generator)]
    space, positive = bundled_space(nodes, kind, positive, other) if kind == "anagram" else \
        (bundled_space_of(nodes, kind), positive)
    negative = [prompt(family, 4, 1, generator)]
    latent = empty_views(nodes, model, space)
    noise = torch.randn(latent.shape, generator=generator)
    sigmas = BasicScheduler().get_sigmas(model, "simple", 2, 1.0)[0]
    euler = comfy.samplers.sampler_object("euler")
    settings = nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[0], 1.0, 0)
    independent = nodes.sampling.make_guider(model, positive, negative, 4.0, space, settings).sample(
        noise, latent, euler, sigmas, seed=0)
    for view in range(space.num_views):
        own = [[t, {k: v for k, v in o.items() if k != "synctweedies_views"}] for t, o in positive
               if view in o.get("synctweedies_views", [view])]
        alone = sampled_alone(model, own, negative, noise, latent, view, sigmas)
        assert (independent[view:view + 1] - alone).abs().max() <= 1e-4 * alone.abs().max(), f"view {view}"
    settings = nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[2], 1.0, 0)
    synced = nodes.sampling.make_guider(model, positive, negative, 4.0, space, settings).sample(
        noise, latent, euler, sigmas, seed=0)
    assert synced.shape == latent.shape and torch.isfinite(synced).all()
    if kind in ("panorama", "mesh", "gaussians"):
        assert disagreement(space, synced) < 0.5 * disagreement(space, independent)
    else:
        assert disagreement(space, synced) <= 1e-5 < disagreement(space, independent)


def test_sdxl_window_crops_tell_each_window_where_it_sits_in_one_call(nodes, sdxl, space):
    """With 'SDXL Window Crops' each view is conditioned as the crop of the whole canvas at its window's corner:
    mode 0 equals the host's sampling of each window alone with that crop in its prompt's options, and all views
    and both CFG halves still share one model call per step."""
    import comfy.samplers
    from comfy_extras.nodes_custom_sampler import BasicScheduler

    generator = torch.Generator().manual_seed(5)
    positive, negative = [prompt("sdxl", 1, 1, generator)], [prompt("sdxl", 1, 1, generator)]
    crop = lambda conditioning: nodes.prompts.WindowCropsNode.execute(conditioning, space).args[0]  # noqa: E731
    model, batches = counting_calls(sdxl)
    latent = empty_views(nodes, model, space)
    noise = torch.randn(latent.shape, generator=generator)
    sigmas = BasicScheduler().get_sigmas(model, "normal", 2, 1.0)[0]
    euler = comfy.samplers.sampler_object("euler")
    guider = nodes.sampling.make_guider(model, crop(positive), crop(negative), 4.0, space,
                                        nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[0], 1.0, 0))
    cropped = guider.sample(noise, latent, euler, sigmas, seed=0)
    assert batches == [2 * space.num_views] * 2, "one call per step for every window and both CFG halves"
    settings = nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[0], 1.0, 0)
    uncropped = nodes.sampling.make_guider(model, positive, negative, 4.0, space, settings).sample(
        noise, latent, euler, sigmas, seed=0)
    for view, (row, column) in enumerate(space.window_origins.tolist()):
        where = {"width": 128, "height": 32, "crop_w": column * 8, "crop_h": row * 8, "target_width": 128,
                 "target_height": 32}
        alone = sampled_alone(sdxl, *([[t, {**o, **where}] for t, o in c] for c in (positive, negative)), noise,
                              latent, view, sigmas)
        assert (cropped[view:view + 1] - alone).abs().max() <= 1e-4 * alone.abs().max(), f"view {view}"
        if column > 0:
            assert (uncropped[view] - cropped[view]).abs().max() > 1e-3, "the crop changes what a window draws"


def test_window_crops_are_refused_off_sdxl_and_off_the_wide_canvas(nodes, flux, space):
    import comfy.samplers

    generator = torch.Generator().manual_seed(6)
    positive = nodes.prompts.WindowCropsNode.execute([prompt("flux", 3, 0, generator)], space).args[0]
    latent = empty_views(nodes, flux, space)
    guider = nodes.sampling.make_guider(flux, positive, [prompt("flux", 3, 0, generator)], 4.0, space,
                                        nodes.sampling.sync_settings(nodes.sampling.MODE_OPTIONS[0], 1.0, 0))
    with pytest.raises(ValueError, match=r"sets SDXL's size and crop conditioning, which this model \(Flux\)"):
        guider.sample(latent, latent, comfy.samplers.sampler_object("euler"), torch.tensor([1.0, 0.0]), seed=0)
    panorama = nodes.panorama.PanoramaNode.execute(0.0, 360.0, 90.0, 0.0, 1.0, 45.0, 90.0, view_size=64,
                                                   latent_height=16, rgb_height=64).args[0]
    with pytest.raises(ValueError, match="Connect a wide canvas"):
        nodes.prompts.WindowCropsNode.execute(positive, panorama)


@pytest.mark.parametrize("family", ["sdxl", "qwen"])
def test_an_image_canvas_refines_an_image_of_any_size_on_other_families(nodes, request, family, tiny_sd15, wan_vae):
    """The upscale template's path (Image Canvas, Encode, the sampler at denoise < 1, Decode) on SDXL (its size
    conditioning) and on Qwen-Image with a video VAE (latents with a time axis): a 72x40 px image comes back at
    72x40."""
    model = request.getfixturevalue(family)
    vae = tiny_sd15[2] if family == "sdxl" else wan_vae
    generator = torch.Generator().manual_seed(0)
    positive, negative = ([prompt(family, 1, view, generator)] for view in (0, 1))
    image = torch.rand(1, 40, 72, 3, generator=generator)
    space = nodes.image_canvas.ImageCanvasNode.execute(image, 32, 24, "taper", False, False, vae=vae).args[0]
    latents, hints = nodes.decode.EncodeNode.execute(vae, image, space).args
    assert hints.shape == (space.num_views, 32, 32, 3)
    assert latents["samples"].ndim == (5 if family == "qwen" else 4)
    views = nodes.sampling.SamplerNode.execute(model, positive, negative, 0, 2, 4.0, "euler", "normal", 0.5, space,
                                               nodes.sampling.MODE_OPTIONS[2], 1.0, 0,
                                               latent_image=latents).args[0]
    canvas, shown = nodes.decode.DecodeNode.execute(vae, views, space).args
    assert canvas.shape == (1, 40, 72, 3) and torch.isfinite(canvas).all()
    assert shown.shape == (space.num_views, 32, 32, 3)
