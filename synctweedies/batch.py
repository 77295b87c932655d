"""``python -m synctweedies batch MANIFEST [--ray ADDRESS]``: many runs of the standalone command.

A manifest is a JSON (or, with PyYAML, YAML) list of jobs, or ``{"jobs": [...]}``; a job is the command's flags
as a mapping (``{"app": "mesh", "prompt": "...", "mesh": "bag.obj", "initialize_xt_from_zt": true}``: true adds
a switch, false leaves it out, a list gives several values) or as ``{"argv": [...]}``. Paths are relative to the
current folder. Every job writes ``save_top_dir/tag`` (default ``./output/<app>``), so each job needs its own tag.

A job whose folder holds a finished run is skipped, so running the batch again after an interruption redoes
only what did not finish (a run is written as ``tag.partial`` and renamed when complete); outputs are never
written over; a failing job is reported and the others go on. With ``--ray`` the jobs run on a Ray cluster, one
task per GPU (or per ``--workers``) on workers that load each model once; all workers must see the same files.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Job:
    """One manifest entry: its position, flags and the folder it writes (None until its flags parse)."""

    index: int
    argv: list[str]
    folder: Path | None = None
    problem: str | None = None


@dataclass
class Outcome:
    index: int
    status: str  # "done", "skipped" or "failed"
    detail: str = ""
    seconds: float = 0.0


def flags_of(entry: dict) -> list[str]:
    """A manifest job → the command's argv."""
    if "argv" in entry:
        argv = entry["argv"]
        if not isinstance(argv, list) or not all(isinstance(a, (str, int, float)) for a in argv):
            raise ValueError("'argv' must be a list of flags and values.")
        return [str(a) for a in argv]
    argv = []
    for key, value in entry.items():
        flag = f"--{key}"
        if value is True:
            argv.append(flag)
        elif value is False or value is None:
            continue
        elif isinstance(value, list):
            argv += [flag, *map(str, value)]
        elif isinstance(value, (str, int, float)):
            argv += [flag, str(value)]
        else:
            raise ValueError(f"{key}: give a text, number, true/false or a list, not {type(value).__name__}.")
    return argv


def read_manifest(path: Path) -> list[Job]:
    """The jobs of a manifest file; a ValueError saying what is wrong with the file itself."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ValueError(f"cannot read the manifest {path}: {error.strerror}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ValueError("YAML manifests need PyYAML (pip install pyyaml); or write the manifest as JSON.") from None
        document = yaml.safe_load(text)
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not JSON: {error}") from None
    entries = document.get("jobs") if isinstance(document, dict) else document
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path} holds no jobs: write a list of jobs, or {{\"jobs\": [...]}}.")
    jobs = []
    for index, entry in enumerate(entries):
        job = Job(index, [])
        try:
            if not isinstance(entry, dict):
                raise ValueError("a job is a mapping of the command's flags to their values.")
            job.argv = flags_of(entry)
        except ValueError as error:
            job.problem = str(error)
        jobs.append(job)
    return jobs


def plan_jobs(jobs: list[Job]) -> None:
    """Give every job its output folder, or the problem that stops it (bad flags, a folder another job writes)."""
    from .cli import parse, run_folder_path

    owners: dict[Path, int] = {}
    for job in jobs:
        if job.problem:
            continue
        try:
            _, args = parse(job.argv)
            if args.save_dir_now:
                raise ValueError("--save_dir_now makes a new folder on every run, so a batch cannot tell that the "
                                 "job finished: leave it out and give the job its own --tag.")
            job.folder = run_folder_path(args)
        except (ValueError, SystemExit) as error:
            job.problem = str(error) if isinstance(error, ValueError) else "its flags do not parse (see above)"
            continue
        key = job.folder.resolve()
        if key in owners:
            job.problem = f"job {owners[key] + 1} writes the same folder {job.folder}; give each job its own --tag."
        else:
            owners[key] = job.index


def finished(folder: Path) -> bool:
    """Whether ``folder`` holds a finished run (runs are renamed to their folder only when complete)."""
    return (folder / "results").is_dir() and (folder / "config.json").is_file()


class Worker:
    """Runs jobs one after another, keeping each loaded model for the next job."""

    def __init__(self):
        from .cli import Models

        self.models = Models()

    def run(self, index: int, argv: list[str]) -> Outcome:
        from .cli import parse, run

        start = time.perf_counter()
        try:
            app, args = parse(argv)
            run(app, args, self.models)
        except Exception as error:  # one job's failure is reported, and the batch goes on
            return Outcome(index, "failed", f"{type(error).__name__}: {error}", time.perf_counter() - start)
        return Outcome(index, "done", f"worker {os.getpid()}, {len(self.models.loaded)} models loaded",
                       time.perf_counter() - start)


def run_local(pending: list[Job]):
    worker = Worker()
    for job in pending:
        yield worker.run(job.index, job.argv)


def run_on_ray(pending: list[Job], address: str, workers: int | None):
    """Jobs on a Ray cluster (``address`` "local" starts one here): one actor per GPU, or ``workers`` actors."""
    try:
        import ray
        from ray.util import ActorPool
    except ImportError:
        raise ValueError("--ray needs Ray: pip install ray") from None
    environment = {"env_vars": {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}}
    if not ray.is_initialized() and address == "local":
        ray.init(num_cpus=max(workers or 1, 1), object_store_memory=256 * 2**20, include_dashboard=False,
                 runtime_env=environment)
    elif not ray.is_initialized():
        ray.init(address=address, runtime_env=environment)
    gpus = int(ray.cluster_resources().get("GPU", 0))
    count = workers or max(gpus, 1)
    options = {"num_gpus": 1} if gpus else {"num_cpus": 1}
    actors = [ray.remote(**options)(Worker).remote() for _ in range(min(count, len(pending)))]
    yield from ActorPool(actors).map_unordered(lambda actor, job: actor.run.remote(job.index, job.argv), pending)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m synctweedies batch",
        description="Runs every job of a manifest with the standalone command: jobs that finished before are "
                    "skipped, outputs are never written over, a failing job is reported and the others go on.")
    parser.add_argument("manifest", type=Path, help="a JSON (or YAML) list of jobs")
    parser.add_argument("--ray", metavar="ADDRESS", default=None,
                        help="run on a Ray cluster: its address, 'auto', or 'local' to start one here")
    parser.add_argument("--workers", type=int, default=None,
                        help="Ray workers (default: one per GPU of the cluster, or 1)")
    options = parser.parse_args(argv)
    try:
        jobs = read_manifest(options.manifest)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    plan_jobs(jobs)
    outcomes = {job.index: Outcome(job.index, "failed", job.problem) for job in jobs if job.problem}
    outcomes.update({job.index: Outcome(job.index, "skipped", "finished before")
                     for job in jobs if not job.problem and finished(job.folder)})
    pending = [job for job in jobs if job.index not in outcomes]
    for index in sorted(outcomes):
        report(jobs[index], outcomes[index], len(jobs))
    try:
        runner = run_on_ray(pending, options.ray, options.workers) if options.ray else run_local(pending)
        for outcome in runner:
            outcomes[outcome.index] = outcome
            report(jobs[outcome.index], outcome, len(jobs))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    counts = {status: sum(o.status == status for o in outcomes.values()) for status in ("done", "skipped", "failed")}
    print(f"{counts['done']} done, {counts['skipped']} skipped (finished before), {counts['failed']} failed, "
          f"of {len(jobs)} jobs")
    return 1 if counts["failed"] else 0


def report(job: Job, outcome: Outcome, total: int) -> None:
    line = {"done": f"done in {outcome.seconds:.1f} s ({outcome.detail})", "skipped": "skipped: finished before",
            "failed": f"FAILED: {outcome.detail}"}[outcome.status]
    print(f"[{job.index + 1}/{total}] {job.folder or 'job ' + str(job.index + 1)}: {line}", flush=True)
