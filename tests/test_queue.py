"""The queue command's pure parts: input overrides and never overwriting saved images."""
import json

import pytest

from synctweedies.queue import apply_overrides, main, unique_path

WORKFLOW = {"1": {"class_type": "A", "inputs": {"steps": 50}, "_meta": {"title": "Sampler"}},
            "2": {"class_type": "B", "inputs": {"text": "x"}, "_meta": {"title": "Prompt"}}}


def test_overrides_by_id_and_title_parse_json_values():
    out = apply_overrides(WORKFLOW, ["Sampler.steps=4", "2.text=a city", "1.cfg=7.5", "1.wrap=true"])
    assert out["1"]["inputs"] == {"steps": 4, "cfg": 7.5, "wrap": True}
    assert out["2"]["inputs"]["text"] == "a city"
    assert WORKFLOW["1"]["inputs"]["steps"] == 50, "the given workflow is not modified"


@pytest.mark.parametrize("override, message", [("Sampler.steps", "NODE.INPUT=VALUE"),
                                               ("Nope.steps=1", "0 nodes have the id or title 'Nope'")])
def test_bad_overrides_are_clear_errors(override, message):
    with pytest.raises(ValueError, match=message):
        apply_overrides(WORKFLOW, [override])


def test_unique_path_never_overwrites(tmp_path):
    first = tmp_path / "canvas.png"
    assert unique_path(first) == first
    first.write_bytes(b"1")
    (tmp_path / "canvas_1.png").write_bytes(b"2")
    assert unique_path(first) == tmp_path / "canvas_2.png"


def test_editor_format_is_refused_with_a_hint(tmp_path, capsys):
    path = tmp_path / "ui.json"
    path.write_text(json.dumps({"nodes": [], "links": []}))
    assert main([str(path)]) == 1
    assert "queue its *_api.json twin" in capsys.readouterr().err
