"""Hostile prompts through a real ComfyUI server: paths out of the input folder through every file input and every
reference inside a file, a glTF node cycle, headers declaring far more than their files hold, and a stage that
would run for many minutes. Each ends in a clear error (or a clean interrupt), nothing outside the input folder
is read, and the next good prompt runs."""
import asyncio
import json
import os
import time
import urllib.request
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from PIL import Image

from gaussian_scenes import sphere_scene
from meshes import cube
from synctweedies.depth import write_dpt
from synctweedies.mesh import write_glb, write_obj
from synctweedies.comfyui_api import WorkflowError, run_workflow

CANARY = b"SYNCTWEEDIES-CANARY-0451"
"""Bytes every file outside the input folder carries: a read of one would show them in some output."""


def mesh_prompt(mesh: str) -> dict:
    return {"1": {"class_type": "SyncTweediesMesh", "inputs": {
                "mesh": mesh, "mesh_autouv": False, "mesh_scale": 1.0, "azimuths": "0, 90, 180, 270", "elevation": 0.0,
                "top_views": False, "distance": 4.0, "fov": 40.0, "projection": "perspective", "view_size": 64,
                "latent_texture": 16, "rgb_texture": 64, "background": "none", "shuffle_bg_change": 0.4,
                "shuffle_bg_end": 0.8}},
            "2": {"class_type": "SyncTweediesMeshHints", "inputs": {"space": ["1", 0]}},
            "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
            "4": {"class_type": "PreviewImage", "inputs": {"images": ["1", 1]}}}


def gaussians_prompt(ply: str = "sphere.ply", cameras: str = "orbit (no camera file)", views: int = 4,
                     size: int = 64) -> dict:
    return {"1": {"class_type": "SyncTweediesGaussians", "inputs": {
                "ply": ply, "cameras": cameras, "total_image_to_use": views, "up_vec": "z", "view_size": size,
                "antialiased": True, "background_color": "white", "canonical_domain": "rgb", "iterations": 5,
                "final_iterations": 5, "lr": 0.025, "color_assign_method": "instance", "zt_init": True,
                "force_clean_composition": True, "enable_xyz": False, "enable_opacity": False,
                "enable_covariance": False, "xyz_lr": 0.0003, "opacity_lr": 0.05, "scale_lr": 0.005,
                "quat_lr": 0.001}},
            "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 1]}}}


def depth_prompt(depth_map: str) -> dict:
    return {"1": {"class_type": "SyncTweediesPanorama", "inputs": {
                "theta_start": 0.0, "theta_end": 360.0, "theta_interval": 90.0, "phi_start": 0.0, "phi_end": 1.0,
                "phi_interval": 45.0, "fov": 100.0, "view_size": 64, "latent_height": 16, "rgb_height": 64,
                "feather": True}},
            "2": {"class_type": "SyncTweediesPanoramaDepth", "inputs": {"depth_map": depth_map, "space": ["1", 0]}},
            "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}}


@pytest.fixture(scope="module")
def hostile(models_dir, tmp_path_factory):
    """Canary files outside the input folder, and files inside it that point at them; returns (outside, names)."""
    outside = tmp_path_factory.mktemp("outside")
    inside = models_dir / "input" / "hostile"
    inside.mkdir()
    texture = Image.fromarray(np.frombuffer(CANARY * 8, np.uint8)[:192].reshape(8, 8, 3))
    write_obj(cube(), outside / "canary.obj", texture)
    (outside / "canary.mtl").write_text((outside / "canary.mtl").read_text() + f"# {CANARY.decode()}\n")
    sphere_scene(outside / "canary.ply", count=20)
    write_dpt(outside / "canary.dpt", np.full((32, 64), 2.0, np.float32))
    (outside / "transforms.json").write_text(json.dumps({"camera_angle_x": 0.7, "frames": [
        {"transform_matrix": np.eye(4).tolist()}], "note": CANARY.decode()}))
    (outside / "sparse").mkdir()
    (outside / "sparse" / "cameras.txt").write_text("1 PINHOLE 100 50 80 80 50 25\n")
    (outside / "sparse" / "images.txt").write_text("1 1 0 0 0 0 0 4 1 a.png\n\n")
    (outside / "canary.bin").write_bytes(CANARY * 100)
    (inside / "link.obj").symlink_to(outside / "canary.obj")
    (inside / "link_dir").symlink_to(outside / "sparse", target_is_directory=True)
    relative = os.path.relpath(outside, inside)
    triangle = "v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nf 1/1 2/2 3/3\n"
    (inside / "escape_mtl.obj").write_text(f"mtllib {relative}/canary.mtl\nusemtl canary\n" + triangle)
    (inside / "absolute_mtl.obj").write_text(f"mtllib {outside}/canary.mtl\nusemtl canary\n" + triangle)
    (inside / "own.mtl").write_text(f"newmtl a\nmap_Kd {outside}/canary.png\n")
    (inside / "absolute_texture.obj").write_text("mtllib own.mtl\nusemtl a\n" + triangle)
    cube_glb = write_glb(cube(), outside / "cube.glb", texture)
    for name, uri in (("absolute_buffer.gltf", str(outside / "canary.bin")),
                      ("relative_buffer.gltf", f"{relative}/canary.bin"), ("device_buffer.gltf", "/dev/zero"),
                      ("proc_buffer.gltf", "/proc/self/environ")):
        document = pygltflib.GLTF2.load(str(cube_glb))
        document.set_binary_blob(None)
        document.buffers = [pygltflib.Buffer(uri=uri, byteLength=len(CANARY) * 100)]
        document.save_json(str(inside / name))
    document = pygltflib.GLTF2.load(str(cube_glb))
    document.images[0] = pygltflib.Image(uri=f"{relative}/canary.png", mimeType="image/png")
    document.save_binary(str(inside / "image_uri.glb"))
    document = pygltflib.GLTF2.load(str(cube_glb))
    document.nodes[0].children = [0]
    document.save_binary(str(inside / "cycle.glb"))
    header = ("ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
              "element face 1000000000000\nproperty list uchar int vertex_indices\nend_header\n")
    (inside / "huge.ply").write_text(header + "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n")
    np.save(inside / "huge.npy", np.ones((2, 4), np.float32))
    (inside / "huge.npy").write_bytes((inside / "huge.npy").read_bytes().replace(b"(2, 4)", b"(1000000000000, 4)"))
    return outside


def queue(server: str, prompt: dict, out: Path | None = None, timeout: float = 300) -> list[Path]:
    return asyncio.run(run_workflow(prompt, server.removeprefix("http://"), out, progress=False, timeout=timeout))


def refusal(server: str, prompt: dict) -> str:
    with pytest.raises(WorkflowError) as caught:
        queue(server, prompt)
    return str(caught.value)


def output_bytes(models_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (models_dir / "output").rglob("*") if p.is_file())


FILE_INPUTS = {"mesh": lambda v: mesh_prompt(v), "ply": lambda v: gaussians_prompt(ply=v),
               "cameras": lambda v: gaussians_prompt(cameras=v), "depth_map": lambda v: depth_prompt(v)}


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "absolute missing", "dotdot missing", "link"])
@pytest.mark.parametrize("input_name", list(FILE_INPUTS))
def test_file_inputs_refuse_paths_out_of_the_input_folder_alike(server, models_dir, hostile, input_name, kind):
    target = {"mesh": "canary.obj", "ply": "canary.ply", "cameras": "transforms.json", "depth_map": "canary.dpt"}
    name = target[input_name] if "missing" not in kind else "missing" + Path(target[input_name]).suffix
    value = {"absolute": str(hostile / name), "dotdot": os.path.relpath(hostile / name, models_dir / "input")}.get(
        kind.split()[0], "hostile/link.obj" if input_name == "mesh" else "hostile/link_dir")
    message = refusal(server, FILE_INPUTS[input_name](value))
    assert "the host rejected the workflow" in message and "is not a" in message \
        and "in ComfyUI's input folder" in message, message
    assert "No such file" not in message and "exist" not in message, "nothing is told about paths outside"
    assert CANARY not in output_bytes(models_dir)


@pytest.mark.parametrize("name, message", [
    ("escape_mtl.obj", "escape_mtl.obj refers to '.*canary.mtl', which is not a file beside it"),
    ("absolute_mtl.obj", "absolute_mtl.obj refers to '/.*canary.mtl', which is not a file beside it"),
    ("absolute_texture.obj", "absolute_texture.obj refers to '/.*canary.png', which is not a file beside it"),
    ("absolute_buffer.gltf", "absolute_buffer.gltf refers to '/.*canary.bin', which is not a file beside it"),
    ("relative_buffer.gltf", "relative_buffer.gltf refers to '.*canary.bin', which is not a file beside it"),
    ("device_buffer.gltf", "device_buffer.gltf refers to '/dev/zero', which is not a file beside it"),
    ("proc_buffer.gltf", "proc_buffer.gltf refers to '/proc/self/environ', which is not a file beside it"),
    ("image_uri.glb", "image_uri.glb refers to '.*canary.png', which is not a file beside it"),
    ("cycle.glb", "cycle.glb: its node hierarchy is not a tree"),
    ("huge.ply", "huge.ply declares 1,000,000,000,000 'face' rows"),
])
def test_references_inside_files_and_broken_files_are_refused(server, models_dir, hostile, name, message):
    import re

    text = refusal(server, mesh_prompt(f"hostile/{name}"))
    assert "failed" in text and re.search(message, text), text
    assert CANARY not in output_bytes(models_dir)


def test_an_oversized_npy_header_is_refused_before_any_allocation(server, hostile):
    assert "huge.npy cannot be read as a depth map" in refusal(server, depth_prompt("hostile/huge.npy"))


@pytest.mark.parametrize("prompt, message", [
    (lambda: {**mesh_prompt("cube.obj"), "1": {**mesh_prompt("cube.obj")["1"], "inputs": {
        **mesh_prompt("cube.obj")["1"]["inputs"], "projection": "fisheye"}}}, "projection is 'fisheye'"),
    (lambda: {"1": {"class_type": "SyncTweediesSavePanorama", "inputs": {
        "images": ["2", 0], "filename_prefix": "x", "format": "../../png"}},
              "2": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 32, "batch_size": 1, "color": 0}}},
     "format is '../../png'"),
])
def test_combo_values_outside_their_options_are_refused(server, prompt, message):
    assert message in refusal(server, prompt())


def test_mode_as_an_integer_is_refused(server):
    prompt = {"1": {"class_type": "SyncTweediesGuider", "inputs": {
        "model": ["2", 0], "positive": ["3", 0], "negative": ["3", 0], "cfg": 7.5, "space": ["4", 0], "mode": 2,
        "sync_end": 1.0, "views_per_batch": 0, "ref_attention_end": 0.0}},
              "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny_sd15.safetensors"}},
              "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "x"}},
              "4": {"class_type": "SyncTweediesWideCanvas", "inputs": {"width": 128, "height": 64, "window": 64,
                                                                       "stride": 32, "wrap": False}},
              "5": {"class_type": "SamplerCustomAdvanced", "inputs": {
                  "noise": ["6", 0], "guider": ["1", 0], "sampler": ["7", 0], "sigmas": ["8", 0],
                  "latent_image": ["9", 0]}},
              "6": {"class_type": "SyncTweediesNoise", "inputs": {"noise_seed": 0, "space": ["4", 0]}},
              "7": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
              "8": {"class_type": "BasicScheduler", "inputs": {"model": ["2", 0], "scheduler": "normal", "steps": 2,
                                                               "denoise": 1.0}},
              "9": {"class_type": "SyncTweediesEmptyLatent", "inputs": {"space": ["4", 0]}},
              "10": {"class_type": "PreviewImage", "inputs": {"images": ["11", 0]}},
              "11": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["2", 2]}}}
    assert "mode is 2, which is not one of its options" in refusal(server, prompt)


async def interrupt_during_stage(server: str, prompt: dict) -> tuple[str, float]:
    """Queue ``prompt``, interrupt it once its first node has run a second, and return how it ended and how many
    seconds after the interrupt."""
    import aiohttp

    async with aiohttp.ClientSession(server) as session:
        async with session.ws_connect("/ws?clientId=hostile") as socket:
            async with session.post("/prompt", json={"prompt": prompt, "client_id": "hostile"}) as response:
                prompt_id = (await response.json())["prompt_id"]
            sent = None
            while True:
                message = await socket.receive(timeout=120 if sent else 600)
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                event = json.loads(message.data)
                data = event.get("data", {})
                if data.get("prompt_id") not in (None, prompt_id):
                    continue
                if event["type"] == "executing" and data.get("node") == "1" and sent is None:
                    await asyncio.sleep(1.0)
                    await session.post("/interrupt")
                    sent = time.monotonic()
                if event["type"] in ("execution_interrupted", "execution_success", "execution_error"):
                    return event["type"], time.monotonic() - (sent or time.monotonic())


def test_interrupt_stops_a_stage_that_would_run_for_many_minutes(server, models_dir):
    """1000 cameras of 2048 px rendered by the reference renderer on the CPU: many minutes without the checks."""
    ended, _ = asyncio.run(interrupt_during_stage(server, gaussians_prompt(views=1000, size=2048)))
    assert ended == "execution_interrupted"


def test_the_next_good_prompt_runs_and_the_server_is_alive(server, models_dir, hostile, tmp_path):
    saved = queue(server, mesh_prompt("cube.obj"), tmp_path)
    assert saved == [] or all(p.is_file() for p in saved)
    with urllib.request.urlopen(f"{server}/queue", timeout=30) as response:
        assert json.load(response) == {"queue_running": [], "queue_pending": []}
    assert CANARY not in output_bytes(models_dir)


def canvas_sampling_prompt(size: int, window: int, stride: int) -> dict:
    """A wide canvas sampled by the one-node sampler, the sampler as node "1"."""
    return {"1": {"class_type": "SyncTweediesSampler", "inputs": {
                "model": ["2", 0], "positive": ["3", 0], "negative": ["3", 0], "seed": 0, "steps": 4, "cfg": 5.0,
                "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0, "space": ["4", 0],
                "mode": "2: x0 (SyncTweedies)", "sync_end": 1.0, "views_per_batch": 64}},
            "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny_sd15.safetensors"}},
            "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "x"}},
            "4": {"class_type": "SyncTweediesWideCanvas", "inputs": {"width": size, "height": size, "window": window,
                                                                     "stride": stride, "wrap": False}},
            "5": {"class_type": "SyncTweediesDecode", "inputs": {"vae": ["2", 2], "samples": ["1", 0],
                                                                 "space": ["4", 0]}},
            "6": {"class_type": "PreviewImage", "inputs": {"images": ["5", 0]}}}


def test_a_canvas_of_millions_of_windows_is_refused_before_it_is_built(server):
    message = refusal(server, canvas_sampling_prompt(16384, 64, 8))
    assert "16384x16384 canvas seen through 64x64 windows every 8 pixels has 4,165,681 windows" in message
    assert "more than the 10,000 that can be sampled" in message and "make the canvas smaller" in message
    assert "raise the stride to at least 88 pixels" in refusal(server, canvas_sampling_prompt(8192, 256, 32))


def test_the_largest_canvas_allowed_stops_on_an_interrupt(server, models_dir):
    """10,000 windows (6400 px, window and stride 64): each step is many sub-batched model calls."""
    ended, _ = asyncio.run(interrupt_during_stage(server, canvas_sampling_prompt(6400, 64, 64)))
    assert ended == "execution_interrupted"
