"""The queue command: input overrides, never overwriting, confined downloads and clear failures, against an
in-process stand-in for the ComfyUI HTTP API (the real server is in test_host_server.py)."""
import asyncio
import json
import re

import pytest

from fake_comfyui import free_port, start_fake_host

from synctweedies.comfyui_api import WorkflowError, output_target, rejection, run_workflow, unique_path
from synctweedies.comfyui_client import EXIT_CODES, apply_overrides, main

WORKFLOW = {"1": {"class_type": "A", "inputs": {"steps": 50}, "_meta": {"title": "Sampler"}},
            "2": {"class_type": "B", "inputs": {"text": "x"}, "_meta": {"title": "Prompt"}},
            "3": {"class_type": "C", "_meta": {"title": "No inputs"}}}


def test_overrides_by_id_and_title_parse_json_values():
    out = apply_overrides(WORKFLOW, ["Sampler.steps=4", "2.text=a city", "1.cfg=7.5", "1.wrap=true",
                                     "No inputs.seed=3"])
    assert out["1"]["inputs"] == {"steps": 4, "cfg": 7.5, "wrap": True}
    assert out["2"]["inputs"]["text"] == "a city" and out["3"]["inputs"] == {"seed": 3}
    assert WORKFLOW["1"]["inputs"]["steps"] == 50, "the given workflow is not modified"


@pytest.mark.parametrize("override, message", [("Sampler.steps", "NODE.INPUT=VALUE"), ("Sampler.=3", "NODE.INPUT"),
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


@pytest.mark.parametrize("entry", [{"filename": "../x.png", "subfolder": ""},
                                   {"filename": "a.png", "subfolder": "../.."},
                                   {"filename": "a.png", "subfolder": "/etc"}, {"filename": "/etc/passwd"},
                                   {"filename": "..", "subfolder": ""}, {"filename": "a.png", "subfolder": "x/../../y"},
                                   {"filename": "a.png", "subfolder": "C:\\\\temp"}, {"filename": ""}])
def test_files_named_outside_out_are_refused(tmp_path, entry):
    with pytest.raises(ValueError, match="not a plain name"):
        output_target(tmp_path, entry)


def test_plain_names_land_under_out(tmp_path):
    target = output_target(tmp_path, {"filename": "a.png", "subfolder": "SyncTweedies/x"})
    assert target == tmp_path / "SyncTweedies/x/a.png"


@pytest.mark.parametrize("content, message", [({"nodes": [], "links": []}, "editor's format; queue its API twin"),
                                              ([1, 2], "not an API-format workflow"), (7, "not an API-format workflow"),
                                              ({"1": {"inputs": {}}}, "not an API-format workflow")])
def test_files_that_are_not_api_workflows_are_refused(tmp_path, capsys, content, message):
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(content))
    assert main([str(path)]) == EXIT_CODES["bad input"]
    assert message in capsys.readouterr().err


def test_missing_and_broken_files_are_named(tmp_path, capsys):
    assert main([str(tmp_path / "none.json")]) == EXIT_CODES["bad input"]
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{")
    assert main([str(tmp_path / "bad.json")]) == EXIT_CODES["bad input"]
    assert "is not JSON" in capsys.readouterr().err


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "127.0.0.1:8188" in text and "synctweedies_downloads" in text and "Exit status" in text
    assert text.count("127.0.0.1:8188") == 1, "each default once"


def test_a_rejection_shows_each_nodes_error_first():
    answer = {"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation"},
              "node_errors": {"5": {"class_type": "SyncTweediesMesh", "errors": [
                  {"message": "Custom validation failed for node", "details": "mesh - Mesh 'x' is not a file"}]}}}
    assert rejection(answer).splitlines()[0] == ("node 5 (SyncTweediesMesh): Custom validation failed for node: "
                                                 "mesh - Mesh 'x' is not a file")


@pytest.fixture
def fake_host():
    address, state, stop = start_fake_host({})
    yield address, state
    stop()


def test_every_output_file_is_saved_under_out_and_nothing_else(fake_host, tmp_path):
    server, state = fake_host
    state["outputs"] = {
        "7": {"images": [{"filename": "canvas_00001_.png", "subfolder": "SyncTweedies", "type": "output"},
                         {"filename": "preview.png", "subfolder": "", "type": "temp"}]},
        "9": {"3d": [{"filename": "mesh_00001_.glb", "subfolder": "SyncTweedies", "type": "output"},
                     {"filename": "../../escape.glb", "subfolder": "", "type": "output"},
                     {"filename": "gone.glb", "subfolder": "", "type": "output"}]},
        "10": {"text": ["Saved mesh"]}}
    state["files"] = {"canvas_00001_.png": b"png", "mesh_00001_.glb": b"glb", "../../escape.glb": b"x"}
    saved = asyncio.run(run_workflow(WORKFLOW, server, tmp_path / "out", progress=False, timeout=30))
    assert saved == [tmp_path / "out/SyncTweedies/canvas_00001_.png", tmp_path / "out/SyncTweedies/mesh_00001_.glb"]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["canvas_00001_.png", "mesh_00001_.glb"], \
        "no temp preview, nothing outside --out, no 404 body saved as gone.glb"


def test_a_prompt_that_leaves_the_queue_ends_the_wait(fake_host, tmp_path):
    server, state = fake_host
    state["finish"], state["keep"] = False, False
    with pytest.raises(WorkflowError, match="no longer on the host"):
        asyncio.run(run_workflow(WORKFLOW, server, tmp_path, progress=False, timeout=30, check_every=0.2))


def test_no_server_is_a_clear_error_with_its_own_exit_code(tmp_path, capsys):
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(WORKFLOW))
    assert main([str(path), "--server", f"127.0.0.1:{free_port()}"]) == EXIT_CODES["no server"]
    assert "cannot reach ComfyUI at" in capsys.readouterr().err


CANVAS = {"7": {"images": [{"filename": "canvas_00001_.png", "subfolder": "SyncTweedies", "type": "output"}]}}


def test_a_manifest_spreads_jobs_over_servers_reports_failures_and_resumes(tmp_path, capsys):
    hosts = [start_fake_host({"outputs": CANVAS, "files": {"canvas_00001_.png": b"png"}}) for _ in range(2)]
    (tmp_path / "wide.json").write_text(json.dumps(WORKFLOW))
    (tmp_path / "reject.json").write_text(json.dumps({"1": {"class_type": "Reject", "inputs": {}}}))
    jobs = [{"workflow": "wide.json", "set": [f"Sampler.steps={k}"], "name": f"wide{k}"} for k in range(4)]
    jobs += [{"workflow": "reject.json", "name": "rejected"}, {"workflow": "missing.json", "name": "missing"}]
    manifest = tmp_path / "jobs.json"
    manifest.write_text(json.dumps(jobs))
    out = tmp_path / "out"
    try:
        servers = [arg for address, _, _ in hosts for arg in ("--server", address)]
        assert main(["--manifest", str(manifest), "--out", str(out), *servers]) == EXIT_CODES["failed"]
        printed = capsys.readouterr().out
        assert "4 done, 0 skipped (finished before), 2 failed, of 6 jobs" in printed
        assert re.search(r"rejected: FAILED: on .*\nnode 1 \(Reject\): Value not in list", printed)
        assert re.search(r"missing: FAILED: cannot read .*missing.json", printed)
        received = [sorted(w["1"]["inputs"]["steps"] for w in state["received"]) for _, state, _ in hosts]
        assert all(received) and sorted(received[0] + received[1]) == [0, 1, 2, 3], "every job once, both servers"
        assert sorted(p.name for p in out.iterdir()) == ["wide0", "wide1", "wide2", "wide3"]
        assert (out / "wide2/SyncTweedies/canvas_00001_.png").read_bytes() == b"png"
        before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
        assert main(["--manifest", str(manifest), "--out", str(out), *servers]) == EXIT_CODES["failed"]
        assert "0 done, 4 skipped (finished before), 2 failed" in capsys.readouterr().out
        assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    finally:
        for _, _, stop in hosts:
            stop()


def test_a_server_that_cannot_be_reached_leaves_its_jobs_to_the_others(tmp_path, capsys):
    address, state, stop = start_fake_host({"outputs": CANVAS, "files": {"canvas_00001_.png": b"png"}})
    (tmp_path / "wide.json").write_text(json.dumps(WORKFLOW))
    manifest = tmp_path / "jobs.json"
    manifest.write_text(json.dumps({"jobs": [{"workflow": "wide.json"}, {"workflow": "wide.json"}]}))
    try:
        assert main(["--manifest", str(manifest), "--out", str(tmp_path / "out"), "--server",
                     f"127.0.0.1:{free_port()}", "--server", address]) == EXIT_CODES["done"]
        assert "2 done" in capsys.readouterr().out and len(state["received"]) == 2
    finally:
        stop()
    assert main(["--manifest", str(manifest), "--out", str(tmp_path / "other"), "--server",
                 f"127.0.0.1:{free_port()}"]) == EXIT_CODES["no server"]
    assert "no server could be reached" in capsys.readouterr().out


def test_a_job_that_outlasts_the_timeout_fails_on_its_server_and_is_not_passed_on(tmp_path, capsys):
    address, state, stop = start_fake_host({"finish": False})
    (tmp_path / "wide.json").write_text(json.dumps(WORKFLOW))
    manifest = tmp_path / "jobs.json"
    manifest.write_text(json.dumps([{"workflow": "wide.json", "name": "slow"}]))
    try:
        assert main(["--manifest", str(manifest), "--out", str(tmp_path / "out"), "--server", address,
                     "--timeout", "1"]) == EXIT_CODES["failed"]
    finally:
        stop()
    printed = capsys.readouterr().out
    assert "slow: FAILED: on" in printed and "took longer than --timeout 1 s" in printed
    assert "cannot be reached" not in printed and len(state["received"]) == 1
