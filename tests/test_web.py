"""The frontend's view count matches the library's WideCanvas."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from synctweedies import WideCanvas

WEB = Path(__file__).resolve().parents[1] / "web"
CASES = [(3072, 512, 512, 64, False), (3072, 512, 512, 64, True), (1000, 520, 512, 72, False), (512, 512, 512, 8, False)]


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
