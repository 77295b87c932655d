"""Bundled workflows queued over HTTP on a real ComfyUI server with the pack installed."""
import asyncio
import json
import re
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synctweedies.comfyui_api import run_workflow
from synctweedies.comfyui_client import apply_overrides
from synctweedies import WideCanvas

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
TINY = "Load Checkpoint.ckpt_name=tiny_sd15.safetensors"
CPU_SIZE = ["Wide canvas.width=256", "Wide canvas.height=64", "Wide canvas.window=64", "Wide canvas.stride=32", TINY]
STEPS = {"wide_image": ["SyncTweedies Sampler.steps=3"], "wide_image_advanced": ["Scheduler.steps=3"]}


@pytest.fixture(scope="module")
def object_info(server) -> dict:
    with urllib.request.urlopen(f"{server}/object_info", timeout=60) as response:
        return json.load(response)


def ui_workflows() -> list[Path]:
    return sorted(path for path in WORKFLOWS.glob("*.json"))


def test_bundled_workflows_are_the_generated_ones():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_workflows", WORKFLOWS / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for name, text in build.render().items():
        assert (WORKFLOWS / name).read_text() == text, f"{name} is stale: run python workflows/build.py"
    assert {p.stem for p in ui_workflows()} == set(build.WORKFLOWS)


def test_the_workflow_builder_reads_the_widgets_the_host_serves(object_info):
    """``workflows/layout/widgets.json`` (each node's widgets, order and defaults, which ``build.py`` writes the
    workflows from) is what the host serves now: refresh it with ``build.py --widgets-from URL`` when a node
    changes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_workflows", WORKFLOWS / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert build.WIDGETS == build.used_widgets(object_info), "stale: run python workflows/build.py --widgets-from URL"


def widget_names(info: dict) -> list[str]:
    """Names of a node's widget inputs in order, with the extra value control_after_generate adds."""
    names = []
    for section in ("required", "optional"):
        for name, spec in info["input"].get(section, {}).items():
            kind = spec[0]
            options = spec[1] if len(spec) > 1 else {}
            if isinstance(kind, list) or kind in ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"):
                if options.get("forceInput"):
                    continue
                names.append(name)
                if options.get("control_after_generate"):
                    names.append(f"{name} control")
    return names


def test_the_template_browser_lists_each_ui_workflow_once_with_its_thumbnail(server):
    listed = json.loads(urllib.request.urlopen(f"{server}/workflow_templates", timeout=30).read())
    names = sorted(listed["ComfyUI-SyncTweedies"])
    assert names == sorted(path.stem for path in ui_workflows()), "no API twin or helper file is listed"
    for name in names:
        response = urllib.request.urlopen(f"{server}/api/workflow_templates/ComfyUI-SyncTweedies/{name}.jpg",
                                          timeout=30)
        assert response.headers["Content-Type"] == "image/jpeg" and response.read(3) == b"\xff\xd8\xff"


@pytest.mark.parametrize("path", ui_workflows(), ids=lambda p: p.stem)
def test_every_node_and_link_type_exists_in_the_host(object_info, path):
    workflow = json.loads(path.read_text())
    nodes = {node["id"]: node for node in workflow["nodes"]}
    for node in nodes.values():
        if node["type"] == "MarkdownNote":  # the frontend's own note, not a server node
            continue
        assert node["type"] in object_info, f"{path.name}: no node type {node['type']} in the host"
        info = object_info[node["type"]]
        assert len(node["widgets_values"]) == len(widget_names(info)), f"{path.name}: widgets of {node['type']}"
    for _, source, slot, target, target_slot, kind in workflow["links"]:
        assert object_info[nodes[source]["type"]]["output"][slot] == kind
        target_input = nodes[target]["inputs"][target_slot]["name"]
        spec = {**object_info[nodes[target]["type"]]["input"]["required"],
                **object_info[nodes[target]["type"]]["input"].get("optional", {})}[target_input]
        assert spec[0] == kind, f"{path.name}: {kind} linked into {nodes[target]['type']}.{target_input}"


@pytest.mark.parametrize("name", sorted(STEPS))
def test_api_workflow_runs_and_the_canvas_agrees_with_the_views(server, tmp_path, name):
    workflow = json.loads((WORKFLOWS / "api" / f"{name}.json").read_text())
    workflow = apply_overrides(workflow, CPU_SIZE + STEPS[name])
    saved = asyncio.run(run_workflow(workflow, server.removeprefix("http://"), tmp_path, progress=False,
                                     timeout=600))
    canvases = [p for p in saved if not p.stem.startswith(f"{name}_views")]
    views = sorted(p for p in saved if p.stem.startswith(f"{name}_views"))
    space = WideCanvas(64, 256, 64, 32)
    assert len(canvases) == 1 and len(views) == space.num_views
    canvas = np.asarray(Image.open(canvases[0]), dtype=np.float32) / 255
    assert canvas.shape == (64, 256, 3)
    for index, view_path in enumerate(views):
        view = np.asarray(Image.open(view_path), dtype=np.float32) / 255
        left = index * 32
        assert np.abs(canvas[:, left:left + 64] - view).mean() < 0.03, f"view {index} differs from its canvas crop"


@pytest.mark.parametrize("name, size", [("ambiguous_image", 64), ("ambiguous_image_1024", 128)])
def test_ambiguous_image_workflows_write_the_image_its_views_and_the_animation(server, tmp_path, name, size):
    """The one-stage anagram, and the two-stage one whose second pass refines the enlarged image (CPU sizes: 64 px,
    then 128 px)."""
    workflow = json.loads((WORKFLOWS / "api" / f"{name}.json").read_text())
    workflow = apply_overrides(workflow, [TINY, "Anagram views.size=64", "SyncTweedies Sampler.steps=3",
                                          "Animation.frames_per_turn=4", "Animation.hold=1"] + (
        ["Anagram views 1024 px.size=128", "SyncTweedies Sampler 1024 px.steps=2"] if size == 128 else []))
    saved = asyncio.run(run_workflow(workflow, server.removeprefix("http://"), tmp_path, progress=False,
                                     timeout=600))
    by_kind = {kind: sorted(p for p in saved if re.fullmatch(f"{name}{kind}_\\d+_", p.stem))
               for kind in ("", "_views", "_animation")}
    assert [len(paths) for paths in by_kind.values()] == [1, 2, 1]
    canvas = np.asarray(Image.open(by_kind[""][0]), dtype=np.float32) / 255
    upright, turned = (np.asarray(Image.open(p), dtype=np.float32) / 255 for p in by_kind["_views"])
    assert canvas.shape == (size, size, 3)
    assert np.abs(upright - canvas).mean() < 0.01 and np.abs(turned - np.rot90(canvas, -1)).mean() < 0.01
    with Image.open(by_kind["_animation"][0]) as animation:
        assert animation.format == "WEBP" and animation.is_animated and animation.n_frames > 2


PANORAMA_CPU = [TINY, "360 panorama.view_size=64", "360 panorama.latent_height=16", "360 panorama.rgb_height=64",
                "SyncTweedies Sampler.steps=2"]
DEPTH_CPU = ["Load ControlNet.control_net_name=tiny_controlnet.safetensors"]
"""The templates' own inputs (the pack's examples): no file added by hand but the random-weight models."""


@pytest.mark.parametrize("name, overrides", [("panorama", PANORAMA_CPU), ("panorama_depth", PANORAMA_CPU + DEPTH_CPU)])
def test_panorama_workflows_write_a_360_file_and_the_views(server, tmp_path, name, overrides):
    workflow = apply_overrides(json.loads((WORKFLOWS / "api" / f"{name}.json").read_text()), overrides)
    saved = asyncio.run(run_workflow(workflow, server.removeprefix("http://"), tmp_path, progress=False,
                                     timeout=600))
    panoramas = [p for p in saved if re.fullmatch(f"{name}_\\d+_", p.stem)]
    views = [p for p in saved if re.fullmatch(f"{name}_views_\\d+_", p.stem)]
    assert len(panoramas) == 1 and panoramas[0].suffix == ".jpg" and len(views) == 8
    with Image.open(panoramas[0]) as image:
        assert image.size == (128, 64)
        assert b'GPano:ProjectionType="equirectangular"' in image.info["xmp"]


@pytest.mark.parametrize("name", ["mesh", "mesh_edit"])
def test_mesh_workflows_write_the_texture_a_glb_and_a_turntable(server, models_dir, tmp_path, name):
    import pygltflib

    file = "mesh_texture_editing" if name == "mesh_edit" else "mesh_texturing"
    workflow = apply_overrides(json.loads((WORKFLOWS / "api" / f"{file}.json").read_text()), [
        TINY, "Mesh.view_size=64", "Mesh.latent_texture=16",
        "Mesh.rgb_texture=64", "SyncTweedies Sampler.steps=2", "Turntable.frames=4", "Turntable.size=32",
        "Load ControlNet.control_net_name=tiny_controlnet.safetensors"])
    saved = asyncio.run(run_workflow(workflow, server.removeprefix("http://"), tmp_path, progress=False,
                                     timeout=600))
    textures = [p for p in saved if re.fullmatch(f"{name}_texture_\\d+_", p.stem)]
    assert len(textures) == 1 and Image.open(textures[0]).size == (64, 64)
    turntables = [p for p in saved if re.fullmatch(f"{name}_turntable_\\d+_", p.stem)]
    assert len(turntables) == 1 and Image.open(turntables[0]).is_animated
    glbs = [p for p in saved if p.suffix == ".glb"]
    assert len(glbs) == 1 and glbs[0].parent == tmp_path / "SyncTweedies", "the queue command saves the .glb too"
    document = pygltflib.GLTF2.load(str(glbs[0]))
    assert len(document.materials) == 1 and document.images[0].mimeType == "image/png"


def test_upscale_workflow_writes_the_enlarged_image_at_its_own_size(server, tmp_path):
    """ComfyUI's example image (75x50 px here) enlarged 2x: 150x100 px, not whole latent pixels, comes back at that
    size after windows of 64 px every 48 px, each with its tile ControlNet hint."""
    workflow = apply_overrides(json.loads((WORKFLOWS / "api" / "upscale.json").read_text()), [
        TINY, "Load tile ControlNet.control_net_name=tiny_controlnet.safetensors", "Image canvas.window=64",
        "Image canvas.stride=48", "SyncTweedies Sampler.steps=2"])
    assert workflow[next(k for k, n in workflow.items() if n["class_type"] == "LoadImage")]["inputs"]["image"] == \
        "example.png", "the template starts on the image a fresh ComfyUI has"
    saved = asyncio.run(run_workflow(workflow, server.removeprefix("http://"), tmp_path, progress=False,
                                     timeout=600))
    assert [p.name.startswith("upscale_") for p in saved] == [True]
    assert Image.open(saved[0]).size == (150, 100)


def test_seamless_texture_workflow_writes_the_texture(server, tmp_path):
    workflow = apply_overrides(json.loads((WORKFLOWS / "api" / "seamless_texture.json").read_text()), [
        TINY, "Texture canvas.width=128", "Texture canvas.height=96", "Texture canvas.window=64",
        "Texture canvas.stride=32", "SyncTweedies Sampler.steps=2"])
    saved = asyncio.run(run_workflow(workflow, server.removeprefix("http://"), tmp_path, progress=False,
                                     timeout=600))
    assert [p.name.startswith("seamless_texture_") for p in saved] == [True]
    assert Image.open(saved[0]).size == (128, 96)


def test_gaussians_workflow_writes_a_recoloured_ply_the_views_and_a_turntable(server, models_dir, tmp_path):
    from synctweedies.gaussians import load_gaussians

    workflow = apply_overrides(json.loads((WORKFLOWS / "api" / "gaussians.json").read_text()), [
        TINY, "3D Gaussians.total_image_to_use=2", "3D Gaussians.view_size=64", "3D Gaussians.iterations=5",
        "3D Gaussians.final_iterations=20",
        "Load ControlNet.control_net_name=tiny_controlnet.safetensors", "SyncTweedies Sampler.steps=2",
        "Turntable.frames=4", "Turntable.size=32"])
    saved = asyncio.run(run_workflow(workflow, server.removeprefix("http://"), tmp_path, progress=False,
                                     timeout=600))
    assert len([p for p in saved if re.fullmatch("gaussians_views_\\d+_", p.stem)]) == 2
    turntables = [p for p in saved if re.fullmatch("gaussians_turntable_\\d+_", p.stem)]
    assert len(turntables) == 1 and Image.open(turntables[0]).is_animated
    plys = [p for p in saved if p.suffix == ".ply"]
    assert len(plys) == 1 and len(load_gaussians(plys[0])) == 6000, "the queue command saves the .ply too"


def test_queue_rejects_a_broken_workflow_with_the_hosts_reason(server):
    from synctweedies.comfyui_api import WorkflowError

    workflow = apply_overrides(json.loads((WORKFLOWS / "api" / "wide_image.json").read_text()),
                               CPU_SIZE + ["Wide canvas.width=250"])
    with pytest.raises(WorkflowError, match="not a multiple of 8"):
        asyncio.run(run_workflow(workflow, server.removeprefix("http://"), None, progress=False, timeout=300))


def test_the_host_serves_the_frontend_extension(server):
    with urllib.request.urlopen(f"{server}/extensions/ComfyUI-SyncTweedies/synctweedies.js", timeout=30) as response:
        assert b"SyncTweedies.WideCanvasViews" in response.read()


def combo_options(object_info: dict, node: str, name: str) -> list[str]:
    """The options of a combo input as /object_info lists them (``[[...], {}]`` or ``["COMBO", {"options"}]``)."""
    kind, *rest = object_info[node]["input"]["required"][name]
    return kind if isinstance(kind, list) else rest[0]["options"]


def test_file_lists_offer_the_packs_examples_and_a_missing_file_says_where_to_get_one(object_info, nodes):
    meshes = combo_options(object_info, "SyncTweediesMesh", "mesh")
    assert "example: vase.obj" in meshes and "example: gaussians.ply" not in meshes, "a Gaussian .ply is no mesh"
    assert "example: gaussians.ply" in combo_options(object_info, "SyncTweediesGaussians", "ply")
    assert "example: room_depth.png" in combo_options(object_info, "SyncTweediesPanoramaDepth", "depth_map")
    with pytest.raises(ValueError, match=r"'turtle.obj' is not a .* file in ComfyUI's input folder \(.*input\)\. "
                                         r"Put it there and pick it from the list or pick the pack's example: "
                                         r"vase.obj\. The original's examples: https://github.com/KAIST"):
        nodes.files.input_path("turtle.obj", "Mesh", (".obj", ".glb", ".gltf", ".ply"))
    with pytest.raises(ValueError, match="is not a"):
        nodes.files.input_path("example: gaussians.ply", "Mesh", (".obj", ".glb", ".gltf", ".ply"))
    for name in ("example: ../README.md", "example: /etc/passwd", "example: vase.mtl"):
        with pytest.raises(ValueError, match="is not a"):
            nodes.files.input_path(name, "Mesh", (".obj",))
