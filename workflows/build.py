"""Writes the bundled workflows, each in the editor's (UI) format and as its API-format twin.

Run ``python workflows/build.py`` after changing a graph here; a test checks the files match.
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFIX = "Best quality, extremely detailed "
"""The original puts this before every prompt (but the anagrams' and the texture editing one)."""
PROMPT = PREFIX + "A photo of a mountain range at twilight"
SD2_BASE = "512-base-ema.safetensors"
"""The original's model for wide images: Stable Diffusion 2 base (512 px), stabilityai/stable-diffusion-2-base."""
MODE = "2: average the Tweedie estimate x0 in view space (SyncTweedies)"


class Graph:
    """Nodes with widget values (in widget order) and links between output and input slots."""

    def __init__(self):
        self.nodes: list[dict] = []

    def add(self, class_type: str, title: str, widgets: dict, inputs: dict | None = None,
            outputs: list[tuple[str, str]] = (), seeded: str | None = None) -> int:
        """Add a node; ``inputs`` maps socket names to ``(node id, output slot, type)``; returns its id."""
        node_id = len(self.nodes) + 1
        self.nodes.append({"id": node_id, "type": class_type, "title": title, "widgets": widgets,
                           "inputs": inputs or {}, "outputs": list(outputs), "seeded": seeded})
        return node_id

    def api(self) -> dict:
        prompt = {}
        for node in self.nodes:
            inputs = dict(node["widgets"])
            inputs.update({name: [str(src), slot] for name, (src, slot, _) in node["inputs"].items()})
            prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs, "_meta": {"title": node["title"]}}
        return prompt

    def ui(self) -> dict:
        links, nodes = [], []
        outgoing: dict[tuple[int, int], list[int]] = {}
        for node in self.nodes:
            for name, (src, slot, kind) in node["inputs"].items():
                link_id = len(links) + 1
                target_slot = list(node["inputs"]).index(name)
                links.append([link_id, src, slot, node["id"], target_slot, kind])
                outgoing.setdefault((src, slot), []).append(link_id)
        for order, node in enumerate(self.nodes):
            widget_values = []
            for name, value in node["widgets"].items():
                widget_values.append(value)
                if name == node["seeded"]:
                    widget_values.append("fixed")
            link_of = {name: next(link[0] for link in links if link[3] == node["id"] and link[4] == i)
                       for i, name in enumerate(node["inputs"])}
            nodes.append({
                "id": node["id"], "type": node["type"], "title": node["title"],
                "pos": [40 + 360 * (order % 4), 60 + 300 * (order // 4)], "size": [320, 200],
                "flags": {}, "order": order, "mode": 0,
                "inputs": [{"name": name, "type": kind, "link": link_of[name],
                            **({"widget": {"name": name}} if name in node["widgets"] else {})}
                           for name, (_, _, kind) in node["inputs"].items()],
                "outputs": [{"name": name, "type": kind, "slot_index": slot,
                             "links": outgoing.get((node["id"], slot), [])}
                            for slot, (name, kind) in enumerate(node["outputs"])],
                "properties": {"Node name for S&R": node["type"]},
                "widgets_values": widget_values,
            })
        return {"last_node_id": len(nodes), "last_link_id": len(links), "nodes": nodes, "links": links,
                "groups": [], "config": {}, "extra": {}, "version": 0.4}


def text_to_canvas_inputs(graph: Graph) -> tuple[int, int, int, int]:
    """Checkpoint (the original's SD2-base), prompts and a 3072×512 wide canvas; returns (checkpoint, positive,
    negative, space) ids."""
    checkpoint = graph.add("CheckpointLoaderSimple", "Load Checkpoint", {"ckpt_name": SD2_BASE},
                           outputs=[("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")])
    positive = graph.add("CLIPTextEncode", "Prompt", {"text": PROMPT}, {"clip": (checkpoint, 1, "CLIP")},
                         outputs=[("CONDITIONING", "CONDITIONING")])
    negative = graph.add("CLIPTextEncode", "Negative prompt", {"text": ""}, {"clip": (checkpoint, 1, "CLIP")},
                         outputs=[("CONDITIONING", "CONDITIONING")])
    space = graph.add("SyncTweediesWideCanvas", "Wide canvas",
                      {"width": 3072, "height": 512, "window": 512, "stride": 64, "wrap": False, "weighting": "taper"},
                      outputs=[("space", "SYNCTWEEDIES_SPACE")])
    return checkpoint, positive, negative, space


def decode_and_save(graph: Graph, checkpoint: int, latent: tuple[int, int], space: int, prefix: str) -> int:
    """Decode, stitch and save the canvas and the views; returns the decode node's id."""
    decode = graph.add("SyncTweediesDecode", "Decode and stitch", {},
                       {"vae": (checkpoint, 2, "VAE"), "samples": (*latent, "LATENT"),
                        "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                       outputs=[("canvas", "IMAGE"), ("views", "IMAGE")])
    graph.add("SaveImage", "Save canvas", {"filename_prefix": f"SyncTweedies/{prefix}"},
              {"images": (decode, 0, "IMAGE")})
    graph.add("SaveImage", "Save views", {"filename_prefix": f"SyncTweedies/{prefix}_views"},
              {"images": (decode, 1, "IMAGE")})
    return decode


def depth_control(graph: Graph, positive: tuple[int, int], negative: tuple[int, int], hints: tuple[int, int],
                  ramp: bool = False) -> tuple[tuple, tuple]:
    """Depth ControlNet on both prompts from per-view ``hints``: constant strength 0.7 (the original's panorama),
    or with ``ramp`` the original's mesh and Gaussian schedule (0.7, then 0.9 falling to 0.7); returns the
    conditionings."""
    control = graph.add("ControlNetLoader", "Load ControlNet", {"control_net_name": "control_v11f1p_sd15_depth.pth"},
                        outputs=[("CONTROL_NET", "CONTROL_NET")])
    inputs = {"positive": (*positive, "CONDITIONING"), "negative": (*negative, "CONDITIONING"),
              "control_net": (control, 0, "CONTROL_NET"), "image": (*hints, "IMAGE")}
    outputs = [("positive", "CONDITIONING"), ("negative", "CONDITIONING")]
    if ramp:
        apply = graph.add("SyncTweediesControlNetRamp", "Depth ControlNet (ramped)",
                          {"scale": 0.7, "end_scale": 0.9, "guidance_start": 0.0, "guidance_end": 0.99}, inputs,
                          outputs=outputs)
    else:
        apply = graph.add("ControlNetApplyAdvanced", "Apply depth ControlNet",
                          {"strength": 0.7, "start_percent": 0.0, "end_percent": 0.99}, inputs, outputs=outputs)
    return (apply, 0), (apply, 1)


def sync_sampler(graph: Graph, checkpoint: int, positive: tuple[int, int], negative: tuple[int, int], space: int,
                 steps: int, seed: int = 0, rgb: bool = False, denoise: float = 1.0,
                 latent: tuple[int, int] | None = None, cfg: float = 7.5, sync_end: float = 1.0,
                 ref_attention_end: float = 0.0, neighbours: bool = False, title: str = "SyncTweedies Sampler") -> int:
    """The one-node SyncTweedies Sampler (mode 2; euler, the DDIM step, on the ddim_uniform schedule, the
    original's timesteps); ``rgb`` averages x0 through the VAE; ``latent`` (with ``denoise`` < 1) is the start
    for editing; ``neighbours`` turns on the original's neighbour-view attention."""
    inputs = {"model": (checkpoint, 0, "MODEL"), "positive": (*positive, "CONDITIONING"),
              "negative": (*negative, "CONDITIONING"), "space": (space, 0, "SYNCTWEEDIES_SPACE")}
    if latent is not None:
        inputs["latent_image"] = (*latent, "LATENT")
    if rgb:
        inputs["vae"] = (checkpoint, 2, "VAE")
    return graph.add(
        "SyncTweediesSampler", title,
        {"seed": seed, "steps": steps, "cfg": cfg, "sampler_name": "euler", "scheduler": "ddim_uniform",
         "denoise": denoise, "mode": MODE, "sync_end": sync_end, "views_per_batch": 0,
         "ref_attention_end": ref_attention_end, "neighbour_attention": neighbours, "draft_vae_end": 0.5},
        inputs, outputs=[("views", "LATENT")], seeded="seed")


WIDE_SAMPLING = {"cfg": 7.5, "sync_end": 1.0, "ref_attention_end": 0.2, "neighbours": True}
"""The original's wide image: guidance 7.5, synchronized to the end (its README's --mvd_end 1.0), cross-view
attention (reference until 0.2, neighbours always)."""


def wide_image() -> Graph:
    """The one-node sampler: the simplest wide-image graph."""
    graph = Graph()
    checkpoint, positive, negative, space = text_to_canvas_inputs(graph)
    sampler = sync_sampler(graph, checkpoint, (positive, 0), (negative, 0), space, steps=50, **WIDE_SAMPLING)
    decode_and_save(graph, checkpoint, (sampler, 0), space, "wide_image")
    return graph


def wide_image_advanced() -> Graph:
    """The guider with the host's SamplerCustomAdvanced, sampler and scheduler nodes."""
    graph = Graph()
    checkpoint, positive, negative, space = text_to_canvas_inputs(graph)
    guider = graph.add("SyncTweediesGuider", "SyncTweedies Guider",
                       {"cfg": 7.5, "mode": MODE, "sync_end": 1.0, "views_per_batch": 0, "ref_attention_end": 0.2,
                        "neighbour_attention": True, "draft_vae_end": 0.5},
                       {"model": (checkpoint, 0, "MODEL"), "positive": (positive, 0, "CONDITIONING"),
                        "negative": (negative, 0, "CONDITIONING"), "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                       outputs=[("GUIDER", "GUIDER")])
    noise = graph.add("SyncTweediesNoise", "Canonical noise", {"noise_seed": 0},
                      {"space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("NOISE", "NOISE")], seeded="noise_seed")
    latent = graph.add("SyncTweediesEmptyLatent", "Empty views", {"channels": 4},
                       {"space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("LATENT", "LATENT")])
    sampler = graph.add("KSamplerSelect", "Sampler", {"sampler_name": "euler"}, outputs=[("SAMPLER", "SAMPLER")])
    sigmas = graph.add("BasicScheduler", "Scheduler", {"scheduler": "ddim_uniform", "steps": 50, "denoise": 1.0},
                       {"model": (checkpoint, 0, "MODEL")}, outputs=[("SIGMAS", "SIGMAS")])
    sample = graph.add("SamplerCustomAdvanced", "SamplerCustomAdvanced", {},
                       {"noise": (noise, 0, "NOISE"), "guider": (guider, 0, "GUIDER"),
                        "sampler": (sampler, 0, "SAMPLER"), "sigmas": (sigmas, 0, "SIGMAS"),
                        "latent_image": (latent, 0, "LATENT")},
                       outputs=[("output", "LATENT"), ("denoised_output", "LATENT")])
    decode_and_save(graph, checkpoint, (sample, 0), space, "wide_image_advanced")
    return graph


ANAGRAM_VIEWS = {"view_1": "identity", "view_2": "rotate_cw", "view_3": "none", "view_4": "none", "rotate_angle": 45.0,
                 "skew_factor": 1.5, "num_patches": 8, "permutation_seed": 11, "optimize_inverse_mapping": False,
                 "iterations": 10, "lr": 0.1, "inverse_fit": "mse"}
"""The original's anagram: upright and turned a quarter clockwise (its n-to-1 fit: 10 steps of rate 0.1)."""


def ambiguous_image(two_stage: bool = False) -> Graph:
    """A visual anagram, x0 averaged as images (the VAE into the sampler; latents do not turn with their images),
    at the original's guidance 10: "an oilpainting of a horse" upright, "... a snowy mountain village" turned
    clockwise, and the animation. With ``two_stage``, the 512 px anagram is enlarged to 1024 px and refined by a
    second synchronized pass from denoise 0.5 (the original's second, upscaling stage; any model can do it)."""
    graph = Graph()
    checkpoint = graph.add("CheckpointLoaderSimple", "Load Checkpoint",
                           {"ckpt_name": "v1-5-pruned-emaonly.safetensors"},
                           outputs=[("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")])
    prompts = [graph.add("CLIPTextEncode", title, {"text": text}, {"clip": (checkpoint, 1, "CLIP")},
                         outputs=[("CONDITIONING", "CONDITIONING")])
               for title, text in (("Prompt upright", "an oilpainting of a horse"),
                                   ("Prompt turned", "an oilpainting of a snowy mountain village"),
                                   ("Negative prompt", ""))]
    per_view = {"positive_1": (prompts[0], 0, "CONDITIONING"), "positive_2": (prompts[1], 0, "CONDITIONING")}
    anagram_outputs = [("space", "SYNCTWEEDIES_SPACE"), ("positive", "CONDITIONING")]
    space = graph.add("SyncTweediesAnagramViews", "Anagram views", {**ANAGRAM_VIEWS, "size": 512}, per_view,
                      outputs=anagram_outputs)
    sampler = sync_sampler(graph, checkpoint, (space, 1), (prompts[2], 0), space, steps=30, seed=1, rgb=True,
                           cfg=10.0)
    name = "ambiguous_image_1024" if two_stage else "ambiguous_image"
    if two_stage:
        first = graph.add("SyncTweediesDecode", "Decode 512 px", {},
                          {"vae": (checkpoint, 2, "VAE"), "samples": (sampler, 0, "LATENT"),
                           "space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("canvas", "IMAGE"), ("views", "IMAGE")])
        larger = graph.add("ImageScaleBy", "Enlarge 2x", {"upscale_method": "lanczos", "scale_by": 2.0},
                           {"image": (first, 0, "IMAGE")}, outputs=[("IMAGE", "IMAGE")])
        space = graph.add("SyncTweediesAnagramViews", "Anagram views 1024 px", {**ANAGRAM_VIEWS, "size": 1024},
                          per_view, outputs=anagram_outputs)
        start = graph.add("SyncTweediesEncode", "Encode 1024 px", {},
                          {"vae": (checkpoint, 2, "VAE"), "image": (larger, 0, "IMAGE"),
                           "space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("views", "LATENT")])
        sampler = sync_sampler(graph, checkpoint, (space, 1), (prompts[2], 0), space, steps=30, seed=1, rgb=True,
                               cfg=10.0, denoise=0.5, latent=(start, 0), title="SyncTweedies Sampler 1024 px")
    decode = decode_and_save(graph, checkpoint, (sampler, 0), space, name)
    graph.add("SyncTweediesAnagramAnimation", "Animation",
              {"frames_per_turn": 24, "hold": 12, "fps": 24.0, "format": "webp",
               "filename_prefix": f"SyncTweedies/{name}_animation"},
              {"canvas": (decode, 0, "IMAGE"), "space": (space, 0, "SYNCTWEEDIES_SPACE")},
              outputs=[("frames", "IMAGE")])
    return graph


PANORAMA_PROMPT = PREFIX + "An old looking library"
PANORAMA_SAMPLING = {"cfg": 25.0, "sync_end": 0.8, "ref_attention_end": 0.2, "neighbours": True}
"""The original's panorama config: guidance 25, mvd_end 0.8, ref_attention_end 0.2, neighbour attention."""
PANORAMA_NEGATIVE = "oversmoothed, blurry, depth of field, out of focus, low quality, bloom, glowing effect."
PANORAMA_RIG = {"theta_start": 0.0, "theta_end": 360.0, "theta_interval": 45.0, "phi_start": 0.0, "phi_end": 1.0,
                "phi_interval": 45.0, "fov": 72.0, "view_size": 512, "latent_height": 256, "rgb_height": 1024,
                "feather": True}


def panorama(depth: bool = False) -> Graph:
    """A 360° panorama from a prompt, x0 averaged in RGB (the VAE into the sampler); optionally depth-guided."""
    graph = Graph()
    checkpoint = graph.add("CheckpointLoaderSimple", "Load Checkpoint",
                           {"ckpt_name": "v1-5-pruned-emaonly.safetensors"},
                           outputs=[("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")])
    positive = graph.add("CLIPTextEncode", "Prompt", {"text": PANORAMA_PROMPT}, {"clip": (checkpoint, 1, "CLIP")},
                         outputs=[("CONDITIONING", "CONDITIONING")])
    negative = graph.add("CLIPTextEncode", "Negative prompt", {"text": PANORAMA_NEGATIVE},
                         {"clip": (checkpoint, 1, "CLIP")}, outputs=[("CONDITIONING", "CONDITIONING")])
    space = graph.add("SyncTweediesPanorama", "360 panorama", PANORAMA_RIG,
                      outputs=[("space", "SYNCTWEEDIES_SPACE")])
    conditioning = (positive, 0), (negative, 0)
    if depth:
        hints = graph.add("SyncTweediesPanoramaDepth", "Depth views", {"depth_map": "cf726b6c0144425282245b34fc4efdca_depth.dpt"},
                          {"space": (space, 0, "SYNCTWEEDIES_SPACE")},
                          outputs=[("view_hints", "IMAGE"), ("equirect", "IMAGE")])
        conditioning = depth_control(graph, (positive, 0), (negative, 0), (hints, 0))
    sampler = sync_sampler(graph, checkpoint, *conditioning, space, steps=30, rgb=True, **PANORAMA_SAMPLING)
    name = "panorama_depth" if depth else "panorama"
    decode = graph.add("SyncTweediesDecode", "Decode and stitch", {},
                       {"vae": (checkpoint, 2, "VAE"), "samples": (sampler, 0, "LATENT"),
                        "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                       outputs=[("canvas", "IMAGE"), ("views", "IMAGE")])
    graph.add("SyncTweediesSavePanorama", "Save 360 panorama", {"filename_prefix": f"SyncTweedies/{name}",
                                                                "format": "jpg"},
              {"images": (decode, 0, "IMAGE")})
    graph.add("SaveImage", "Save views", {"filename_prefix": f"SyncTweedies/{name}_views"},
              {"images": (decode, 1, "IMAGE")})
    return graph


MESH_NEGATIVE = "oversmoothed, blurry, depth of field, out of focus, low quality, bloom, glowing effect."
MESH_SAMPLING = {"cfg": 15.5, "sync_end": 0.8, "ref_attention_end": 0.2, "neighbours": True}
"""The original's mesh defaults: guidance 15.5, mvd_end 0.8, ref_attention_end 0.2, neighbour attention."""


def mesh_texturing(edit: bool = False) -> Graph:
    """A mesh's texture from a prompt: the orbit rig, per-view prompts, depth ControlNet on the original's ramp,
    SyncTweedies Sampler, the texture, a .glb and a turntable.

    With ``edit``, the mesh's own texture is encoded into the views and denoised from the original's
    ``--sdedit_timestep 0.2`` (which counts from pure noise): denoise 0.8.
    """
    graph = Graph()
    checkpoint = graph.add("CheckpointLoaderSimple", "Load Checkpoint",
                           {"ckpt_name": "v1-5-pruned-emaonly.safetensors"},
                           outputs=[("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")])
    space = graph.add("SyncTweediesMesh", "Mesh",
                      {"mesh": "mesh.obj" if edit else "turtle.obj", "mesh_autouv": False, "mesh_scale": 1.0,
                       "azimuths": "-180, -135, -90, -45, 0, 45, 90, 135", "elevation": 0.0, "top_views": True,
                       "distance": 2.0, "fov": 60.0, "projection": "perspective", "view_size": 768,
                       "latent_texture": 1536, "rgb_texture": 1024, "background": "shuffle", "shuffle_bg_change": 0.4,
                       "shuffle_bg_end": 0.8},
                      {"vae": (checkpoint, 2, "VAE")},
                      outputs=[("space", "SYNCTWEEDIES_SPACE"), ("texture", "IMAGE")])
    prompt = "A Chinese style lantern" if edit else PREFIX + "A hand carved wood turtle"
    prompts = graph.add("SyncTweediesMeshViewPrompts", "View prompts", {"text": prompt, "negative": MESH_NEGATIVE},
                        {"clip": (checkpoint, 1, "CLIP"), "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                        outputs=[("positive", "CONDITIONING"), ("negative", "CONDITIONING")])
    hints = graph.add("SyncTweediesMeshHints", "Depth and normal views", {},
                      {"space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("depth", "IMAGE"), ("normal", "IMAGE")])
    conditioning = depth_control(graph, (prompts, 0), (prompts, 1), (hints, 0), ramp=True)
    if edit:
        start = graph.add("SyncTweediesEncode", "Encode texture", {},
                          {"vae": (checkpoint, 2, "VAE"), "image": (space, 1, "IMAGE"),
                           "space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("views", "LATENT")])
        sampler = sync_sampler(graph, checkpoint, *conditioning, space, steps=30, denoise=0.8,
                               latent=(start, 0), **MESH_SAMPLING)
    else:
        sampler = sync_sampler(graph, checkpoint, *conditioning, space, steps=30, **MESH_SAMPLING)
    name = "mesh_edit" if edit else "mesh"
    decode = decode_and_save(graph, checkpoint, (sampler, 0), space, f"{name}_texture")
    saved = graph.add("SyncTweediesSaveTexturedMesh", "Save textured mesh",
                      {"filename_prefix": f"SyncTweedies/{name}", "format": "glb"},
                      {"texture": (decode, 0, "IMAGE"), "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                      outputs=[("path", "STRING"), ("model_file", "STRING")])
    graph.add("Preview3D", "Preview 3D", {"model_file": ""}, {"model_file": (saved, 1, "STRING")})
    graph.add("SyncTweediesMeshTurntable", "Turntable",
              {"frames": 36, "size": 512, "elevation": 20.0, "fps": 12.0, "format": "webp",
               "filename_prefix": f"SyncTweedies/{name}_turntable"},
              {"texture": (decode, 0, "IMAGE"), "space": (space, 0, "SYNCTWEEDIES_SPACE")},
              outputs=[("frames", "IMAGE")])
    return graph


def gaussians() -> Graph:
    """Recolour a 3DGS scene: its cameras' views, depth ControlNet, RGB averaging; saves the .ply, views, turntable."""
    graph = Graph()
    checkpoint = graph.add("CheckpointLoaderSimple", "Load Checkpoint",
                           {"ckpt_name": "v1-5-pruned-emaonly.safetensors"},
                           outputs=[("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")])
    positive = graph.add("CLIPTextEncode", "Prompt",
                         {"text": "Best quality, extremely detailed A photo of majestic red throne, adorned with gold "
                                  "accents"}, {"clip": (checkpoint, 1, "CLIP")}, outputs=[("CONDITIONING", "CONDITIONING")])
    negative = graph.add("CLIPTextEncode", "Negative prompt", {"text": MESH_NEGATIVE}, {"clip": (checkpoint, 1, "CLIP")},
                         outputs=[("CONDITIONING", "CONDITIONING")])
    space = graph.add("SyncTweediesGaussians", "3D Gaussians",
                      {"ply": "chair.ply", "cameras": "chair/transforms_test.json", "total_image_to_use": 50,
                       "up_vec": "z", "view_size": 512, "antialiased": True, "background_color": "white",
                       "canonical_domain": "rgb", "iterations": 1000, "final_iterations": 4000, "lr": 0.025,
                       "color_assign_method": "previous", "zt_init": True, "force_clean_composition": True,
                       "enable_xyz": False, "enable_opacity": False, "enable_covariance": False, "xyz_lr": 0.0003,
                       "opacity_lr": 0.05, "scale_lr": 0.005, "quat_lr": 0.001},
                      outputs=[("space", "SYNCTWEEDIES_SPACE"), ("depth", "IMAGE")])
    conditioning = depth_control(graph, (positive, 0), (negative, 0), (space, 1), ramp=True)
    sampler = sync_sampler(graph, checkpoint, *conditioning, space, steps=30, rgb=True, cfg=35.0,
                           sync_end=0.8, ref_attention_end=0.2, neighbours=True)
    decode = graph.add("SyncTweediesDecode", "Decode and fit colours", {},
                       {"vae": (checkpoint, 2, "VAE"), "samples": (sampler, 0, "LATENT"),
                        "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                       outputs=[("canvas", "IMAGE"), ("views", "IMAGE")])
    graph.add("SaveImage", "Save views", {"filename_prefix": "SyncTweedies/gaussians_views"},
              {"images": (decode, 1, "IMAGE")})
    graph.add("SyncTweediesSaveGaussians", "Save Gaussians", {"filename_prefix": "SyncTweedies/gaussians"},
              {"colours": (decode, 0, "IMAGE"), "space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("path", "STRING")])
    graph.add("SyncTweediesGaussiansTurntable", "Turntable",
              {"frames": 36, "size": 512, "elevation": 20.0, "fps": 12.0, "format": "webp",
               "filename_prefix": "SyncTweedies/gaussians_turntable"},
              {"colours": (decode, 0, "IMAGE"), "space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("frames", "IMAGE")])
    return graph


WORKFLOWS = {"wide_image": wide_image, "wide_image_advanced": wide_image_advanced, "ambiguous_image": ambiguous_image,
             "ambiguous_image_1024": lambda: ambiguous_image(two_stage=True),
             "panorama": panorama, "panorama_depth": lambda: panorama(depth=True), "mesh_texturing": mesh_texturing,
             "mesh_texture_editing": lambda: mesh_texturing(edit=True), "gaussians": gaussians}


def render() -> dict[str, str]:
    """File name → JSON text of every bundled workflow and its API twin."""
    files = {}
    for name, build in WORKFLOWS.items():
        graph = build()
        files[f"{name}.json"] = json.dumps(graph.ui(), indent=2) + "\n"
        files[f"api/{name}.json"] = json.dumps(graph.api(), indent=2) + "\n"
    return files


if __name__ == "__main__":
    for file_name, text in render().items():
        (HERE / file_name).write_text(text)
        print(f"wrote workflows/{file_name}")
