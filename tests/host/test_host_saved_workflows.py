"""Saved workflows keep loading: the workflows as shipped at each release (``released_workflows/VERSION/``) validate
against the current nodes in the host, and so do those workflows with every input that is optional now taken out
(a workflow saved before such an input existed); an editor workflow's widget values still land on widgets of the
same names and kinds."""
import asyncio
import json
from pathlib import Path

import pytest

RELEASES = Path(__file__).resolve().parents[1] / "support" / "released_workflows"
API = sorted(RELEASES.glob("*/api/*.json"))
UI = sorted(RELEASES.glob("*/*.json"))
MODEL_FILES = {"ckpt_name": "tiny_sd15.safetensors", "control_net_name": "tiny_controlnet.safetensors"}
"""The model files a test host has, in place of those a workflow names (host inputs, not the pack's)."""


@pytest.fixture(scope="module")
def validate(comfy, models_dir):
    """A workflow → the host's validation of it against the pack's current nodes: (ok, error, node errors)."""
    import execution
    import folder_paths
    import nodes as host_nodes

    from comfyui_synctweedies.nodes import NODES

    if "Preview3D" not in host_nodes.NODE_CLASS_MAPPINGS:
        asyncio.run(host_nodes.init_builtin_extra_nodes())
    for node in NODES:
        host_nodes.NODE_CLASS_MAPPINGS.setdefault(node.define_schema().node_id, node)
    folder_paths.add_model_folder_path("checkpoints", str(models_dir / "models" / "checkpoints"))
    folder_paths.add_model_folder_path("controlnet", str(models_dir / "models" / "controlnet"))

    def run(workflow: dict):
        for node in workflow.values():
            node["inputs"].update({k: v for k, v in MODEL_FILES.items() if k in node["inputs"]})
        ok, error, _, node_errors = asyncio.run(execution.validate_prompt("saved", workflow, None))
        return ok, error, node_errors

    return run


def optional_inputs(nodes) -> dict[str, set[str]]:
    schemas = (node.define_schema() for node in nodes.NODES)
    return {schema.node_id: {item.id for item in schema.inputs if item.optional} for schema in schemas}


@pytest.mark.parametrize("path", API, ids=lambda p: f"{p.parents[1].name}/{p.stem}")
def test_a_released_api_workflow_validates_against_the_current_nodes(validate, path):
    ok, error, node_errors = validate(json.loads(path.read_text()))
    assert ok, (error, node_errors)


@pytest.mark.parametrize("path", API, ids=lambda p: f"{p.parents[1].name}/{p.stem}")
def test_it_validates_without_the_inputs_that_are_optional_now(validate, nodes, path):
    """A workflow saved before an input existed lacks it: every input added after a release is optional, with a
    default that reproduces the old behaviour."""
    workflow = json.loads(path.read_text())
    optional = optional_inputs(nodes)
    removed = 0
    for node in workflow.values():
        for name in optional.get(node["class_type"], set()) & set(node["inputs"]):
            if not isinstance(node["inputs"][name], list):  # a widget's value, not a link
                del node["inputs"][name]
                removed += 1
    ok, error, node_errors = validate(workflow)
    assert ok, (error, node_errors)
    assert removed or "wide_image_advanced" not in path.stem


def test_a_wide_canvas_saved_before_its_weighting_loads_and_averages_as_it_did(validate, nodes):
    """Before ``weighting`` existed the canvas took the plain mean of its windows (now ``flat``)."""
    workflow = json.loads((RELEASES / "0.1.0" / "api" / "wide_image.json").read_text())
    canvas_node = next(node for node in workflow.values() if node["class_type"] == "SyncTweediesWideCanvas")
    del canvas_node["inputs"]["weighting"]
    ok, error, node_errors = validate(workflow)
    assert ok, (error, node_errors)
    canvas = nodes.canvas.WideCanvasNode.execute(width=256, height=64, window=64, stride=32, wrap=False).result[0]
    assert canvas.weighting == "flat"
    assert nodes.canvas.WideCanvasNode.validate_inputs(256, 64, 64, 32, False) is True


@pytest.mark.parametrize("path", UI, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_released_editor_workflow_puts_its_values_on_the_same_widgets(object_info_in_process, path):
    """The editor fills a node's widgets from its saved values by position: each value must still meet the widget
    at its position (same kind, an allowed option, within range); widgets added since come last and are optional,
    so the editor gives them their defaults."""
    workflow = json.loads(path.read_text())
    for node in workflow["nodes"]:
        if not node["type"].startswith("SyncTweedies"):
            continue
        widgets = object_info_in_process[node["type"]]
        values = list(node.get("widgets_values", []))
        added = [name for name, _, optional in widgets[len(values):] if not optional]
        assert len(values) <= len(widgets) and not added, \
            f"{path.name}: {node['type']} has new required widgets {added}, or lost some"
        for (name, accepts, _), value in zip(widgets, values):
            assert accepts(value), f"{path.name}: {node['type']}.{name} cannot take the saved value {value!r}"


@pytest.fixture(scope="module")
def object_info_in_process(nodes):
    """Node type → its widgets in the editor's order as ``(name, accepts(value), optional)``, the seed's control
    value included."""
    def accepts(item):
        if hasattr(item, "options") and item.options is not None:
            return lambda value: value in item.options
        kind = {"INT": int, "FLOAT": (int, float), "BOOLEAN": bool, "STRING": str}[item.get_io_type()]
        low, high = getattr(item, "min", None), getattr(item, "max", None)
        return lambda value: isinstance(value, kind) and (kind is bool or not isinstance(value, bool)) and (
            kind in (bool, str) or ((low is None or value >= low) and (high is None or value <= high)))

    table = {}
    for node in nodes.NODES:
        schema = node.define_schema()
        listed = []
        for item in sorted(schema.inputs, key=lambda item: bool(item.optional)):
            if item.get_io_type() in ("INT", "FLOAT", "BOOLEAN", "STRING", "COMBO"):
                listed.append((item.id, accepts(item), bool(item.optional)))
                if getattr(item, "control_after_generate", False):
                    listed.append((f"{item.id} control", lambda value: value in ("fixed", "increment", "decrement",
                                                                                 "randomize"), bool(item.optional)))
        table[schema.node_id] = listed
    return table
