"""The bundled UI workflows load in the real ComfyUI frontend, in headless Chromium, with no missing nodes."""
import json
import shutil
from pathlib import Path

import pytest

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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


@pytest.mark.parametrize("path", sorted(p for p in WORKFLOWS.glob("*.json")),
                         ids=lambda p: p.stem)
def test_ui_workflow_loads_with_its_widget_values(page, path):
    workflow = json.loads(path.read_text())
    loaded = page.evaluate("""async (workflow) => {
        await window.app.loadGraphData(workflow);
        return window.app.graph._nodes.map((node) => ({
            type: node.type, missing: !window.LiteGraph.registered_node_types[node.type],
            widgets: Object.fromEntries((node.widgets || []).map((w) => [w.name, w.value])),
            values: (node.widgets || []).map((w) => w.value), id: node.id,
            links: (node.inputs || []).filter((input) => input.link != null).length,
        }));
    }""", workflow)
    assert sorted(node["type"] for node in loaded) == sorted(node["type"] for node in workflow["nodes"])
    assert not [node["type"] for node in loaded if node["missing"]]
    assert sum(node["links"] for node in loaded) == len(workflow["links"])
    saved = {node["id"]: node["widgets_values"] for node in workflow["nodes"]}
    for node in loaded:
        assert node["values"][:len(saved[node["id"]])] == saved[node["id"]], f"{node['type']} lost widget values"
        if node["type"] == "SyncTweediesSampler":
            assert node["widgets"]["mode"].startswith("2:") and node["widgets"]["sampler_name"] == "euler"


def overlapping(page) -> list[tuple[str, str]]:
    """Pairs of node titles whose drawn boxes (title bar included) overlap in the page's current graph."""
    boxes = page.evaluate("() => window.app.graph._nodes.map((node) => [node.title, ...node.getBounding()])")
    return [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a[1] < b[1] + b[3] and b[1] < a[1] + a[3] and a[2] < b[2] + b[4] and b[2] < a[2] + a[4]]


@pytest.mark.parametrize("path", sorted(p for p in WORKFLOWS.glob("*.json")), ids=lambda p: p.stem)
def test_template_nodes_do_not_overlap_once_drawn_and_sit_in_their_stage_groups(page, path):
    workflow = json.loads(path.read_text())
    page.evaluate("async (workflow) => { await window.app.loadGraphData(workflow); "
                  "window.app.canvas.draw(true, true); }", workflow)
    assert overlapping(page) == []
    outside = page.evaluate("""() => window.app.graph._nodes.filter((node) => node.type !== "MarkdownNote" &&
        !window.app.graph._groups.some((group) => { const [x, y, w, h] = group._bounding, b = node.getBounding();
            return b[0] >= x && b[1] >= y && b[0] + b[2] <= x + w && b[1] + b[3] <= y + h; })).map((n) => n.title)""")
    assert outside == [], "every node sits inside its stage's group"
    note = next(node for node in workflow["nodes"] if node["type"] == "MarkdownNote")["widgets_values"][0]
    assert "ComfyUI/models/checkpoints/" in note and "](https://" in note, "the note says what to download and where"


@pytest.mark.parametrize("path", sorted(p for p in WORKFLOWS.glob("*.json")), ids=lambda p: p.stem)
def test_template_opens_at_full_size_on_its_note_and_first_group(page, path):
    """At the 39-49 % a fitted view gave, the editor draws no text; a template opens at 100 %, its top-left corner
    (the note and the first group's title) on screen."""
    page.evaluate("async (workflow) => { await window.app.loadGraphData(workflow); "
                  "window.app.canvas.draw(true, true); }", json.loads(path.read_text()))
    scale, note, group, size = page.evaluate("""() => {
        const ds = window.app.canvas.ds, screen = ([x, y]) => [(x + ds.offset[0]) * ds.scale,
                                                               (y + ds.offset[1]) * ds.scale];
        const note = window.app.graph._nodes.find((node) => node.type === "MarkdownNote");
        return [ds.scale, screen(note.pos), screen(window.app.graph._groups[0]._bounding),
                [window.app.canvas.canvas.width, window.app.canvas.canvas.height]];
    }""")
    assert scale == 1
    for x, y in (note, group):
        assert 0 <= x < size[0] / 2 and 0 <= y < size[1] / 2


def queue_from_page(page, workflow: dict, prompt: dict) -> int:
    """Load ``workflow`` in the page's editor and queue ``prompt`` from the page's own session; the HTTP status."""
    return page.evaluate("""async ([workflow, prompt]) => {
        await window.app.loadGraphData(workflow);
        const response = await fetch("prompt", {method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({prompt, client_id: window.app.api.clientId})});
        return response.status;
    }""", [workflow, prompt])


def test_panorama_workflow_queued_from_the_page_draws_in_the_360_viewer(page, tmp_path):
    """Load the bundled panorama graph, queue its API twin at CPU size from the page's own session, and
    look at the 360 viewer its save node opens."""
    from synctweedies.comfyui_client import apply_overrides
    from test_host_server import PANORAMA_CPU

    workflow = json.loads((WORKFLOWS / "panorama.json").read_text())
    prompt = apply_overrides(json.loads((WORKFLOWS / "api" / "panorama.json").read_text()), PANORAMA_CPU)
    assert queue_from_page(page, workflow, prompt) == 200
    viewer = page.locator("canvas.synctweedies-panorama-viewer")
    viewer.wait_for(state="attached", timeout=300_000)
    page.wait_for_function("() => Number(document.querySelector('canvas.synctweedies-panorama-viewer')"
                           "?.dataset.drawn ?? 0) > 0", timeout=60_000)
    spread = page.evaluate("""() => {
        const canvas = document.querySelector('canvas.synctweedies-panorama-viewer');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let min = 255, max = 0;
        for (let i = 0; i < data.length; i++) {
            if (i % 4 === 3) continue;
            min = Math.min(min, data[i]);
            max = Math.max(max, data[i]);
        }
        return max - min;
    }""")
    assert spread > 10, "the viewer shows the panorama, not a blank canvas"
    page.evaluate("""() => { const node = window.app.graph._nodes.find((n) => n.type === 'SyncTweediesSavePanorama');
        window.app.canvas.ds.scale = 1; window.app.canvas.centerOnNode(node); window.app.canvas.draw(true, true); }""")
    page.wait_for_timeout(500)
    width, height = page.evaluate("""() => {
        const box = document.querySelector('canvas.synctweedies-panorama-viewer').getBoundingClientRect();
        return [box.width / window.app.canvas.ds.scale, box.height / window.app.canvas.ds.scale];
    }""")
    assert width >= 512 and height >= 256, f"the 360° viewer opens at {width:.0f}×{height:.0f} (graph units)"
    sizes = page.evaluate("() => window.app.graph._nodes.map((n) => [n.title, n.size])")
    assert overlapping(page) == [], f"the grown Save node covers no other node: {overlapping(page)}, {sizes}"
    viewer.scroll_into_view_if_needed()
    viewer.screenshot(path=str(tmp_path / "viewer.png"))
    before = page.evaluate("() => document.querySelector('canvas.synctweedies-panorama-viewer').dataset.yaw")
    viewer.dispatch_event("pointerdown", {"clientX": 200, "clientY": 100, "pointerId": 1})
    viewer.dispatch_event("pointermove", {"clientX": 120, "clientY": 100, "pointerId": 1})
    viewer.dispatch_event("pointerup", {"clientX": 120, "clientY": 100, "pointerId": 1})
    after = page.evaluate("() => document.querySelector('canvas.synctweedies-panorama-viewer').dataset.yaw")
    assert float(after) != float(before), "dragging turns the view"


def test_mesh_workflow_queued_from_the_page_opens_the_glb_in_the_hosts_3d_preview(page, models_dir):
    """Queue the mesh texturing graph from the page at CPU size: its Preview3D node gets the saved .glb (the path
    in the output folder) and the host's viewer fetches that file."""
    from synctweedies.comfyui_client import apply_overrides
    from test_host_server import TINY

    workflow = json.loads((WORKFLOWS / "mesh_texturing.json").read_text())
    prompt = apply_overrides(json.loads((WORKFLOWS / "api" / "mesh_texturing.json").read_text()), [
        TINY, "Mesh.view_size=64", "Mesh.latent_texture=16",
        "Mesh.rgb_texture=64", "SyncTweedies Sampler.steps=2", "Turntable.frames=4", "Turntable.size=32",
        "Load ControlNet.control_net_name=tiny_controlnet.safetensors"])
    with page.expect_response(lambda r: "/view" in r.url and ".glb" in r.url, timeout=300_000) as fetched:
        assert queue_from_page(page, workflow, prompt) == 200
    assert fetched.value.status == 200 and fetched.value.body()[:4] == b"glTF"
    model_file = page.evaluate("""() => window.app.graph._nodes.find((node) => node.type === "Preview3D")
        .widgets.find((w) => w.name === "model_file").value""")
    assert model_file.startswith("SyncTweedies/mesh_") and model_file.endswith(".glb")
    assert (models_dir / "output" / model_file).is_file()
    page.evaluate("""() => { const node = window.app.graph._nodes.find((n) => n.type === 'Preview3D');
        window.app.canvas.ds.scale = 1; window.app.canvas.centerOnNode(node); window.app.canvas.draw(true, true); }""")
    page.wait_for_timeout(500)
    width, height = page.evaluate("""() => {
        const node = window.app.graph._nodes.find((n) => n.type === 'Preview3D');
        const viewer = [...document.querySelectorAll('canvas')].filter((c) => c.id !== 'graph-canvas')
            .map((c) => c.getBoundingClientRect()).filter((b) => b.width > 0).sort((a, b) => b.width - a.width)[0];
        return viewer ? [viewer.width / window.app.canvas.ds.scale, viewer.height / window.app.canvas.ds.scale]
                      : [0, 0];
    }""")
    assert width >= 400 and height >= 300, f"the 3D preview shows at {width:.0f}×{height:.0f} (graph units)"
    assert overlapping(page) == []
