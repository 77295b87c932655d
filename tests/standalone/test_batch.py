"""``python -m synctweedies batch``: every job run once, failures reported per job, resume after a kill, Ray."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("diffusers", reason="diffusers is not installed (pip install diffusers transformers)")
pytest.importorskip("transformers", reason="transformers is not installed (pip install diffusers transformers)")

from diffusers_support import tiny_sd_pipeline  # noqa: E402
from synctweedies.standalone.batch import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    return tiny_sd_pipeline(tmp_path_factory.mktemp("tiny_sd"))


def wide_job(pipeline, out, tag, steps=2, **extra):
    return {"app": "wide_image", "sd_path": str(pipeline), "prompt": "a mountain", "save_top_dir": str(out),
            "tag": tag, "panorama_height": 64, "panorama_width": 128, "latent_instance_size": 8, "window_stride": 4,
            "num_inference_steps": steps, "log_step": 0, "initialize_xt_from_zt": True, **extra}


def write_manifest(path, jobs):
    path.write_text(json.dumps({"jobs": jobs}))
    return path


def outputs(out):
    """Every file under ``out`` with its modification time and size."""
    return {p.relative_to(out): (p.stat().st_mtime_ns, p.stat().st_size) for p in out.rglob("*") if p.is_file()}


def test_a_batch_runs_every_job_reports_failures_and_redoes_nothing(tiny_pipeline, tmp_path, capsys):
    out = tmp_path / "out"
    manifest = write_manifest(tmp_path / "jobs.json", [
        wide_job(tiny_pipeline, out, "a"), wide_job(tiny_pipeline, out, "broken", panorama_width=100),
        wide_job(tiny_pipeline, out, "b", case_num=0), wide_job(tiny_pipeline, out, "a", seed=3)])
    assert main([str(manifest)]) == 1
    printed = capsys.readouterr().out
    assert re.search(r"\[2/4\] .*broken: FAILED: .*panorama_width 100 is not divisible by 8", printed)
    assert re.search(r"\[4/4\] .*a: FAILED: job 1 writes the same folder", printed)
    assert "2 done, 0 skipped (finished before), 2 failed, of 4 jobs" in printed
    assert sorted(p.name for p in out.iterdir()) == ["a", "b"]
    assert len(set(re.findall(r"worker \d+, 1 models loaded", printed))) == 1, "one model load for the batch"
    before = outputs(out)
    assert main([str(manifest)]) == 1
    assert "0 done, 2 skipped (finished before), 2 failed" in capsys.readouterr().out
    assert outputs(out) == before, "nothing finished is redone or touched"


def test_a_killed_batch_resumes_where_it_stopped(tiny_pipeline, tmp_path, capsys):
    out = tmp_path / "out"
    manifest = write_manifest(tmp_path / "jobs.json",
                              [wide_job(tiny_pipeline, out, f"job{k}", steps=12) for k in range(3)])
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "synctweedies", "batch", str(manifest)], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (out / "job0" / "results").is_dir():
            assert process.poll() is None and time.monotonic() < deadline, "the batch stopped before its first job"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    first = outputs(out / "job0")
    assert main([str(manifest)]) == 0
    printed = capsys.readouterr().out
    assert "[1/3] " in printed and "job0: skipped: finished before" in printed
    assert "done, 1 skipped" in printed and "0 failed" in printed
    assert outputs(out / "job0") == first
    assert sorted(p.name for p in out.iterdir()) == ["job0", "job1", "job2"], "no half-written run is left"


@pytest.mark.parametrize("problem, message", [
    ("[]", "holds no jobs"), ("{", "is not JSON"), ('[{"app": "wide_image", "prompt": {"a": 1}}]', "give a text")])
def test_bad_manifests_are_named(tmp_path, capsys, problem, message):
    manifest = tmp_path / "jobs.json"
    manifest.write_text(problem)
    code = main([str(manifest)])
    printed = capsys.readouterr()
    assert code in (1, 2) and message in printed.out + printed.err


def test_six_jobs_on_a_local_ray_instance(tiny_pipeline, tmp_path, capsys):
    pytest.importorskip("ray", reason="ray is not installed (pip install ray): the Ray batch test needs it")
    import ray

    out = tmp_path / "out"
    jobs = [wide_job(tiny_pipeline, out, f"job{k}") for k in range(5)]
    jobs.insert(3, wide_job(tiny_pipeline, out, "broken", mesh="x.obj"))
    manifest = write_manifest(tmp_path / "jobs.json", jobs)
    try:
        assert main([str(manifest), "--ray", "local", "--workers", "2"]) == 1
        printed = capsys.readouterr().out
        assert "5 done, 0 skipped (finished before), 1 failed, of 6 jobs" in printed
        assert re.search(r"\[4/6\] job 4: FAILED: its flags do not parse", printed)
        loads = re.findall(r"worker (\d+), (\d+) models loaded", printed)
        assert len(loads) == 5 and {count for _, count in loads} == {"1"}, "each worker loads the model once"
        before = outputs(out)
        assert main([str(manifest), "--ray", "local", "--workers", "2"]) == 1
        assert "0 done, 5 skipped (finished before), 1 failed" in capsys.readouterr().out
        assert outputs(out) == before
    finally:
        ray.shutdown()


def test_jobs_stay_under_the_output_root_and_work_in_progress_collides_with_no_name(tiny_pipeline, tmp_path, capsys):
    """Tags named like another job's work in progress both finish; folders that leave the root (``..``, an absolute
    path elsewhere, a symbolic link) are refused by name while the others run; nothing is written outside."""
    root, outside = tmp_path / "batch", tmp_path / "outside"
    (root / "output").mkdir(parents=True)
    outside.mkdir()
    (root / "output" / "linked").symlink_to(outside, target_is_directory=True)
    jobs = [wide_job(tiny_pipeline, "output", "x.partial"), wide_job(tiny_pipeline, "output", "x"),
            wide_job(tiny_pipeline, "../outside", "escape"), wide_job(tiny_pipeline, str(outside), "absolute"),
            wide_job(tiny_pipeline, "output/linked", "through_link"), wide_job(tiny_pipeline, "output", "linked"),
            wide_job(tiny_pipeline, "output", "broken", panorama_width=100)]
    manifest = write_manifest(root / "jobs.json", jobs)
    assert main([str(manifest)]) == 1
    printed = capsys.readouterr().out
    assert "2 done, 0 skipped (finished before), 5 failed, of 7 jobs" in printed
    assert re.search(r"\[3/7\] job 3: FAILED: .*/outside/escape is outside the output root", printed)
    assert re.search(r"\[4/7\] job 4: FAILED: .*is outside the output root", printed)
    assert re.search(r"\[5/7\] output/linked/through_link: FAILED: .*is a symbolic link", printed)
    assert re.search(r"\[6/7\] output/linked: FAILED: .*is a symbolic link", printed)
    assert re.search(r"\[7/7\] output/broken: FAILED: .*not divisible by 8", printed)
    assert not any(outside.iterdir()), "nothing is written outside the root"
    assert sorted(p.name for p in (root / "output").iterdir()) == ["linked", "x", "x.partial"]
    assert sorted(p.name for p in root.iterdir()) == ["jobs.json", "output"], "no work folder is left behind"
    for tag in ("x", "x.partial"):
        assert (root / "output" / tag / "results" / "final.png").is_file()
    other = tmp_path / "elsewhere"
    assert main([str(manifest), "--out", str(other)]) == 1
    assert "3 done" in capsys.readouterr().out, "no link under that root: output/linked runs there"
    assert (other / "output" / "x" / "results" / "final.png").is_file()
