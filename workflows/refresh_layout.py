"""Refreshes what the bundled workflows take from the real frontend: the size of each node type (LiteGraph's
``computeSize`` of every node of every loaded workflow, the largest per type, for ``build.py``'s layout) and each
template's thumbnail (a screenshot of its graph, ``<name>.jpg`` beside it, which the host's template browser shows).

    python workflows/refresh_layout.py URL

URL: a ComfyUI server with this pack (and some checkpoint file in its models/checkpoints); needs playwright and
chromium. Writes ``workflows/layout/node_sizes.json``, rebuilds the workflows, then writes the thumbnails.
"""
from __future__ import annotations

import base64
import importlib.util
import io
import json
import shutil
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
VIEWPORT = {"width": 2400, "height": 1350}


def measure(page: Page, workflows: list[dict]) -> dict[str, list[int]]:
    """``[width, height]`` of every node type of ``workflows`` (title bar excluded, as LiteGraph sizes count)."""
    sizes: dict[str, list[int]] = {}
    for workflow in workflows:
        measured = page.evaluate("""async (workflow) => {
            await window.app.loadGraphData(workflow);
            return window.app.graph._nodes.map((node) => [node.type, node.computeSize()]);
        }""", workflow)
        for kind, (width, height) in measured:
            old = sizes.get(kind, [0, 0])
            sizes[kind] = [max(old[0], int(width + 0.999)), max(old[1], int(height + 0.999))]
    return dict(sorted(sizes.items()))


def thumbnail(page: Page, workflow: dict, path: Path) -> None:
    """A JPEG of the whole graph of ``workflow`` as the editor's canvas draws it (drawn large, then halved)."""
    data = page.evaluate("""async (workflow) => {
        await window.app.loadGraphData(workflow);
        const boxes = [...window.app.graph._nodes.map((node) => node.getBounding()),
                       ...window.app.graph._groups.map((group) => group._bounding)];
        const left = Math.min(...boxes.map((b) => b[0])), top = Math.min(...boxes.map((b) => b[1]));
        const right = Math.max(...boxes.map((b) => b[0] + b[2])), bottom = Math.max(...boxes.map((b) => b[1] + b[3]));
        const canvas = window.app.canvas, margin = 20;
        const scale = Math.min((canvas.canvas.width - 2 * margin) / (right - left),
                               (canvas.canvas.height - 2 * margin) / (bottom - top));
        canvas.ds.scale = scale;
        canvas.ds.offset = [margin / scale - left, margin / scale - top];
        canvas.setDirty(true, true);
        canvas.draw(true, true);
        return canvas.canvas.toDataURL("image/png");
    }""", workflow)
    image = Image.open(io.BytesIO(base64.b64decode(data.split(",", 1)[1]))).convert("RGB")
    image.resize((image.width // 2, image.height // 2), Image.LANCZOS).save(path, quality=85)


def load_build():
    spec = importlib.util.spec_from_file_location("build_workflows", HERE / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return build


def main(url: str) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(url)
        page.wait_for_function("() => window.app && window.app.graph && window.LiteGraph", timeout=120_000)
        page.evaluate("async () => { for (const [key, value] of [['Comfy.Minimap.Visible', false], "
                      "['Comfy.Workflow.ShowMissingModelsWarning', false], ['Comfy.Graph.CanvasInfo', false]]) "
                      "await window.app.extensionManager.setting.set(key, value); }")
        bundled = [json.loads(path.read_text()) for path in sorted(HERE.glob("*.json"))]
        (HERE / "layout" / "node_sizes.json").write_text(json.dumps(measure(page, bundled), indent=2) + "\n")
        for name, text in load_build().render().items():
            (HERE / name).write_text(text)
        for path in sorted(HERE.glob("*.json")):
            thumbnail(page, json.loads(path.read_text()), path.with_suffix(".jpg"))
            print(f"wrote {path.with_suffix('.jpg').relative_to(HERE.parent)}")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1])
