"""``python -m synctweedies batch MANIFEST [--out ROOT] [--ray ADDRESS]``: many runs of the standalone command.

A manifest is a JSON (or YAML) list of jobs, or ``{"jobs": [...]}``; a job is the command's flags as a mapping
(``{"app": "mesh", "prompt": "...", "mesh": "bag.obj", "initialize_xt_from_zt": true}``: true adds a switch, false
leaves it out, a list gives several values) or as ``{"argv": [...]}``. Input paths are relative to the current
folder. Every job writes ``save_top_dir/tag`` (default ``output/<app>``) under the batch's output root (``--out``,
by default the manifest's folder), so each job needs its own tag; a folder outside the root, or through a symbolic
link, is refused.

Jobs run once (:mod:`synctweedies.jobs`): a finished job is skipped, so running the batch again after an
interruption redoes only what did not finish; outputs are never written over; a failing job is reported and the
others go on. With ``--ray`` the jobs run on a Ray cluster, one task per GPU (or per ``--workers``) on workers that
load each model once; all workers must see the same files.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..jobs import Job, JobRun, Outcome, name_under, report_line
from ..manifest import read_manifest
from .cli import Models, finished_run, planned, run_name, write_run
from .flags import parse


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
        elif isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
            argv += [flag, *map(str, value)]
        elif isinstance(value, (str, int, float)):
            argv += [flag, str(value)]
        else:
            raise ValueError(f"{key}: give a text, number, true/false or a list of them, not {type(value).__name__}.")
    return argv


def read_jobs(path: Path, root: Path) -> list[Job]:
    """The jobs of a manifest, each named by its folder under ``root`` (its ``spec`` the command's argv); a
    ValueError for a manifest that cannot be read at all."""
    jobs = []
    for index, entry in enumerate(read_manifest(path, '{"app": "wide_image", "prompt": "...", "tag": "first"}')):
        job = Job(index, "")
        try:
            if not isinstance(entry, dict):
                raise ValueError("a job is a mapping of the command's flags to their values.")
            job.spec = flags_of(entry)
            _, args = parse(job.spec)
            if args.save_dir_now:
                raise ValueError("--save_dir_now makes a new folder on every run, so a batch cannot tell that the "
                                 "job finished: leave it out and give the job its own --tag.")
            top = Path(args.save_top_dir)
            job.name = name_under(root, top / run_name(args) if top.is_absolute() else root / top / run_name(args))
        except (ValueError, SystemExit) as error:
            job.problem = str(error) if isinstance(error, ValueError) else "its flags do not parse (see above)"
        jobs.append(job)
    return jobs


class Worker:
    """Runs jobs one after another, keeping each loaded model for the next job."""

    def __init__(self):
        self.models = Models()

    def run(self, index: int, argv: list[str], folder: str) -> tuple[int, Outcome]:
        """Job ``index`` into its (empty) work ``folder``; a failure is reported, never raised."""
        start = time.perf_counter()
        try:
            app, args = parse(argv)
            write_run(*planned(app, args, self.models), args, Path(folder))
        except Exception as error:  # one job's failure is reported, and the batch goes on
            return index, Outcome("failed", f"{type(error).__name__}: {error}", time.perf_counter() - start)
        return index, Outcome("done", f"worker {os.getpid()}, {len(self.models.loaded)} models loaded",
                              time.perf_counter() - start)


def run_local(runs: JobRun) -> None:
    worker = Worker()
    for job in runs.pending:
        runs.finish(job, worker.run(job.index, job.spec, str(runs.start(job)))[1])


def run_on_ray(runs: JobRun, address: str, workers: int | None) -> None:
    """Jobs on a Ray cluster (``address`` "local" starts one here): one actor per GPU, or ``workers`` actors."""
    try:
        import ray
        from ray.util import ActorPool
    except ImportError:
        raise ValueError("--ray needs Ray: pip install ray") from None
    environment = {"env_vars": {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}}
    if not ray.is_initialized() and address == "local":
        ray.init(num_cpus=max(workers or 1, 1), object_store_memory=256 * 2**20, include_dashboard=False,
                 runtime_env=environment)
    elif not ray.is_initialized():
        ray.init(address=address, runtime_env=environment)
    gpus = int(ray.cluster_resources().get("GPU", 0))
    pending = runs.pending
    count = min(workers or max(gpus, 1), len(pending))
    options = {"num_gpus": 1} if gpus else {"num_cpus": 1}
    actors = [ray.remote(**options)(Worker).remote() for _ in range(count)]
    folders = {job.index: str(runs.start(job)) for job in pending}
    by_index = {job.index: job for job in pending}
    for index, outcome in ActorPool(actors).map_unordered(
            lambda actor, job: actor.run.remote(job.index, job.spec, folders[job.index]), pending):
        runs.finish(by_index[index], outcome)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m synctweedies batch",
        description="Runs every job of a manifest with the standalone command: jobs that finished before are "
                    "skipped, outputs are never written over, a failing job is reported and the others go on.")
    parser.add_argument("manifest", type=Path, help="a JSON (or YAML) list of jobs")
    parser.add_argument("--out", type=Path, default=None,
                        help="the output root every job's folder lies under (default: the manifest's folder)")
    parser.add_argument("--ray", metavar="ADDRESS", default=None,
                        help="run on a Ray cluster: its address, 'auto', or 'local' to start one here")
    parser.add_argument("--workers", type=int, default=None,
                        help="Ray workers (default: one per GPU of the cluster, or 1)")
    options = parser.parse_args(argv)
    root = (options.out or options.manifest.parent).absolute()
    try:
        jobs = read_jobs(options.manifest, root)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    runs = JobRun(jobs, root, report_line(len(jobs)), finished_run)
    try:
        if options.ray:
            run_on_ray(runs, options.ray, options.workers)
        else:
            run_local(runs)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        for job in runs.pending:  # an error above: jobs that never ran leave no work folder
            if job.work is not None:
                runs.finish(job, Outcome("failed", "not run"))
    counts = runs.close()
    print(runs.summary(counts))
    return 1 if counts["failed"] else 0
