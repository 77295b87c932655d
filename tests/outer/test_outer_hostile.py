"""The outer layer attacked: the ComfyUI client against hostile and broken servers (fake ones on 127.0.0.1), job
names that collide with work in progress or lead out of the output root, hostile manifests, and numbers the
standalone command must refuse before it allocates. None loses, overwrites or writes outside its root, none prints
a traceback, none runs past its timeout."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fake_comfyui import free_port, start_fake_host
from synctweedies.comfyui_client import EXIT_CODES, main as client
from synctweedies.jobs import WORK_FOLDER, Job, JobRun, Outcome, job_name

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = {"1": {"class_type": "A", "inputs": {"steps": 50}, "_meta": {"title": "Sampler"}}}
CANVAS = {"7": {"images": [{"filename": "canvas.png", "subfolder": "SyncTweedies", "type": "output"}]}}


@pytest.fixture
def host():
    """A fake ComfyUI; a test sets how it behaves in its state before queueing."""
    address, state, stop = start_fake_host({})
    yield address, state
    stop()


def workflow_file(folder: Path) -> Path:
    path = folder / "wide.json"
    path.write_text(json.dumps(WORKFLOW))
    return path


def files_under(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def one_line_error(capsys, code: int, expected: int, words: str) -> str:
    printed = capsys.readouterr()
    assert code == expected, printed
    assert "Traceback" not in printed.err + printed.out
    assert words in printed.err, printed.err
    return printed.err


# 1. No finished run is ever lost ------------------------------------------------------------------------------

def run_named_jobs(tmp_path: Path, names: list[str], out: Path) -> int:
    """The client's exit status for a manifest of one workflow under ``names``, run on a fake host into ``out``."""
    address, _, stop = start_fake_host({"outputs": CANVAS, "files": {"canvas.png": b"png"}})
    workflow_file(tmp_path)
    manifest = tmp_path / "jobs.json"
    manifest.write_text(json.dumps([{"workflow": "wide.json", "name": name} for name in names]))
    try:
        return client(["--manifest", str(manifest), "--out", str(out), "--server", address])
    finally:
        stop()


def test_a_job_named_like_another_jobs_work_in_progress_loses_nothing(tmp_path, capsys):
    assert run_named_jobs(tmp_path, ["x.partial", "x"], tmp_path / "out") == 0
    assert "2 done" in capsys.readouterr().out
    assert files_under(tmp_path / "out") == {"x.partial/SyncTweedies/canvas.png": b"png",
                                             "x/SyncTweedies/canvas.png": b"png"}


def test_work_in_progress_lives_where_no_job_name_reaches(tmp_path):
    with pytest.raises(ValueError, match="not a plain name"):
        job_name(WORK_FOLDER)
    runs = JobRun([Job(0, "x.partial"), Job(1, "x")], tmp_path, lambda job, outcome: None)
    for job in runs.pending:
        (runs.start(job) / "result.txt").write_text(job.name)
        assert job.work.parent == tmp_path / WORK_FOLDER
    for job in list(runs.pending):
        runs.finish(job, Outcome("done"))
    assert files_under(tmp_path) == {"x.partial/result.txt": b"x.partial", "x/result.txt": b"x"}
    again = JobRun([Job(0, "x.partial"), Job(1, "x")], tmp_path, lambda job, outcome: None)
    assert [o.status for o in again.outcomes.values()] == ["skipped", "skipped"] and not again.pending


@pytest.mark.parametrize("names, problem", [(["a", "A"], "writes the same folder"), (["a", "a"], "writes the same"),
                                            (["../a"], "not a plain name"), (["/etc/a"], "not a relative folder"),
                                            (["a/../../b"], "not a plain name"), (["C:/a"], "not a relative folder"),
                                            (["a" * 101], "not a plain name"), ([".hidden"], "not a plain name"),
                                            (["a b"], "not a plain name")])
def test_names_are_checked_before_anything_runs(tmp_path, names, problem):
    runs = JobRun([Job(i, name) for i, name in enumerate(names)], tmp_path, lambda job, outcome: None)
    assert problem in runs.outcomes[len(names) - 1].detail
    assert not any(tmp_path.iterdir()), "nothing is written for a refused job"


def test_a_folder_that_is_a_link_is_refused_and_the_others_run(tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "linked").symlink_to(outside, target_is_directory=True)
    assert run_named_jobs(tmp_path, ["linked", "fine"], out) == EXIT_CODES["failed"]
    printed = capsys.readouterr().out
    assert "linked: FAILED: " in printed and "is a symbolic link" in printed and "1 done" in printed
    assert not any(outside.iterdir()), "nothing is written through the link"
    assert sorted(p.name for p in out.iterdir()) == ["fine", "linked"]


# 3. The client is bounded and clear ---------------------------------------------------------------------------

def test_an_endless_file_stops_at_the_file_limit(host, tmp_path, capsys):
    address, state = host
    state["outputs"], state["endless"] = CANVAS, "view"
    start = time.monotonic()
    code = client([str(workflow_file(tmp_path)), "--server", address, "--out", str(tmp_path / "out"),
                   "--max-file-mb", "2", "--timeout", "60"])
    one_line_error(capsys, code, EXIT_CODES["failed"], "the host sent over 2 MiB for canvas.png")
    assert time.monotonic() - start < 30
    assert files_under(tmp_path / "out") == {}, "the partial file is removed"


def test_an_endless_json_answer_stops_at_the_json_limit(host, tmp_path, capsys):
    address, state = host
    state["endless"] = "history"
    code = client([str(workflow_file(tmp_path)), "--server", address, "--out", str(tmp_path / "out"),
                   "--max-json-mb", "1", "--timeout", "60"])
    one_line_error(capsys, code, EXIT_CODES["no server"], "over 1 MiB (--max-json-mb)")
    assert state["sent_bytes"] < 64 * 2**20


def test_the_timeout_bounds_the_run_while_progress_floods_in(host, tmp_path, capsys):
    address, state = host
    state["flood"] = True
    start = time.monotonic()
    code = client([str(workflow_file(tmp_path)), "--server", address, "--out", str(tmp_path / "out"),
                   "--timeout", "3"])
    assert time.monotonic() - start < 30, "it ends, not long after its timeout"
    one_line_error(capsys, code, EXIT_CODES["failed"], "took longer than --timeout 3 s")


@pytest.mark.parametrize("state, words", [
    ({"prompt_answer": {"number": 0}}, "/prompt answered without a prompt_id"),
    ({"prompt_answer": [1, 2]}, "/prompt answered without a prompt_id"),
    ({"history_answer": {"p1": {"outputs": [1]}}}, "has no outputs object (it has list)"),
    ({"history_answer": {"p1": {}}}, "has no outputs object (it has NoneType)"),
    ({"history_answer": [1]}, "/history answered with a JSON list"),
    ({"no_websocket": True}, "has no ComfyUI websocket at /ws"),
])
def test_odd_answers_give_one_line_and_an_exit_status(tmp_path, capsys, state, words):
    address, _, stop = start_fake_host(state)
    try:
        code = client([str(workflow_file(tmp_path)), "--server", address, "--out", str(tmp_path / "out"),
                       "--timeout", "20"])
    finally:
        stop()
    one_line_error(capsys, code, EXIT_CODES["no server"], words)


def test_a_link_where_a_file_would_go_is_never_followed(host, tmp_path, capsys):
    address, state = host
    state["outputs"], state["files"] = CANVAS, {"canvas.png": b"png"}
    out = tmp_path / "out"
    (out / "SyncTweedies").mkdir(parents=True)
    target = tmp_path / "elsewhere.png"
    (out / "SyncTweedies" / "canvas.png").symlink_to(target)
    assert client([str(workflow_file(tmp_path)), "--server", address, "--out", str(out)]) == 0
    assert not target.exists(), "a dangling link is not written through"
    assert (out / "SyncTweedies" / "canvas_1.png").read_bytes() == b"png"
    (out / "SyncTweedies" / "canvas_1.png").unlink()
    os.remove(out / "SyncTweedies" / "canvas.png")
    os.rmdir(out / "SyncTweedies")
    (out / "SyncTweedies").symlink_to(tmp_path, target_is_directory=True)
    assert client([str(workflow_file(tmp_path)), "--server", address, "--out", str(out)]) == 0
    assert "is a symbolic link; canvas.png was not saved" in capsys.readouterr().err
    assert not (tmp_path / "canvas.png").exists()


@pytest.mark.parametrize("layout, words", [("long name", "File name too long"), ("folder in the way", "cannot write")])
def test_a_local_write_error_is_reported_as_one(host, tmp_path, capsys, layout, words):
    address, state = host
    name = "c" * 300 + ".png" if layout == "long name" else "canvas.png"
    state["outputs"] = {"7": {"images": [{"filename": name, "subfolder": "SyncTweedies", "type": "output"}]}}
    state["files"] = {name: b"png"}
    out = tmp_path / "out"
    out.mkdir()
    if layout == "folder in the way":
        (out / "SyncTweedies").write_text("a file where the subfolder goes")
    code = client([str(workflow_file(tmp_path)), "--server", address, "--out", str(out)])
    err = one_line_error(capsys, code, EXIT_CODES["cannot write"], words)
    assert "cannot reach ComfyUI" not in err


def test_the_client_runs_as_a_script_from_another_folder_with_localhost(host, tmp_path):
    address, state = host
    state["outputs"], state["files"] = CANVAS, {"canvas.png": b"png"}
    port = address.rsplit(":", 1)[1]
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, str(ROOT / "synctweedies" / "comfyui_client.py"), "wide.json",
                           "--server", f"localhost:{port}", "--out", "saved"], cwd=workflow_file(tmp_path).parent,
                          env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "saved" / "SyncTweedies" / "canvas.png").read_bytes() == b"png"
    assert "Traceback" not in done.stderr


def test_no_server_at_all_is_one_line(tmp_path, capsys):
    code = client([str(workflow_file(tmp_path)), "--server", f"127.0.0.1:{free_port()}", "--out", str(tmp_path)])
    one_line_error(capsys, code, EXIT_CODES["no server"], "cannot reach ComfyUI at")


# 4. Manifests -------------------------------------------------------------------------------------------------

BOMB = "\n".join([f"{'abcdefghi'[k]}: &{'abcdefghi'[k]} [" + ",".join(
    [f"*{'abcdefghi'[k - 1]}" if k else '"lol"'] * 9) + "]" for k in range(9)] + ["jobs: [*i]"])


@pytest.mark.parametrize("text, words", [
    ("jobs:\n\t- workflow: wide.json\n", "at line 2, column 1"),
    ("jobs:\n  - !!python/object/apply:os.system [\"echo hacked\"]\n", "at line 2, column 5"),
    ("jobs:\n  - workflow: \x01wide.json\n", "at line 2, column 15"),
    (BOMB, "expands to over 100,000 values"),
])
def test_hostile_yaml_manifests_are_refused_quickly_where_they_go_wrong(tmp_path, capsys, text, words):
    manifest = tmp_path / "jobs.yaml"
    manifest.write_text(text)
    start = time.monotonic()
    code = client(["--manifest", str(manifest), "--out", str(tmp_path / "out")])
    assert time.monotonic() - start < 5, "refused from the manifest's text, its aliases never expanded"
    one_line_error(capsys, code, EXIT_CODES["bad input"], words)
    assert not (tmp_path / "out").exists()


def test_garbage_bytes_are_named(tmp_path, capsys):
    manifest = tmp_path / "jobs.yaml"
    manifest.write_bytes(b"jobs:\n  - \xff\xfe\x00")
    one_line_error(capsys, client(["--manifest", str(manifest)]), EXIT_CODES["bad input"], "is not UTF-8 text (byte 10")


def test_the_batch_refuses_an_alias_bomb_within_a_second(tmp_path):
    manifest = tmp_path / "jobs.yaml"
    manifest.write_text(BOMB)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "synctweedies", "batch", str(manifest)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "expands to over 100,000 values" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - start < 15, "the refusal itself is immediate; this allows for starting Python"


# 5. The standalone command checks its numbers before allocating -----------------------------------------------

@pytest.mark.parametrize("flags, words", [
    (["--app", "wide_image", "--prompt", "x", "--num_inference_steps", "0"], "--num_inference_steps is 0, outside 1"),
    (["--app", "wide_image", "--prompt", "x", "--panorama_width", "1000000000"], "--panorama_width is 1e+09, outside"),
    (["--app", "mesh", "--mesh", "m.obj", "--prompt", "x", "--model", "sd", "--latent_tex_size", "1000000"],
     "--latent_tex_size is 1e+06, outside 8 to 4096"),
    (["--app", "mesh", "--mesh", "m.obj", "--prompt", "x", "--model", "sd", "--camera_azims",
      *map(str, range(100000))], "--camera_azims gives 100000 cameras; at most 100"),
    (["--app", "mesh", "--mesh", "m.obj", "--prompt", "x", "--model", "sd", "--mesh_scale", "0"],
     "--mesh_scale is 0, outside 0.01 to 10"),
    (["--app", "mesh", "--mesh", "m.obj", "--prompt", "x", "--model", "sd", "--mesh_scale", "-1"],
     "--mesh_scale is -1"),
    (["--app", "panorama", "--guidance_scale", "inf"], "--guidance_scale is inf: give a finite number"),
    (["--app", "gs", "--prompt", "x", "--plyfile", "a.ply", "--model", "sd", "--total_image_to_use", "0"],
     "--total_image_to_use is 0"),
    (["--app", "wide_image", "--prompt", "x", "--tag", "../elsewhere"], "not a plain name"),
])
def test_the_command_refuses_numbers_the_nodes_refuse_before_allocating(tmp_path, capsys, flags, words):
    from synctweedies.standalone.cli import main as command

    start = time.monotonic()
    code = command([*flags, "--save_top_dir", str(tmp_path / "out")])
    assert time.monotonic() - start < 30, "refused before anything is allocated"
    one_line_error(capsys, code, 2, words)
    assert not (tmp_path / "out").exists()


NODE_INPUTS = {("SyncTweediesSampler", "steps"): "num_inference_steps",
               ("SyncTweediesSampler", "cfg"): "guidance_scale",
               ("SyncTweediesWideCanvas", "width"): "panorama_width",
               ("SyncTweediesMesh", "mesh_scale"): "mesh_scale",
               ("SyncTweediesMesh", "latent_texture"): "latent_tex_size",
               ("SyncTweediesMesh", "view_size"): "rgb_view_size",
               ("SyncTweediesGaussians", "total_image_to_use"): "total_image_to_use"}


def test_the_command_and_the_nodes_take_the_same_ranges(nodes):
    """Each node input's range, read from the node's schema in the host, is the command's flag's range."""
    from synctweedies.original import RANGES

    schemas = {schema.node_id: schema for schema in (node.define_schema() for node in nodes.NODES)}
    for (node, name), flag in NODE_INPUTS.items():
        widget = next(item for item in schemas[node].inputs if item.id == name)
        assert (widget.min, widget.max) == RANGES[flag], (node, name)


# 6, 7. Rooms and one home for the original's settings ------------------------------------------------------------

def pack_modules() -> dict[str, Path]:
    """Every module of the library and the nodes, by dotted name."""
    modules = {}
    for folder in ("synctweedies", "nodes"):
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The pack's modules that ``name`` imports (relative and absolute, at any depth of the file)."""
    import ast

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found |= {candidate for candidate in candidates if candidate in known and candidate != name}
    return found


def test_no_two_modules_of_the_pack_import_each_other():
    modules = pack_modules()
    graph = {name: imports_of(name, path, set(modules)) for name, path in modules.items()}
    assert graph["synctweedies.standalone.batch"] >= {"synctweedies.standalone.cli", "synctweedies.jobs"}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(step == goal or (step not in seen and not seen.add(step) and reaches(step, goal, seen))
                   for step in graph[start])

    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    cycles = [(a, b) for a in graph for b in graph[a]
              if b not in packages and a not in packages and reaches(b, a, set())]
    assert not cycles, f"modules that import each other: {cycles}"
    rooms = lambda name: name.split(".")[1] if name.count(".") > 1 else None  # noqa: E731
    crossing = [(a, b) for a in graph for b in graph[a] if {rooms(a), rooms(b)} == {"mesh", "gaussians"}]
    assert not crossing, f"one application's room imports another's: {crossing}"


def test_no_module_is_named_like_a_standard_library_module():
    clashes = [path for path in pack_modules().values() if path.stem in sys.stdlib_module_names]
    assert not clashes


def test_the_library_keeps_the_algorithm_and_the_standalone_command_has_its_own_room():
    library = {path.stem for path in (ROOT / "synctweedies").glob("*.py")}
    assert not library & {"cli", "apps", "batch", "diffusers_backend", "queue"}
    standalone = {path.stem for path in (ROOT / "synctweedies" / "standalone").glob("*.py")}
    assert {"cli", "apps", "batch", "diffusers_backend"} <= standalone


def test_the_originals_negative_prompt_and_prefix_are_written_once():
    from synctweedies.original import NEGATIVE_PROMPT, PROMPT_PREFIX

    python = [p for p in ROOT.rglob("*.py") if ".git" not in p.parts]
    for text in (NEGATIVE_PROMPT[:30], PROMPT_PREFIX.strip()):
        assert [p.relative_to(ROOT).as_posix() for p in python if text in p.read_text()] == ["synctweedies/original.py"]
