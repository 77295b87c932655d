"""Queue an API-format workflow on a running ComfyUI, show its progress and save every file it writes.

    python path/to/ComfyUI-SyncTweedies/synctweedies/comfyui_client.py workflows/api/wide_image.json \\
        --set "Load Checkpoint.ckpt_name=my.safetensors"
    python .../comfyui_client.py --manifest jobs.json --server localhost:8188 --server localhost:8189

With ``--manifest`` (a JSON or YAML list of jobs ``{"workflow": PATH, "set": ["NODE.INPUT=VALUE", ...],
"name": NAME}``, workflow paths relative to the manifest) each job goes to the next free server (one ComfyUI per
GPU) and its files to ``--out/NAME`` (see :mod:`synctweedies.jobs`: a finished job is skipped on a re-run, a
failing one is reported and the others go on).

It needs only the standard library and aiohttp (which ComfyUI itself needs), runs from any folder, talks to the
host over HTTP and its websocket only, and writes only under ``--out``. Every answer of the host is read under a
size limit, and ``--timeout`` bounds the whole run.
"""
from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as a script: import the pack's library, not the modules beside this file as top-level
    sys.path[0] = str(Path(__file__).resolve().parents[1])
    __package__ = "synctweedies"  # noqa: A001

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402

from .comfyui_api import MiB, Limits, LocalWriteError, NotComfyUI, WorkflowError, run_workflow  # noqa: E402
from .jobs import Job, JobRun, Outcome, report_line  # noqa: E402
from .manifest import read_manifest  # noqa: E402

EXIT_CODES = {"done": 0, "failed": 1, "bad input": 2, "no server": 3, "cannot write": 4}
"""What the command's exit status means."""
DOWNLOADS = "synctweedies_downloads"
"""Where the client saves what a run writes unless told: beside ComfyUI's own ``output/`` when run from its folder,
never mistaken for it."""


def read_json(path: Path):
    """The JSON document in ``path``; a ValueError that says why it cannot be read."""
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not JSON: {error}") from None


def load_workflow(path: Path) -> dict:
    """An API-format workflow (``{node id: {"class_type", "inputs"}}``) from ``path``; a ValueError otherwise."""
    workflow = read_json(path)
    if isinstance(workflow, dict) and "nodes" in workflow:
        raise ValueError(f"{path} is in the editor's format; queue its API twin (workflows/api/).")
    if not isinstance(workflow, dict) or not workflow or not all(
            isinstance(node, dict) and isinstance(node.get("class_type"), str) for node in workflow.values()):
        raise ValueError(f"{path} is not an API-format workflow: a JSON object of nodes, each with a class_type "
                         "(export one with the editor's 'Export (API)').")
    return workflow


def apply_overrides(workflow: dict, overrides: list[str]) -> dict:
    """``["NODE.INPUT=VALUE", ...]`` → a copy of ``workflow`` with those inputs set.

    NODE is a node id or title; VALUE is parsed as JSON when it parses, else kept as text.
    """
    workflow = json.loads(json.dumps(workflow))
    for override in overrides:
        target, sep, value = override.partition("=")
        node, dot, name = target.rpartition(".")
        if not sep or not dot or not name:
            raise ValueError(f"--set {override!r}: write NODE.INPUT=VALUE, e.g. 'Wide canvas.width=1024'.")
        matches = [key for key, entry in workflow.items()
                   if key == node or entry.get("_meta", {}).get("title") == node]
        if len(matches) != 1:
            raise ValueError(f"--set {override!r}: {len(matches)} nodes have the id or title {node!r}.")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        workflow[matches[0]].setdefault("inputs", {})[name] = parsed
    return workflow


def failure(error: BaseException, server: str, timeout: float) -> tuple[str, str]:
    """An error of a run → (exit status name, one line that says it)."""
    import aiohttp

    if isinstance(error, asyncio.TimeoutError):
        return "failed", f"the run took longer than --timeout {timeout:g} s"
    if isinstance(error, LocalWriteError):
        return "cannot write", str(error)
    if isinstance(error, NotComfyUI):
        return "no server", f"{server} is not a ComfyUI: {error}"
    if isinstance(error, WorkflowError):
        return "failed", str(error)
    if isinstance(error, (aiohttp.ClientConnectionError, ConnectionError)) or (
            isinstance(error, OSError) and not isinstance(error, aiohttp.ClientError)):
        return "no server", f"cannot reach ComfyUI at {server} ({error}); is it running there? (--server HOST:PORT)"
    return "no server", f"{server} answered as ComfyUI does not ({type(error).__name__}: {error})"


def plain_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text).lstrip(".") or "job"


def read_jobs(path: Path) -> list[Job]:
    """The jobs of a manifest (each one's ``spec`` its workflow); a ValueError for a manifest that cannot be read."""
    entries = read_manifest(path, '{"workflow": "wide_image.json", "set": ["Prompt.text=a city"]}')
    jobs = []
    for index, entry in enumerate(entries):
        job = Job(index, "")
        try:
            if not isinstance(entry, dict) or not entry.get("workflow"):
                raise ValueError("a job needs its \"workflow\" (an API-format workflow file)")
            workflow = Path(str(entry["workflow"]))
            job.name = str(entry.get("name") or f"{index + 1:03d}_{plain_name(workflow.stem)}")
            overrides = entry.get("set", [])
            if not isinstance(overrides, list):
                raise ValueError("\"set\" is a list of \"NODE.INPUT=VALUE\"")
            job.spec = apply_overrides(load_workflow(path.parent / workflow), [str(o) for o in overrides])
        except ValueError as error:
            job.problem = str(error)
        jobs.append(job)
    return jobs


async def serve_jobs(run: JobRun, servers: list[str], limits: Limits) -> None:
    """Each pending job on the next free server. A server that cannot be reached gives its job back to the others
    and takes no more; jobs no server took fail as unreachable."""
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in run.pending:
        queue.put_nowait(job)

    async def serve(server: str) -> None:
        while not queue.empty():
            job = queue.get_nowait()
            start = time.perf_counter()
            try:
                saved = await run_workflow(job.spec, server, run.start(job), progress=False, timeout=limits.timeout,
                                           limits=limits)
            except Exception as error:  # noqa: BLE001 - every failure is reported per job
                status, line = failure(error, server, limits.timeout)
                if status == "no server":
                    queue.put_nowait(job)
                    print(f"[{job.index + 1}/{len(run.jobs)}] {job.name}: {line}; the job goes to another server",
                          flush=True)
                    return
                run.finish(job, Outcome("failed", f"on {server}: {line}", time.perf_counter() - start))
                continue
            run.finish(job, Outcome("done", f"on {server}: {len(saved)} files", time.perf_counter() - start))

    await asyncio.gather(*(serve(server) for server in servers))
    while not queue.empty():
        run.finish(queue.get_nowait(), Outcome("unreachable", "no server could be reached"))


def run_manifest(path: Path, servers: list[str], out_dir: Path, limits: Limits) -> int:
    try:
        jobs = read_jobs(path)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CODES["bad input"]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"error: cannot make --out {out_dir}: {error.strerror}", file=sys.stderr)
        return EXIT_CODES["cannot write"]
    run = JobRun(jobs, out_dir, report_line(len(jobs)))
    asyncio.run(serve_jobs(run, servers, limits))
    counts = run.close()
    print(run.summary(counts))
    if counts["unreachable"] and not counts["done"]:
        return EXIT_CODES["no server"]
    return EXIT_CODES["failed"] if counts["failed"] + counts["unreachable"] else EXIT_CODES["done"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="comfyui_client.py", description=__doc__.splitlines()[0],
        epilog="Exit status: " + ", ".join(f"{code} {meaning}" for meaning, code in EXIT_CODES.items()) + ".")
    parser.add_argument("workflow", type=Path, nargs="?", help="an API-format workflow JSON (workflows/api/*.json)")
    parser.add_argument("--manifest", type=Path, help="a JSON or YAML list of jobs to run instead of one workflow")
    parser.add_argument("--server", dest="servers", action="append", default=None, metavar="HOST:PORT",
                        help="a running ComfyUI; repeat for several (a manifest's jobs go to the next free one) "
                             "(default: 127.0.0.1:8188)")
    parser.add_argument("--out", type=Path, default=Path(DOWNLOADS),
                        help=f"folder for every file the run writes (default: {DOWNLOADS}, a name apart from "
                             "ComfyUI's own output folder)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.INPUT=VALUE",
                        help="set an input of a node (by id or title); repeatable")
    parser.add_argument("--timeout", type=float, default=Limits.timeout,
                        help="seconds for the whole run, saving included (per job with --manifest) (default: 3600)")
    parser.add_argument("--max-json-mb", type=float, default=Limits.json_bytes / MiB,
                        help="the largest JSON answer read from the host, in MiB (default: 64)")
    parser.add_argument("--max-file-mb", type=float, default=Limits.file_bytes / MiB,
                        help="the largest file saved from the host, in MiB (default: 4096)")
    args = parser.parse_args(argv)
    if not all(value > 0 for value in (args.timeout, args.max_json_mb, args.max_file_mb)):
        parser.error("--timeout, --max-json-mb and --max-file-mb must be positive")
    limits = Limits(int(args.max_json_mb * MiB), int(args.max_file_mb * MiB), args.timeout)
    servers = args.servers or ["127.0.0.1:8188"]
    if (args.workflow is None) == (args.manifest is None):
        parser.error("give a workflow or --manifest")
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        print("This command needs aiohttp: pip install aiohttp", file=sys.stderr)
        return EXIT_CODES["bad input"]
    if args.manifest is not None:
        if args.overrides:
            parser.error("--set applies to one workflow; in a manifest, give each job its \"set\" list")
        return run_manifest(args.manifest, servers, args.out, limits)
    try:
        workflow = apply_overrides(load_workflow(args.workflow), args.overrides)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CODES["bad input"]
    try:
        paths = asyncio.run(run_workflow(workflow, servers[0], args.out, timeout=limits.timeout, limits=limits))
    except Exception as error:  # noqa: BLE001 - one line and an exit status for every failure
        status, line = failure(error, servers[0], limits.timeout)
        print(f"error: {line}", file=sys.stderr)
        return EXIT_CODES[status]
    for path in paths:
        print(path)
    return EXIT_CODES["done"]


if __name__ == "__main__":
    sys.exit(main())
