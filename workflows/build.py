"""Writes the bundled workflows, each in the editor's (UI) format and as its API-format twin.

Run ``python workflows/build.py`` after changing a graph here; a test checks the files match. Each node's widgets,
their order and defaults come from the node schemas as the host serves them (``layout/widgets.json``, refreshed
from a running ComfyUI with the pack by ``python workflows/build.py --widgets-from http://127.0.0.1:8188``; a test
checks it against the host), so a graph here writes only what it changes.
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # last, so the pack's nodes/ never hides the host's nodes module
    sys.path.append(str(HERE.parent))
from synctweedies import original  # noqa: E402  (the original's settings; imports no torch)
from synctweedies.original import NEGATIVE_PROMPT, PROMPT_PREFIX as PREFIX  # noqa: E402
PROMPT = PREFIX + "A photo of a mountain range at twilight"
SD2_BASE = "512-base-ema.safetensors"
"""The original's model for wide images: Stable Diffusion 2 base (512 px), stabilityai/stable-diffusion-2-base."""


SD15 = "v1-5-pruned-emaonly.safetensors"
DEPTH_CONTROLNET = "control_v11f1p_sd15_depth_fp16.safetensors"
"""The original's depth ControlNet (lllyasviel's v1.1 depth) as safetensors, which the editor downloads."""
TILE_CONTROLNET = "control_v11f1e_sd15_tile_fp16.safetensors"
"""lllyasviel's v1.1 tile ControlNet as safetensors: keeps each upscaling window faithful to its cut of the image."""
CONTROLNETS = "https://huggingface.co/comfyanonymous/ControlNet-v1-1_fp16_safetensors/resolve/main/"
MODELS = {
    SD15: {"url": "https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5/resolve/main/"
                  "v1-5-pruned-emaonly.safetensors", "directory": "checkpoints"},
    SD2_BASE: {"url": "https://huggingface.co/stabilityai/stable-diffusion-2-base/resolve/main/512-base-ema.safetensors",
               "directory": "checkpoints"},
    DEPTH_CONTROLNET: {"url": CONTROLNETS + DEPTH_CONTROLNET, "directory": "controlnet"},
    TILE_CONTROLNET: {"url": CONTROLNETS + TILE_CONTROLNET, "directory": "controlnet"},
}
"""The model files the workflows load: where to download each and the models/ folder it goes in."""
DATA = "https://github.com/KAIST-Visual-AI-Group/SyncTweedies/tree/main/data"
"""The original's example inputs (meshes, the panorama depth map, the Gaussian chair and its cameras)."""


def model_line(name: str) -> str:
    return f"- [`{name}`]({MODELS[name]['url']}) → `ComfyUI/models/{MODELS[name]['directory']}/`"


STAGES = ("Models and prompts", "Space", "Guidance", "Sampling", "Output")
STAGE_OF = {"CheckpointLoaderSimple": 0, "CLIPTextEncode": 0, "ControlNetLoader": 0, "LoadImage": 0,
            "SyncTweediesWideCanvas": 1, "SyncTweediesImageCanvas": 1, "SyncTweediesAnagramViews": 1,
            "SyncTweediesPanorama": 1, "SyncTweediesMesh": 1, "SyncTweediesGaussians": 1,
            "SyncTweediesPanoramaDepth": 2, "SyncTweediesMeshHints": 2, "SyncTweediesMeshViewPrompts": 2,
            "ControlNetApplyAdvanced": 2, "SyncTweediesControlNetRamp": 2,
            "SyncTweediesEmptyLatent": 3, "SyncTweediesNoise": 3, "SyncTweediesGuider": 3, "KSamplerSelect": 3,
            "BasicScheduler": 3, "SamplerCustomAdvanced": 3, "SyncTweediesSampler": 3, "SyncTweediesEncode": 3}
"""The stage (group) of each node type; any other type is output. A node never sits left of its inputs: one that
would starts a second pass of the stages to the right (the two-stage anagram); ``Graph.add``'s ``stage`` places a
node of another type."""
WIDGETS_FILE = HERE / "layout" / "widgets.json"
WIDGET_TYPES = ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")


def widgets_of(object_info: dict) -> dict[str, list]:
    """Node type → ``[[name, default, seeded], ...]``, its widget inputs in the editor's order (required, then
    optional), from the host's ``/object_info``; default None where the schema gives none (a file list, say), and
    seeded where the editor adds a control-after-generate value behind it."""
    widgets = {}
    for kind, info in object_info.items():
        listed = []
        order = info.get("input_order") or {section: list(info["input"].get(section, {})) for section in info["input"]}
        for section in ("required", "optional"):
            for name in order.get(section, []):
                spec = info["input"][section][name]
                options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
                if (isinstance(spec[0], list) or spec[0] in WIDGET_TYPES) and not options.get("forceInput"):
                    listed.append([name, options.get("default"), bool(options.get("control_after_generate"))])
        widgets[kind] = listed
    return widgets


HOST_TYPES = ("CheckpointLoaderSimple", "CLIPTextEncode", "ControlNetLoader", "ControlNetApplyAdvanced",
              "KSamplerSelect", "BasicScheduler", "SamplerCustomAdvanced", "SaveImage", "ImageScaleBy", "Preview3D",
              "LoadImage")
"""The host's node types the workflows use."""


def used_widgets(object_info: dict) -> dict[str, list]:
    """:func:`widgets_of` for the pack's node types and the host's that the workflows use."""
    every = widgets_of(object_info)
    return {kind: every[kind] for kind in sorted(every) if kind.startswith("SyncTweedies") or kind in HOST_TYPES}


WIDGETS = json.loads(WIDGETS_FILE.read_text()) if WIDGETS_FILE.exists() else {}
"""Each used node type's widgets (:func:`widgets_of`), as last read from the host."""
SIZES = json.loads((HERE / "layout" / "node_sizes.json").read_text())
"""Each node type's size as the frontend computes it (``refresh_layout.py``)."""
GROWN = {"SyncTweediesSavePanorama": (560, 300), "CLIPTextEncode": (400, 160), "MarkdownNote": (460, 560),
         "Preview3D": (512, 512), "SaveImage": (360, 320)}
"""Room for what grows after a run (the 360° viewer) or is read at length (prompts, the note): (width, extra
height) for the viewer, (width, height) for the others."""
TITLE, GAP, GROUP_TITLE, PAD, MAX_HEIGHT = 30, 40, 50, 20, 1100
VIEW_OFFSET = (10, 10)
"""Where a template opens: at 100 % zoom (the editor draws no text below about 60 %), its top-left corner (the note
and the first group) this far from the window's."""


def node_size(kind: str) -> list[int]:
    width, height = SIZES.get(kind, (320, 120))
    if kind == "SyncTweediesSavePanorama":
        return [max(width, GROWN[kind][0]), height + GROWN[kind][1]]
    if kind in GROWN:
        return [max(width, GROWN[kind][0]), max(height, GROWN[kind][1])]
    return [max(width, 300), height]


class Graph:
    """Nodes with widget values (in widget order) and links between output and input slots, and a note."""

    def __init__(self, note: str = ""):
        self.nodes: list[dict] = []
        self.note = note

    def add(self, class_type: str, title: str, changes: dict, inputs: dict | None = None,
            outputs: list[tuple[str, str]] = (), stage: int | None = None) -> int:
        """Add a node whose widgets keep their schema defaults but for ``changes``; ``inputs`` maps socket names to
        ``(node id, output slot, type)``; ``stage`` is its group when not its type's (:data:`STAGE_OF`); returns its
        id. A model file among the widgets (:data:`MODELS`) is named with its download link, as the host's
        templates do."""
        schema = WIDGETS[class_type]
        unknown = set(changes) - {name for name, _, _ in schema}
        if unknown:
            raise KeyError(f"{class_type} has no widgets {sorted(unknown)}")
        widgets = {name: changes.get(name, default) for name, default, _ in schema}
        missing = [name for name, value in widgets.items() if value is None]
        if missing:
            raise KeyError(f"{class_type}: {missing} have no default; give them")
        seeded = next((name for name, _, control in schema if control), None)
        node_id = len(self.nodes) + 1
        models = [{"name": value, **MODELS[value]} for value in widgets.values() if value in MODELS]
        self.nodes.append({"id": node_id, "type": class_type, "title": title, "widgets": widgets,
                           "inputs": inputs or {}, "outputs": list(outputs), "seeded": seeded, "models": models,
                           "stage": STAGE_OF.get(class_type, len(STAGES) - 1) if stage is None else stage})
        return node_id

    def api(self) -> dict:
        prompt = {}
        for node in self.nodes:
            inputs = dict(node["widgets"])
            inputs.update({name: [str(src), slot] for name, (src, slot, _) in node["inputs"].items()})
            prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs, "_meta": {"title": node["title"]}}
        return prompt

    def layout(self) -> tuple[dict[int, tuple[list[int], list[int]]], list[dict]]:
        """Node id → (pos, size), and the groups: the note on the left, then a column per stage and pass, left to
        right, nodes stacked in each; a group around each column."""
        column_of: dict[int, int] = {}
        for node in self.nodes:
            stage = node["stage"]
            before = max((column_of[src] for src, _, _ in node["inputs"].values()), default=0)
            passes = before // len(STAGES) + (stage < before % len(STAGES))
            column_of[node["id"]] = passes * len(STAGES) + stage
        placed, groups = {}, []
        x = 2 * PAD + node_size("MarkdownNote")[0] + GAP
        for column in sorted(set(column_of.values())):
            members = [node for node in self.nodes if column_of[node["id"]] == column]
            start, bottom = x, 0
            while members:  # a stage taller than MAX_HEIGHT continues in a second column of its group
                stack, height = [], GROUP_TITLE
                while members and (not stack or height + node_size(members[0]["type"])[1] + TITLE <= MAX_HEIGHT):
                    stack.append(members.pop(0))
                    height += node_size(stack[-1]["type"])[1] + TITLE + GAP
                width = max(node_size(node["type"])[0] for node in stack)
                y = GROUP_TITLE + TITLE
                for node in stack:
                    size = node_size(node["type"])
                    placed[node["id"]] = ([x, y], [width, size[1]])
                    y += size[1] + TITLE + GAP
                bottom = max(bottom, y - GAP + PAD)
                x += width + GAP
            name = f"Step {len(groups) + 1} - {STAGES[column % len(STAGES)]}" + \
                ("" if column < len(STAGES) else f" (pass {column // len(STAGES) + 1})")
            groups.append({"title": name, "bounding": [start - PAD, 0, x - GAP - start + 2 * PAD, bottom],
                           "color": "#3f5159", "font_size": 24, "flags": {}})
            x += 2 * PAD
        return placed, groups

    def ui(self) -> dict:
        placed, groups = self.layout()
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
                "pos": placed[node["id"]][0], "size": placed[node["id"]][1],
                "flags": {}, "order": order, "mode": 0,
                "inputs": [{"name": name, "type": kind, "link": link_of[name],
                            **({"widget": {"name": name}} if name in node["widgets"] else {})}
                           for name, (_, _, kind) in node["inputs"].items()],
                "outputs": [{"name": name, "type": kind, "slot_index": slot,
                             "links": outgoing.get((node["id"], slot), [])}
                            for slot, (name, kind) in enumerate(node["outputs"])],
                "properties": {"Node name for S&R": node["type"],
                               **({"models": node["models"]} if node["models"] else {})},
                "widgets_values": widget_values,
            })
        note_id = len(nodes) + 1
        nodes.append({"id": note_id, "type": "MarkdownNote", "title": "About this workflow", "pos": [PAD, TITLE],
                      "size": node_size("MarkdownNote"), "flags": {}, "order": len(nodes), "mode": 0, "inputs": [],
                      "outputs": [], "properties": {}, "widgets_values": [self.note.strip()],
                      "color": "#432", "bgcolor": "#653"})
        return {"last_node_id": note_id, "last_link_id": len(links), "nodes": nodes, "links": links,
                "groups": groups, "config": {}, "extra": {"ds": {"scale": 1.0, "offset": list(VIEW_OFFSET)}},
                "version": 0.4}


def checkpoint_and_prompts(graph: Graph, checkpoint_name: str, text: str,
                           negative_text: str = NEGATIVE_PROMPT) -> tuple[int, int, int]:
    """A checkpoint loader and the prompt and negative prompt on its CLIP; returns their ids."""
    checkpoint = graph.add("CheckpointLoaderSimple", "Load Checkpoint", {"ckpt_name": checkpoint_name},
                           outputs=[("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")])
    positive = graph.add("CLIPTextEncode", "Prompt", {"text": text}, {"clip": (checkpoint, 1, "CLIP")},
                         outputs=[("CONDITIONING", "CONDITIONING")])
    negative = graph.add("CLIPTextEncode", "Negative prompt", {"text": negative_text},
                         {"clip": (checkpoint, 1, "CLIP")}, outputs=[("CONDITIONING", "CONDITIONING")])
    return checkpoint, positive, negative


WIDE_COARSE_UNTIL = 0.8
"""The wide templates run every other window for the first 0.8 of the steps (25 windows a step for the original's
41): seams and distance to the data within 1.02 of every window's on photos, textures and fields
(benchmarks/wide_canvas_frontier.py), 13.09 s for 21.04 s on an H100 (sync_overhead.py --template)."""


def text_to_canvas_inputs(graph: Graph) -> tuple[int, int, int, int]:
    """Checkpoint (the original's SD2-base), prompts and a 3072×512 wide canvas; returns (checkpoint, positive,
    negative, space) ids."""
    checkpoint, positive, negative = checkpoint_and_prompts(graph, SD2_BASE, PROMPT, "")
    space = graph.add("SyncTweediesWideCanvas", "Wide canvas", {"coarse_until": WIDE_COARSE_UNTIL},
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


RAMP = original.CONTROLNET_RAMP


def sampling_of(app: dict, **changes) -> dict:
    """The sampler settings of one of the original's applications (:mod:`synctweedies.original`): guidance, steps,
    synchronized and reference-attention fractions, neighbour attention; ``changes`` are a template's own."""
    return {"cfg": app["guidance_scale"], "steps": app["num_inference_steps"], "sync_end": app["mvd_end"],
            "ref_attention_end": app["ref_attention_end"], "neighbours": True, **changes}


def depth_control(graph: Graph, positive: tuple[int, int], negative: tuple[int, int], hints: tuple[int, int],
                  ramp: bool = False) -> tuple[tuple, tuple]:
    """Depth ControlNet on both prompts from per-view ``hints``: constant strength 0.7 (the original's panorama),
    or with ``ramp`` the original's mesh and Gaussian schedule (0.7, then 0.9 falling to 0.7); returns the
    conditionings."""
    control = graph.add("ControlNetLoader", "Load ControlNet", {"control_net_name": DEPTH_CONTROLNET},
                        outputs=[("CONTROL_NET", "CONTROL_NET")])
    inputs = {"positive": (*positive, "CONDITIONING"), "negative": (*negative, "CONDITIONING"),
              "control_net": (control, 0, "CONTROL_NET"), "image": (*hints, "IMAGE")}
    outputs = [("positive", "CONDITIONING"), ("negative", "CONDITIONING")]
    if ramp:
        apply = graph.add("SyncTweediesControlNetRamp", "Depth ControlNet (ramped)", {}, inputs, outputs=outputs)
    else:
        apply = graph.add("ControlNetApplyAdvanced", "Apply depth ControlNet",
                          {"strength": RAMP["conditioning_scale"], "end_percent": RAMP["control_guidance_end"]},
                          inputs, outputs=outputs)
    return (apply, 0), (apply, 1)


def sync_sampler(graph: Graph, checkpoint: int, positive: tuple[int, int], negative: tuple[int, int], space: int,
                 rgb: bool = False, latent: tuple[int, int] | None = None, neighbours: bool = False,
                 title: str = "SyncTweedies Sampler", **changes) -> int:
    """The one-node SyncTweedies Sampler (euler, the DDIM step, on the ddim_uniform schedule, the original's
    timesteps; its other widgets as ``changes`` gives them or at their defaults); ``rgb`` averages x0 through the
    VAE; ``latent`` (with ``denoise`` < 1) is the start for editing; ``neighbours`` turns on the original's
    neighbour-view attention."""
    inputs = {"model": (checkpoint, 0, "MODEL"), "positive": (*positive, "CONDITIONING"),
              "negative": (*negative, "CONDITIONING"), "space": (space, 0, "SYNCTWEEDIES_SPACE")}
    if latent is not None:
        inputs["latent_image"] = (*latent, "LATENT")
    if rgb:
        inputs["vae"] = (checkpoint, 2, "VAE")
    return graph.add(
        "SyncTweediesSampler", title,
        {"scheduler": "ddim_uniform", "neighbour_attention": neighbours, **changes}, inputs,
        outputs=[("views", "LATENT")])


WIDE_SAMPLING = sampling_of(original.WIDE_IMAGE, sync_end=1.0)
"""The original's wide image: guidance 7.5, synchronized to the end (its README's --mvd_end 1.0), cross-view
attention (reference until 0.2, neighbours always)."""


def wide_image() -> Graph:
    """The one-node sampler: the simplest wide-image graph."""
    graph = Graph()
    checkpoint, positive, negative, space = text_to_canvas_inputs(graph)
    sampler = sync_sampler(graph, checkpoint, (positive, 0), (negative, 0), space, **WIDE_SAMPLING)
    decode_and_save(graph, checkpoint, (sampler, 0), space, "wide_image")
    return graph


def wide_image_advanced() -> Graph:
    """The guider with the host's SamplerCustomAdvanced, sampler and scheduler nodes."""
    graph = Graph()
    checkpoint, positive, negative, space = text_to_canvas_inputs(graph)
    guider = graph.add("SyncTweediesGuider", "SyncTweedies Guider",
                       {"cfg": WIDE_SAMPLING["cfg"], "sync_end": WIDE_SAMPLING["sync_end"],
                        "ref_attention_end": WIDE_SAMPLING["ref_attention_end"], "neighbour_attention": True},
                       {"model": (checkpoint, 0, "MODEL"), "positive": (positive, 0, "CONDITIONING"),
                        "negative": (negative, 0, "CONDITIONING"), "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                       outputs=[("GUIDER", "GUIDER")])
    noise = graph.add("SyncTweediesNoise", "Canonical noise", {},
                      {"space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("NOISE", "NOISE")])
    latent = graph.add("SyncTweediesEmptyLatent", "Empty views", {},
                       {"space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("LATENT", "LATENT")])
    sampler = graph.add("KSamplerSelect", "Sampler", {"sampler_name": "euler"}, outputs=[("SAMPLER", "SAMPLER")])
    sigmas = graph.add("BasicScheduler", "Scheduler", {"scheduler": "ddim_uniform", "steps": WIDE_SAMPLING["steps"]},
                       {"model": (checkpoint, 0, "MODEL")}, outputs=[("SIGMAS", "SIGMAS")])
    sample = graph.add("SamplerCustomAdvanced", "SamplerCustomAdvanced", {},
                       {"noise": (noise, 0, "NOISE"), "guider": (guider, 0, "GUIDER"),
                        "sampler": (sampler, 0, "SAMPLER"), "sigmas": (sigmas, 0, "SIGMAS"),
                        "latent_image": (latent, 0, "LATENT")},
                       outputs=[("output", "LATENT"), ("denoised_output", "LATENT")])
    decode_and_save(graph, checkpoint, (sample, 0), space, "wide_image_advanced")
    return graph


def ambiguous_image(two_stage: bool = False) -> Graph:
    """A visual anagram, x0 averaged as images (the VAE into the sampler; latents do not turn with their images),
    at the original's guidance 10: "an oilpainting of a horse" upright, "... a snowy mountain village" turned
    clockwise, and the animation. With ``two_stage``, the 512 px anagram is enlarged to 1024 px and refined by a
    second synchronized pass from denoise 0.5 (the original's second, upscaling stage; any model can do it)."""
    graph = Graph()
    checkpoint = graph.add("CheckpointLoaderSimple", "Load Checkpoint",
                           {"ckpt_name": SD15},
                           outputs=[("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")])
    prompts = [graph.add("CLIPTextEncode", title, {"text": text}, {"clip": (checkpoint, 1, "CLIP")},
                         outputs=[("CONDITIONING", "CONDITIONING")])
               for title, text in (("Prompt upright", "an oilpainting of a horse"),
                                   ("Prompt turned", "an oilpainting of a snowy mountain village"),
                                   ("Negative prompt", ""))]
    per_view = {"positive_1": (prompts[0], 0, "CONDITIONING"), "positive_2": (prompts[1], 0, "CONDITIONING")}
    anagram_outputs = [("space", "SYNCTWEEDIES_SPACE"), ("positive", "CONDITIONING")]
    space = graph.add("SyncTweediesAnagramViews", "Anagram views", {}, per_view, outputs=anagram_outputs)
    settings = original.AMBIGUOUS_IMAGE
    anagram = {"steps": settings["num_inference_steps"], "cfg": settings["guidance_scale"]}
    sampler = sync_sampler(graph, checkpoint, (space, 1), (prompts[2], 0), space, seed=1, rgb=True,
                           initial_noise="per view", **anagram)
    name = "ambiguous_image_1024" if two_stage else "ambiguous_image"
    if two_stage:
        first = graph.add("SyncTweediesDecode", "Decode 512 px", {},
                          {"vae": (checkpoint, 2, "VAE"), "samples": (sampler, 0, "LATENT"),
                           "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                          outputs=[("canvas", "IMAGE"), ("views", "IMAGE")])
        larger = graph.add("ImageScaleBy", "Enlarge 2x", {"upscale_method": "lanczos", "scale_by": 2.0},
                           {"image": (first, 0, "IMAGE")}, outputs=[("IMAGE", "IMAGE")])
        space = graph.add("SyncTweediesAnagramViews", "Anagram views 1024 px", {"size": 1024}, per_view,
                          outputs=anagram_outputs)
        start = graph.add("SyncTweediesEncode", "Encode 1024 px", {},
                          {"vae": (checkpoint, 2, "VAE"), "image": (larger, 0, "IMAGE"),
                           "space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("views", "LATENT")])
        sampler = sync_sampler(graph, checkpoint, (space, 1), (prompts[2], 0), space, seed=1, rgb=True,
                               denoise=0.5, latent=(start, 0), title="SyncTweedies Sampler 1024 px",
                               initial_noise="per view", **anagram)
    decode = decode_and_save(graph, checkpoint, (sampler, 0), space, name)
    graph.add("SyncTweediesAnagramAnimation", "Animation", {"filename_prefix": f"SyncTweedies/{name}_animation"},
              {"canvas": (decode, 0, "IMAGE"), "space": (space, 0, "SYNCTWEEDIES_SPACE")},
              outputs=[("frames", "IMAGE")])
    return graph


PANORAMA_PROMPT = PREFIX + "An old looking library"
PANORAMA_SAMPLING = sampling_of(original.PANORAMA)
"""The original's panorama config: guidance 25, mvd_end 0.8, ref_attention_end 0.2, neighbour attention."""


def panorama(depth: bool = False) -> Graph:
    """A 360° panorama from a prompt, x0 averaged in RGB (the VAE into the sampler); optionally depth-guided."""
    graph = Graph()
    checkpoint, positive, negative = checkpoint_and_prompts(graph, SD15, PANORAMA_PROMPT)
    space = graph.add("SyncTweediesPanorama", "360 panorama", {},
                      outputs=[("space", "SYNCTWEEDIES_SPACE")])
    conditioning = (positive, 0), (negative, 0)
    if depth:
        hints = graph.add("SyncTweediesPanoramaDepth", "Depth views", {"depth_map": "example: room_depth.png"},
                          {"space": (space, 0, "SYNCTWEEDIES_SPACE")},
                          outputs=[("view_hints", "IMAGE"), ("equirect", "IMAGE")])
        conditioning = depth_control(graph, (positive, 0), (negative, 0), (hints, 0))
    sampler = sync_sampler(graph, checkpoint, *conditioning, space, rgb=True, **PANORAMA_SAMPLING)
    name = "panorama_depth" if depth else "panorama"
    decode = graph.add("SyncTweediesDecode", "Decode and stitch", {},
                       {"vae": (checkpoint, 2, "VAE"), "samples": (sampler, 0, "LATENT"),
                        "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                       outputs=[("canvas", "IMAGE"), ("views", "IMAGE")])
    graph.add("SyncTweediesSavePanorama", "Save 360 panorama", {"filename_prefix": f"SyncTweedies/{name}"},
              {"images": (decode, 0, "IMAGE")})
    graph.add("SaveImage", "Save views", {"filename_prefix": f"SyncTweedies/{name}_views"},
              {"images": (decode, 1, "IMAGE")})
    return graph


VASE_PROMPT = "A blue and white porcelain vase with painted flowers"
"""The mesh template's prompt, for its example mesh (the original's own default prompt is for its turtle)."""
MESH_SAMPLING = sampling_of(original.MESH)
"""The original's mesh defaults: guidance 15.5, mvd_end 0.8, ref_attention_end 0.2, neighbour attention."""


def mesh_texturing(edit: bool = False) -> Graph:
    """A mesh's texture from a prompt: the orbit rig, per-view prompts, depth ControlNet on the original's ramp,
    SyncTweedies Sampler, the texture, a .glb and a turntable.

    With ``edit``, the mesh's own texture is encoded into the views and denoised from the original's
    ``--sdedit_timestep 0.2`` (which counts from pure noise): 24 steps at denoise 0.8 run the last 24 of the
    original's 30-step schedule (from t = 760), each view from its own noise, as the original.
    """
    graph = Graph()
    checkpoint = graph.add("CheckpointLoaderSimple", "Load Checkpoint",
                           {"ckpt_name": SD15},
                           outputs=[("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")])
    space = graph.add("SyncTweediesMesh", "Mesh",
                      {"mesh": "example: vase.obj"},
                      {"vae": (checkpoint, 2, "VAE")},
                      outputs=[("space", "SYNCTWEEDIES_SPACE"), ("texture", "IMAGE")])
    prompts = graph.add("SyncTweediesMeshViewPrompts", "View prompts",
                        {"text": "A Chinese style lantern" if edit else PREFIX + VASE_PROMPT},
                        {"clip": (checkpoint, 1, "CLIP"), "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                        outputs=[("positive", "CONDITIONING"), ("negative", "CONDITIONING")])
    hints = graph.add("SyncTweediesMeshHints", "Depth and normal views", {},
                      {"space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("depth", "IMAGE"), ("normal", "IMAGE")])
    conditioning = depth_control(graph, (prompts, 0), (prompts, 1), (hints, 0), ramp=True)
    if edit:
        start = graph.add("SyncTweediesEncode", "Encode texture", {},
                          {"vae": (checkpoint, 2, "VAE"), "image": (space, 1, "IMAGE"),
                           "space": (space, 0, "SYNCTWEEDIES_SPACE")}, outputs=[("views", "LATENT")])
        kept = 1 - original.SDEDIT_TIMESTEP  # the last 80 % of the original's steps, from noise per view
        sampler = sync_sampler(graph, checkpoint, *conditioning, space, latent=(start, 0),
                               **{**MESH_SAMPLING, "steps": round(MESH_SAMPLING["steps"] * kept)}, denoise=kept,
                               initial_noise="per view")
    else:
        sampler = sync_sampler(graph, checkpoint, *conditioning, space, **MESH_SAMPLING)
    name = "mesh_edit" if edit else "mesh"
    decode = decode_and_save(graph, checkpoint, (sampler, 0), space, f"{name}_texture")
    saved = graph.add("SyncTweediesSaveTexturedMesh", "Save textured mesh", {"filename_prefix": f"SyncTweedies/{name}"},
                      {"texture": (decode, 0, "IMAGE"), "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                      outputs=[("path", "STRING"), ("model_file", "STRING")])
    graph.add("Preview3D", "Preview 3D", {}, {"model_file": (saved, 1, "STRING")})
    graph.add("SyncTweediesMeshTurntable", "Turntable", {"filename_prefix": f"SyncTweedies/{name}_turntable"},
              {"texture": (decode, 0, "IMAGE"), "space": (space, 0, "SYNCTWEEDIES_SPACE")},
              outputs=[("frames", "IMAGE")])
    return graph


def gaussians() -> Graph:
    """Recolour a 3DGS scene: its cameras' views, depth ControlNet, RGB averaging; saves the .ply, views, turntable."""
    graph = Graph()
    checkpoint, positive, negative = checkpoint_and_prompts(
        graph, SD15, PREFIX + "A photo of majestic red throne, adorned with gold accents")
    space = graph.add("SyncTweediesGaussians", "3D Gaussians",
                      {"ply": "example: gaussians.ply"},
                      outputs=[("space", "SYNCTWEEDIES_SPACE"), ("depth", "IMAGE")])
    conditioning = depth_control(graph, (positive, 0), (negative, 0), (space, 1), ramp=True)
    sampler = sync_sampler(graph, checkpoint, *conditioning, space, rgb=True, **sampling_of(original.GAUSSIANS))
    decode = graph.add("SyncTweediesDecode", "Decode and fit colours", {},
                       {"vae": (checkpoint, 2, "VAE"), "samples": (sampler, 0, "LATENT"),
                        "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                       outputs=[("canvas", "IMAGE"), ("views", "IMAGE")])
    graph.add("SaveImage", "Save views", {"filename_prefix": "SyncTweedies/gaussians_views"},
              {"images": (decode, 1, "IMAGE")})
    graph.add("SyncTweediesSaveGaussians", "Save Gaussians", {},
              {"colours": (decode, 0, "IMAGE"), "space": (space, 0, "SYNCTWEEDIES_SPACE")},
              outputs=[("path", "STRING")])
    graph.add("SyncTweediesGaussiansTurntable", "Turntable", {},
              {"colours": (decode, 0, "IMAGE"), "space": (space, 0, "SYNCTWEEDIES_SPACE")},
              outputs=[("frames", "IMAGE")])
    return graph


UPSCALE_PROMPT = "high quality, detailed, sharp focus"


def upscale() -> Graph:
    """Upscale an image 2x: enlarge it (lanczos), cover it with 512 px windows overlapping by 128 px, encode them,
    and refine them together at denoise 0.35, each window held to its cut of the image by a tile ControlNet."""
    graph = Graph()
    checkpoint, positive, negative = checkpoint_and_prompts(graph, SD15, UPSCALE_PROMPT)
    image = graph.add("LoadImage", "Load Image", {"image": "example.png"},
                      outputs=[("IMAGE", "IMAGE"), ("MASK", "MASK")])
    control = graph.add("ControlNetLoader", "Load tile ControlNet", {"control_net_name": TILE_CONTROLNET},
                        outputs=[("CONTROL_NET", "CONTROL_NET")])
    larger = graph.add("ImageScaleBy", "Enlarge 2x", {"upscale_method": "lanczos", "scale_by": 2.0},
                       {"image": (image, 0, "IMAGE")}, outputs=[("IMAGE", "IMAGE")], stage=1)
    space = graph.add("SyncTweediesImageCanvas", "Image canvas", {}, {"image": (larger, 0, "IMAGE")},
                      outputs=[("space", "SYNCTWEEDIES_SPACE")])
    start = graph.add("SyncTweediesEncode", "Encode windows", {},
                      {"vae": (checkpoint, 2, "VAE"), "image": (larger, 0, "IMAGE"),
                       "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                      outputs=[("views", "LATENT"), ("view_images", "IMAGE")], stage=2)
    apply = graph.add("ControlNetApplyAdvanced", "Apply tile ControlNet", {},
                      {"positive": (positive, 0, "CONDITIONING"), "negative": (negative, 0, "CONDITIONING"),
                       "control_net": (control, 0, "CONTROL_NET"), "image": (start, 1, "IMAGE")},
                      outputs=[("positive", "CONDITIONING"), ("negative", "CONDITIONING")])
    sampler = graph.add("SyncTweediesSampler", "SyncTweedies Sampler", {"steps": 20, "denoise": 0.35},
                        {"model": (checkpoint, 0, "MODEL"), "positive": (apply, 0, "CONDITIONING"),
                         "negative": (apply, 1, "CONDITIONING"), "space": (space, 0, "SYNCTWEEDIES_SPACE"),
                         "latent_image": (start, 0, "LATENT")}, outputs=[("views", "LATENT")])
    decode = graph.add("SyncTweediesDecode", "Decode and stitch", {},
                       {"vae": (checkpoint, 2, "VAE"), "samples": (sampler, 0, "LATENT"),
                        "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                       outputs=[("canvas", "IMAGE"), ("views", "IMAGE")])
    graph.add("SaveImage", "Save upscaled", {"filename_prefix": "SyncTweedies/upscale"},
              {"images": (decode, 0, "IMAGE")})
    return graph


TEXTURE_PROMPT = PREFIX + "A photo of mossy cobblestones seen from above, seamless texture"


def seamless_texture() -> Graph:
    """A 1024 px texture that tiles in both directions: a canvas that wraps left to right and top to bottom (a
    torus), 512 px windows every 128 px; saves the texture and previews it tiled 2x2.

    The stride is where the exact denoiser's seams settle (tests/library/test_tiling_templates.py): every 128 px,
    border jumps of 0.98 (textures) and 1.03 (smooth fields); photos, which do not tile, need 64 px (1.01; 1.23 at
    128 px, 1.74 at 256 px)."""
    graph = Graph()
    checkpoint, positive, negative = checkpoint_and_prompts(graph, SD15, TEXTURE_PROMPT)
    space = graph.add("SyncTweediesWideCanvas", "Texture canvas",
                      {"width": 1024, "height": 1024, "stride": 128, "wrap": True, "wrap_vertical": True},
                      outputs=[("space", "SYNCTWEEDIES_SPACE")])
    sampler = sync_sampler(graph, checkpoint, (positive, 0), (negative, 0), space, steps=30)
    decode = graph.add("SyncTweediesDecode", "Decode and stitch", {},
                       {"vae": (checkpoint, 2, "VAE"), "samples": (sampler, 0, "LATENT"),
                        "space": (space, 0, "SYNCTWEEDIES_SPACE")},
                       outputs=[("canvas", "IMAGE"), ("views", "IMAGE")])
    graph.add("SaveImage", "Save texture", {"filename_prefix": "SyncTweedies/seamless_texture"},
              {"images": (decode, 0, "IMAGE")})
    graph.add("SyncTweediesTiledPreview", "Tiled 2x2", {}, {"image": (decode, 0, "IMAGE")},
              outputs=[("tiled", "IMAGE")])
    return graph


WORKFLOWS = {"wide_image": wide_image, "wide_image_advanced": wide_image_advanced, "ambiguous_image": ambiguous_image,
             "ambiguous_image_1024": lambda: ambiguous_image(two_stage=True),
             "panorama": panorama, "panorama_depth": lambda: panorama(depth=True), "mesh_texturing": mesh_texturing,
             "mesh_texture_editing": lambda: mesh_texturing(edit=True), "gaussians": gaussians, "upscale": upscale,
             "seamless_texture": seamless_texture}


COMMON = """
**Run:** Queue. Images go to `ComfyUI/output/SyncTweedies/`; nothing is overwritten.
**Slow or out of memory?** Lower `views_per_batch` on the sampler (0 = as many views per model call as fit).
"""
NOTES = {
    "wide_image": f"""
## Wide image (SyncTweedies)
One 3072×512 image from a 512 px model: 41 overlapping 512 px views denoised together, their x0 averaged on the
canvas each step (mode 2), as the original's wide-image run.

**Model**
{model_line(SD2_BASE)} (the original's; any SD1.x/SD2.x checkpoint works)

**Time:** about 15 s on a recent GPU (50 steps); hours on a CPU.
""",
    "wide_image_advanced": f"""
## Wide image with the host's sampler nodes
The wide image of `wide_image`, built from the SyncTweedies Guider, Canonical noise and Empty views with the
host's SamplerCustomAdvanced, KSamplerSelect and BasicScheduler: any sampler and scheduler.

**Model**
{model_line(SD2_BASE)}

**Time:** about 15 s on a recent GPU.
""",
    "ambiguous_image": f"""
## Ambiguous image (visual anagram)
One 512 px image that reads as *a horse* upright and as *a snowy mountain village* turned a quarter clockwise; the
views' x0 are averaged as images (the VAE goes into the sampler), with an animation of the turn.

**Model**
{model_line(SD15)} (the original uses DeepFloyd IF; any image model works)

**Time:** a few seconds on a GPU.
""",
    "ambiguous_image_1024": f"""
## Ambiguous image, 1024 px in two passes
The 512 px anagram, enlarged 2× and refined by a second synchronized pass from denoise 0.5 (the original's
second, upscaling stage).

**Model**
{model_line(SD15)}

**Time:** about 20 s on a GPU.
""",
    "panorama": f"""
## 360° panorama
An equirectangular 2048×1024 panorama from 8 perspective views (45° apart, FOV 72°) averaged on the RGB canvas;
the Save node shows it in a 360° viewer (drag to look around).

**Model**
{model_line(SD15)}

**Time:** about 5 s on a GPU (RGB averaging decodes and encodes the views every step; connect a TAESD VAE to
`draft_vae` for a faster draft).
""",
    "panorama_depth": f"""
## 360° panorama guided by a depth map
The panorama, each view guided by its cut of a 360° depth map through a depth ControlNet (the original's
panorama).

**Models**
{model_line(SD15)}
{model_line(DEPTH_CONTROLNET)}

**Input:** starts from the pack's `example: room_depth.png` (a box-shaped room). The original's
[`cf726b6c0144425282245b34fc4efdca_depth.dpt`]({DATA}/panorama) (from 360MonoDepth) or any `.dpt`, `.exr`,
16-bit `.png` or `.npy` 360° depth map → `ComfyUI/input/`, then pick it in *Depth views*.

**Time:** about 10 s on a GPU.
""",
    "mesh_texturing": f"""
## Mesh texturing
A UV texture for a mesh from 10 views around it (8 around, 2 above), synchronized in the texture, with depth
ControlNet and per-view direction prompts; saves a textured `.glb` (shown in Preview 3D) and a turntable.

**Models**
{model_line(SD15)}
{model_line(DEPTH_CONTROLNET)}

**Input:** starts from the pack's `example: vase.obj`, with a prompt for a vase. The original's
[`turtle.obj`]({DATA}/mesh) (its prompt: "A hand carved wood turtle") or any .obj/.glb/.gltf/.ply with UVs (or tick
`mesh_autouv`) → `ComfyUI/input/`, then pick it in *Mesh* and say what it is in *View prompts*.

**Time:** about 30 s on a GPU.
""",
    "mesh_texture_editing": f"""
## Mesh texture editing (SDEdit)
Repaints a textured mesh from its own texture: the last 24 of 30 steps (denoise 0.8, from t = 760), each view
from its own noise, as the original's `--sdedit_timestep 0.2`.

**Models**
{model_line(SD15)}
{model_line(DEPTH_CONTROLNET)}

**Input:** starts from the pack's textured `example: vase.obj`. The original's lantern,
[`mesh.obj`, `mesh.mtl`, `mesh_texture.png`]({DATA}/mesh/sdedit) → `ComfyUI/input/`, then pick `mesh.obj`.

**Time:** about 30 s on a GPU.
""",
    "gaussians": f"""
## 3D Gaussian colours
Recolours a 3D Gaussian splatting scene seen by its cameras, the colours fitted to the synchronized views at every
step; saves the `.ply` (any 3DGS viewer) and a turntable. As it opens, the example scene is seen by an orbit of 10
cameras; with a camera file (the original's chair cameras), by 50 of its cameras (`total_image_to_use`), as the
original.

**Models**
{model_line(SD15)}
{model_line(DEPTH_CONTROLNET)}

**Inputs:** starts from the pack's `example: gaussians.ply` seen by an orbit of cameras. The original's
[`chair.ply`]({DATA}/gaussians) → `ComfyUI/input/` with its cameras
[`chair/transforms_test.json`]({DATA}/gaussians/chair) → `ComfyUI/input/chair/`, then pick both.

**Time:** about 2 minutes on a GPU with `pip install gsplat`; far longer without (the reference renderer).
""",
    "upscale": f"""
## Upscale an image 2x
Your image, enlarged 2x (lanczos) and refined by the model over 512 px windows that overlap by 128 px: every
window is denoised from 0.35 (its details redrawn, its layout kept) and held to its cut of the image by a tile
ControlNet, and the windows' x0 are averaged on the whole image at every step, so no seam shows. Any image size
works; large ones take more windows, not more memory per window.

**Models**
{model_line(SD15)} (any SD1.x checkpoint; for SDXL use an SDXL tile ControlNet and 1024 px windows)
{model_line(TILE_CONTROLNET)}

**Input:** *Load Image* starts on ComfyUI's own `example.png`; pick or upload yours. With an upscale model
(ESRGAN and the like), put *Load Upscale Model* and *Upscale Image (using Model)* in place of *Enlarge 2x*.

**Time:** grows with the image's area: 2048² → 4096² px (121 windows) takes about 23 s on an H100, as
TiledDiffusion does and a third of Ultimate SD Upscale's time (the pack's benchmarks/README.md).
""",
    "seamless_texture": f"""
## Seamless texture
A 1024×1024 texture that tiles in both directions: the canvas wraps left to right and top to bottom, so windows
that run over an edge continue on the other side, and the texture's borders meet without a seam. *Tiled 2x2*
shows four copies side by side to check.

**Model**
{model_line(SD15)}

**Time:** about 12 s on a recent GPU (64 windows, 30 steps). For content that does not repeat by nature (a
scene rather than a material), a stride of 64 px hides the seams better (4x the windows).
""",
}
"""The note on each workflow: what it makes, the files it needs and where they go, the time it takes."""


def render() -> dict[str, str]:
    """File name → JSON text of every bundled workflow and its API twin."""
    files = {}
    for name, build in WORKFLOWS.items():
        graph = build()
        graph.note = NOTES[name] + COMMON
        files[f"{name}.json"] = json.dumps(graph.ui(), indent=2) + "\n"
        files[f"api/{name}.json"] = json.dumps(graph.api(), indent=2) + "\n"
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widgets-from", metavar="URL",
                        help="first read the node schemas from a running ComfyUI with this pack into "
                             "layout/widgets.json")
    options = parser.parse_args()
    if options.widgets_from:
        with urllib.request.urlopen(f"{options.widgets_from.rstrip('/')}/object_info", timeout=120) as response:
            WIDGETS.clear()
            WIDGETS.update(used_widgets(json.load(response)))
        WIDGETS_FILE.write_text(json.dumps(WIDGETS, indent=1) + "\n")
        print(f"wrote workflows/layout/{WIDGETS_FILE.name}")
    for file_name, text in render().items():
        (HERE / file_name).write_text(text)
        print(f"wrote workflows/{file_name}")


if __name__ == "__main__":
    main()
