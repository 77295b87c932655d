"""The model files the bundled templates link are ones the editor offers to download (it takes only .safetensors
and .sft files), each with a download link and the models/ folder it goes in."""
import json
from pathlib import Path

import pytest

WORKFLOWS = sorted((Path(__file__).resolve().parents[2] / "workflows").glob("*.json"))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_every_linked_model_is_one_the_editor_downloads(path):
    models = [model for node in json.loads(path.read_text())["nodes"]
              for model in node.get("properties", {}).get("models", [])]
    assert models, "every template loads at least a checkpoint"
    for model in models:
        assert model["name"].endswith((".safetensors", ".sft")), model["name"]
        assert model["url"].startswith("https://") and model["url"].endswith(model["name"])
        assert model["directory"] in ("checkpoints", "controlnet")


def test_the_upscale_template_links_a_tile_controlnet():
    workflow = json.loads((WORKFLOWS[0].parent / "upscale.json").read_text())
    names = [model["name"] for node in workflow["nodes"] for model in node.get("properties", {}).get("models", [])]
    assert "control_v11f1e_sd15_tile_fp16.safetensors" in names


@pytest.mark.parametrize("name", ["mesh_texturing", "mesh_texture_editing"])
def test_the_mesh_templates_prompt_names_what_their_example_mesh_is(name):
    """The first template's example mesh is a vase: its prompt says vase (not the original's turtle); the editing
    template repaints it as the original's lantern."""
    api = json.loads((WORKFLOWS[0].parent / "api" / f"{name}.json").read_text())
    inputs = {node["class_type"]: node["inputs"] for node in api.values()}
    assert inputs["SyncTweediesMesh"]["mesh"] == "example: vase.obj"
    text = inputs["SyncTweediesMeshViewPrompts"]["text"].lower()
    assert ("vase" in text) if name == "mesh_texturing" else ("lantern" in text)
    assert "turtle" not in text
