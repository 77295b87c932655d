"""The bundled UI workflows load in the real ComfyUI frontend, in headless Chromium, with no missing nodes."""
import json
import shutil
from pathlib import Path

import pytest

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page(server):
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.goto(server)
        page.wait_for_function("() => window.app && window.app.graph && window.LiteGraph", timeout=120_000)
        yield page
        browser.close()


@pytest.mark.parametrize("path", sorted(p for p in WORKFLOWS.glob("*.json") if not p.name.endswith("_api.json")),
                         ids=lambda p: p.stem)
def test_ui_workflow_loads_with_its_widget_values(page, path):
    workflow = json.loads(path.read_text())
    loaded = page.evaluate("""async (workflow) => {
        await window.app.loadGraphData(workflow);
        return window.app.graph._nodes.map((node) => ({
            type: node.type, missing: !window.LiteGraph.registered_node_types[node.type],
            widgets: Object.fromEntries((node.widgets || []).map((w) => [w.name, w.value])),
            links: (node.inputs || []).filter((input) => input.link != null).length,
        }));
    }""", workflow)
    assert sorted(node["type"] for node in loaded) == sorted(node["type"] for node in workflow["nodes"])
    assert not [node["type"] for node in loaded if node["missing"]]
    assert sum(node["links"] for node in loaded) == len(workflow["links"])
    by_type = {node["type"]: node for node in loaded}
    if "SyncTweediesWideCanvas" in by_type:
        canvas = by_type["SyncTweediesWideCanvas"]["widgets"]
        assert (canvas["width"], canvas["height"], canvas["window"], canvas["stride"]) == (3072, 512, 512, 64)
    if "SyncTweediesAnagramViews" in by_type:
        views = by_type["SyncTweediesAnagramViews"]["widgets"]
        assert [views[k] for k in ("view_1", "view_2", "view_3", "size")] == ["identity", "rotate_cw", "none", 512]
    if "SyncTweediesSampler" in by_type:
        sampler = by_type["SyncTweediesSampler"]["widgets"]
        saved = next(node["widgets_values"] for node in workflow["nodes"] if node["type"] == "SyncTweediesSampler")
        assert sampler["steps"] == saved[2] and sampler["mode"].startswith("2:") and sampler["sampler_name"] == "euler"
