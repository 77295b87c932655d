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
