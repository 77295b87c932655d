"""Fixtures for tests that need the ComfyUI host: found, imported, served; skipped when absent."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from gaussian_scenes import sphere_scene
from PIL import Image

from host_support import REPO, load_pack, room_depth, write_tiny_controlnet, write_tiny_sd15
from meshes import cube
from synctweedies.depth import write_dpt
from synctweedies.mesh import write_obj

SHIMS = Path(__file__).resolve().parent / "support" / "host_shims"


def find_host() -> Path | None:
    """The ComfyUI checkout: ``COMFYUI_PATH``, or a parent folder when the pack sits in ``custom_nodes``."""
    candidates = [Path(os.environ["COMFYUI_PATH"])] if os.environ.get("COMFYUI_PATH") else []
    candidates += [parent for parent in REPO.parents]
    for candidate in candidates:
        if (candidate / "main.py").is_file() and (candidate / "comfy" / "samplers.py").is_file():
            return candidate.resolve()
    return None


def torchvision_importable() -> bool:
    return subprocess.run([sys.executable, "-c", "import torchvision"], capture_output=True).returncode == 0


HOST = find_host()
NO_HOST = "no ComfyUI host: set COMFYUI_PATH to a ComfyUI checkout (or install the pack in ComfyUI/custom_nodes)"


@pytest.fixture(scope="session")
def host_pythonpath() -> list[str]:
    """Paths the host needs on ``sys.path``: the host itself, and a torchvision stand-in if none imports."""
    if HOST is None:
        pytest.skip(NO_HOST)
    return [str(HOST)] + ([] if torchvision_importable() else [str(SHIMS)])


@pytest.fixture(scope="session")
def comfy(host_pythonpath):
    """The host's modules imported in this process on the CPU, with the pack loaded as ``comfyui_synctweedies``."""
    for path in reversed(host_pythonpath):
        if path not in sys.path:
            sys.path.insert(0, path)
    from comfy.cli_args import args

    args.cpu = True
    import comfy.samplers  # noqa: F401
    import comfy.sd  # noqa: F401

    load_pack()
    return sys.modules["comfy"]


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, comfy) -> Path:
    """A host base directory with a random-weight SD1.5-shaped checkpoint and the pack in custom_nodes."""

    base = tmp_path_factory.mktemp("comfy_base")
    (base / "models" / "checkpoints").mkdir(parents=True)
    (base / "custom_nodes").mkdir()
    (base / "custom_nodes" / "ComfyUI-SyncTweedies").symlink_to(REPO, target_is_directory=True)
    write_tiny_sd15(base / "models" / "checkpoints" / "tiny_sd15.safetensors")
    (base / "models" / "controlnet").mkdir()
    write_tiny_controlnet(base / "models" / "controlnet" / "tiny_controlnet.safetensors")
    (base / "input").mkdir()
    write_dpt(base / "input" / "room_depth.dpt", room_depth(32))
    texture = Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8))
    write_obj(cube(), base / "input" / "cube.obj", texture)
    sphere_scene(base / "input" / "sphere.ply", count=150)
    gradient = np.linspace(0, 255, 75 * 50 * 3).reshape(50, 75, 3).astype(np.uint8)
    Image.fromarray(gradient).save(base / "input" / "example.png")  # ComfyUI ships one; odd sizes here
    return base


@pytest.fixture(scope="session")
def tiny_sd15(models_dir, comfy):
    """(model, clip, vae) of the random-weight checkpoint, loaded by the host."""
    import comfy.sd

    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(
        str(models_dir / "models" / "checkpoints" / "tiny_sd15.safetensors"))
    return model, clip, vae


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server(models_dir, host_pythonpath):
    """A real ComfyUI server on 127.0.0.1 with the pack installed; yields its base URL."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(host_pythonpath[1:] + [os.environ.get("PYTHONPATH", "")]))
    log = open(models_dir / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(port),
         "--base-directory", str(models_dir), "--database-url", "sqlite:///:memory:", "--disable-auto-launch",
         "--preview-method", "latent2rgb"],
        cwd=HOST, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            urllib.request.urlopen(f"{url}/object_info/SyncTweediesSampler", timeout=5)
            break
        except OSError:
            time.sleep(1)
    else:
        process.kill()
    if process.poll() is not None:
        pytest.fail("ComfyUI did not start:\n" + (models_dir / "server.log").read_text()[-4000:])
    yield url
    process.terminate()
    process.wait(30)
    log.close()


@pytest.fixture(scope="session")
def nodes(comfy):
    """The pack's ``nodes`` package, loaded inside the host."""
    import comfyui_synctweedies.nodes as nodes

    return nodes


@pytest.fixture(scope="session")
def encode(tiny_sd15):
    """Text → CONDITIONING with the tiny checkpoint's CLIP."""
    _, clip, _ = tiny_sd15
    return lambda text: clip.encode_from_tokens_scheduled(clip.tokenize(text))
