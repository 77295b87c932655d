"""The frontend's view count matches the library's WideCanvas."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from synctweedies import WideCanvas

WEB = Path(__file__).resolve().parents[2] / "web"
CASES = [(3072, 512, 512, 64, False), (3072, 512, 512, 64, True), (1000, 520, 512, 72, False),
         (512, 512, 512, 8, False)]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_view_count_matches_the_library(tmp_path):
    script = tmp_path / "check.mjs"
    script.write_text(f"import {{ describeCanvas }} from '{(WEB / 'view_count.js').as_uri()}';\n"
                      f"const cases = {json.dumps(CASES)};\n"
                      "console.log(JSON.stringify(cases.map(([width, height, window, stride, wrap]) =>"
                      " describeCanvas({width, height, window, stride, wrap}))));\n")
    shown = json.loads(subprocess.run(["node", str(script)], capture_output=True, text=True, check=True).stdout)
    for (width, height, window, stride, wrap), text in zip(CASES, shown):
        views = WideCanvas(height // 8, width // 8, window // 8, stride // 8, wrap).num_views
        assert text == f"{views} views of {window}×{window}"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("yaw, pitch", [(0, 0), (90, 30), (-135, -60)])
def test_360_viewer_looks_where_the_library_cameras_look(tmp_path, yaw, pitch):
    import math

    import torch

    from synctweedies.panorama import PanoramaRig, perspective_views

    height = 64
    lat = (0.5 - (torch.arange(height) + 0.5) / height) * math.pi
    lon = ((torch.arange(2 * height) + 0.5) / (2 * height) - 0.5) * 2 * math.pi
    lat, lon = torch.meshgrid(lat, lon, indexing="ij")
    canvas = torch.stack([torch.sin(lon) * lat.cos(), torch.cos(lon) * lat.cos(), lat.sin()]) * 100 + 128
    rgba = torch.cat([canvas, torch.full((1, height, 2 * height), 255.0)]).permute(1, 2, 0).round().int()
    script = tmp_path / "view.mjs"
    script.write_text(f"import {{ renderPerspective }} from '{(WEB / 'panorama_viewer.js').as_uri()}';\n"
                      f"const source = {{width: {2 * height}, height: {height}, data: {rgba.flatten().tolist()}}};\n"
                      "const target = {width: 16, height: 16, data: new Array(16 * 16 * 4).fill(0)};\n"
                      f"renderPerspective(source, target, {yaw}, {pitch}, 72);\n"
                      "console.log(JSON.stringify(target.data));\n")
    shown = json.loads(subprocess.run(["node", str(script)], capture_output=True, text=True, check=True).stdout)
    shown = torch.tensor(shown, dtype=torch.float32).reshape(16, 16, 4)[..., :3].permute(2, 0, 1)
    cameras = PanoramaRig(theta_range=(yaw, yaw + 1), phi_range=(pitch, pitch + 1), fov=72)
    expected = perspective_views(canvas, cameras, 16)[0]
    assert (shown - expected).abs().mean() < 3.0, "same direction, up to nearest vs bilinear sampling"
