"""Queue an API-format workflow on a running ComfyUI, show its progress and save every file it writes.

    python path/to/ComfyUI-SyncTweedies/synctweedies/queue.py workflows/api/wide_image.json \\
        --set "Load Checkpoint.ckpt_name=my.safetensors"
    python .../queue.py --manifest jobs.json --server 127.0.0.1:8188 --server 127.0.0.1:8189

With ``--manifest`` (a JSON list of jobs ``{"workflow": PATH, "set": ["NODE.INPUT=VALUE", ...], "name": NAME}``,
workflow paths relative to the manifest) each job goes to the next free server (one ComfyUI per GPU) and its files
to ``--out/NAME``; a job whose folder exists finished before and is skipped, so a re-run after an interruption
does only the rest; a failing job is reported and the others go on.

This file stands alone (standard library and aiohttp, which ComfyUI itself needs), so it runs from any folder.
It talks to the host over HTTP and its websocket only; everything it writes goes under ``--out``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable
from urllib.parse import urlencode

EXIT_CODES = {"done": 0, "failed": 1, "bad input": 2, "no server": 3}
"""What the command's exit status means."""


class WorkflowError(RuntimeError):
    """The host rejected the workflow, failed while running it, or lost it."""


def read_json(path: Path):
    """The JSON document in ``path``; a ValueError that says why it cannot be read."""
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
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


def unique_path(path: Path) -> Path:
    """``path``, or ``name_1.ext``, ``name_2.ext``... if it exists: outputs never overwrite files."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}_{n}{path.suffix}")
    return candidate


def output_target(out_dir: Path, entry: dict) -> Path:
    """Where a file the host reports (``filename``, ``subfolder``) goes under ``out_dir``: a ValueError for any
    name that would lead elsewhere (an absolute or ``..`` subfolder, a file name with a folder in it)."""
    filename, subfolder = str(entry.get("filename", "")), str(entry.get("subfolder", ""))
    parts = PurePosixPath(subfolder.replace("\\", "/")).parts
    if not filename or PurePosixPath(filename.replace("\\", "/")).name != filename or filename in (".", "..") \
            or PurePosixPath(subfolder).is_absolute() or any(part in ("..", "/") or ":" in part for part in parts):
        raise ValueError(f"the host reported the file {subfolder!r}/{filename!r}, which is not a plain name under "
                         "its output folder; it was not saved")
    return out_dir.joinpath(*parts, filename)


def rejection(answer) -> str:
    """The host's answer to a rejected prompt, each node's error first."""
    if not isinstance(answer, dict):
        return str(answer)
    lines = []
    for node, report in (answer.get("node_errors") or {}).items():
        for error in report.get("errors", []):
            lines.append(f"node {node} ({report.get('class_type', '?')}): {error.get('message', '')}"
                         + (f": {error['details']}" if error.get("details") else ""))
    overall = answer.get("error")
    if isinstance(overall, dict) and not lines:
        lines.append(f"{overall.get('message', '')}" + (f": {overall['details']}" if overall.get("details") else ""))
    return "\n".join(lines) or json.dumps(answer)


def show_progress(value: int, maximum: int, node: str) -> None:
    width = 30
    filled = int(width * value / max(maximum, 1))
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {value}/{maximum} node {node}", end="", file=sys.stderr,
          flush=True)


async def prompt_is_known(session, prompt_id: str) -> bool:
    """Whether the host still has the prompt: queued, running or finished."""
    async with session.get("/queue") as response:
        queue = await response.json()
    entries = queue.get("queue_running", []) + queue.get("queue_pending", [])
    if any(len(entry) > 1 and entry[1] == prompt_id for entry in entries):
        return True
    async with session.get(f"/history/{prompt_id}") as response:
        return prompt_id in await response.json()


async def wait_for(session, socket, prompt_id: str, progress: bool, check_every: float) -> None:
    """Follow the websocket until the prompt ends; a WorkflowError if it fails, is interrupted or vanishes."""
    import aiohttp

    while True:
        try:
            message = await socket.receive(timeout=check_every)
        except asyncio.TimeoutError:
            if not await prompt_is_known(session, prompt_id):
                raise WorkflowError("the prompt is no longer on the host (removed from its queue?)") from None
            continue
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            raise WorkflowError("the host closed the connection")
        if message.type != aiohttp.WSMsgType.TEXT:
            continue
        event = json.loads(message.data)
        data = event.get("data", {})
        if data.get("prompt_id") not in (None, prompt_id):
            continue
        if event["type"] == "progress" and progress:
            show_progress(data["value"], data["max"], data.get("node", "?"))
        elif event["type"] == "execution_error":
            raise WorkflowError(f"node {data.get('node_id')} ({data.get('node_type')}) failed: "
                                f"{data.get('exception_message', '').strip()}")
        elif event["type"] == "execution_interrupted":
            raise WorkflowError("the run was interrupted")
        elif event["type"] == "execution_success" or (event["type"] == "executing" and data.get("node") is None):
            return


async def finished_outputs(session, prompt_id: str, poll_s: float = 0.1) -> dict:
    """The run's outputs from the host's history, which the host writes just after announcing success."""
    for _ in range(600):
        async with session.get(f"/history/{prompt_id}") as response:
            history = await response.json()
        if prompt_id in history:
            return history[prompt_id]["outputs"]
        await asyncio.sleep(poll_s)
    raise WorkflowError("the run finished but the host kept no history of it")


def saved_files(outputs: dict) -> list[dict]:
    """Every file entry (``filename``, ``subfolder``, ``type`` "output") in a run's outputs: images, animations,
    meshes (``3d``), Gaussians..."""
    return [entry for node_outputs in outputs.values() for values in node_outputs.values() if isinstance(values, list)
            for entry in values if isinstance(entry, dict) and entry.get("type") == "output" and "filename" in entry]


async def run_workflow(workflow: dict, server: str = "127.0.0.1:8188", out_dir: Path | None = None,
                       progress: bool = True, timeout: float = 3600.0, check_every: float = 5.0) -> list[Path]:
    """Queue ``workflow`` on ``server``, wait at most ``timeout`` seconds for it (checking every ``check_every``
    seconds that the host still has it), and save the files it wrote under ``out_dir``; their paths."""
    import aiohttp

    client_id = uuid.uuid4().hex
    saved: list[Path] = []
    async with aiohttp.ClientSession(f"http://{server}", timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async with session.ws_connect(f"/ws?clientId={client_id}") as socket:
            async with session.post("/prompt", json={"prompt": workflow, "client_id": client_id}) as response:
                answer = await response.json(content_type=None)
                if response.status != 200:
                    raise WorkflowError(f"the host rejected the workflow:\n{rejection(answer)}")
            prompt_id = answer["prompt_id"]
            await asyncio.wait_for(wait_for(session, socket, prompt_id, progress, check_every), timeout)
        if progress:
            print(file=sys.stderr)
        for entry in saved_files(await finished_outputs(session, prompt_id)):
            if out_dir is None:
                continue
            try:
                target = unique_path(output_target(out_dir, entry))
            except ValueError as error:
                print(f"warning: {error}", file=sys.stderr)
                continue
            query = urlencode({k: entry.get(k, "") for k in ("filename", "subfolder", "type")})
            async with session.get(f"/view?{query}") as response:
                if response.status != 200:
                    print(f"warning: the host could not send {entry['filename']} (HTTP {response.status}); "
                          "it was not saved", file=sys.stderr)
                    continue
                content = await response.read()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            saved.append(target)
    return saved


@dataclass
class Job:
    """A manifest entry: its name (its folder under ``--out``), workflow, or why it cannot run."""

    index: int
    name: str
    workflow: dict | None = None
    problem: str | None = None


def read_jobs(path: Path) -> list[Job]:
    """The jobs of a manifest; a ValueError for a manifest that cannot be read at all."""
    document = read_json(path)
    entries = document.get("jobs") if isinstance(document, dict) else document
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path} holds no jobs: write a list of {{\"workflow\": ..., \"set\": [...]}}.")
    jobs, names = [], set()
    for index, entry in enumerate(entries):
        entry = entry if isinstance(entry, dict) else {}
        workflow = Path(str(entry.get("workflow", "")))
        name = str(entry.get("name") or f"{index + 1:03d}_{workflow.stem}")
        job = Job(index, name)
        try:
            if not entry.get("workflow"):
                raise ValueError("a job needs its \"workflow\" (an API-format workflow file)")
            if PurePosixPath(name.replace("\\", "/")).name != name or name in (".", ".."):
                raise ValueError(f"the name {name!r} must be a plain folder name")
            if name in names:
                raise ValueError(f"another job is named {name!r}; give each job its own name")
            overrides = entry.get("set", [])
            if not isinstance(overrides, list):
                raise ValueError("\"set\" is a list of \"NODE.INPUT=VALUE\"")
            job.workflow = apply_overrides(load_workflow(path.parent / workflow), [str(o) for o in overrides])
        except ValueError as error:
            job.problem = str(error)
        names.add(name)
        jobs.append(job)
    return jobs


async def run_jobs(jobs: list[Job], servers: list[str], out_dir: Path, timeout: float,
                   report: Callable[[Job, str], None]) -> dict[int, str]:
    """Each pending job on the next free server; returns every job's status ("done", "skipped", "failed", or
    "unreachable" when no server could take it).

    A job writes into ``NAME.partial`` and is renamed to ``NAME`` when all its files are saved. A server that
    cannot be reached gives its job back to the others and takes no more."""
    import aiohttp

    status: dict[int, str] = {}
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in jobs:
        if job.problem:
            status[job.index] = "failed"
            report(job, f"FAILED: {job.problem}")
        elif (out_dir / job.name).exists():
            status[job.index] = "skipped"
            report(job, "skipped: finished before")
        else:
            queue.put_nowait(job)

    async def serve(server: str) -> None:
        while not queue.empty():
            job = queue.get_nowait()
            partial = out_dir / f"{job.name}.partial"
            if partial.exists():
                shutil.rmtree(partial)  # an interrupted job's files, never a finished one's
            try:
                saved = await run_workflow(job.workflow, server, partial, progress=False, timeout=timeout)
            except (WorkflowError, asyncio.TimeoutError, ValueError) as error:  # before OSError: a timeout is one
                shutil.rmtree(partial, ignore_errors=True)
                status[job.index] = "failed"
                report(job, f"FAILED on {server}: {str(error) or f'took longer than --timeout {timeout:g} s'}")
                continue
            except (aiohttp.ClientConnectionError, OSError) as error:
                queue.put_nowait(job)
                report(job, f"{server} cannot be reached ({error}); the job goes to another server")
                return
            partial.mkdir(parents=True, exist_ok=True)
            partial.rename(out_dir / job.name)
            status[job.index] = "done"
            report(job, f"done on {server}: {len(saved)} files")

    out_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.gather(*(serve(server) for server in servers))
    while not queue.empty():
        job = queue.get_nowait()
        status[job.index] = "unreachable"
        report(job, "FAILED: no server could be reached")
    return status


def run_manifest(path: Path, servers: list[str], out_dir: Path, timeout: float) -> int:
    try:
        jobs = read_jobs(path)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CODES["bad input"]

    def report(job: Job, line: str) -> None:
        print(f"[{job.index + 1}/{len(jobs)}] {job.name}: {line}", flush=True)

    status = asyncio.run(run_jobs(jobs, servers, out_dir, timeout, report))
    counts = {name: sum(value == name for value in status.values())
              for name in ("done", "skipped", "failed", "unreachable")}
    print(f"{counts['done']} done, {counts['skipped']} skipped (finished before), "
          f"{counts['failed'] + counts['unreachable']} failed, of {len(jobs)} jobs")
    if counts["unreachable"] and not counts["done"]:
        return EXIT_CODES["no server"]
    return EXIT_CODES["failed"] if counts["failed"] + counts["unreachable"] else EXIT_CODES["done"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="queue.py", description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="Exit status: " + ", ".join(f"{code} {meaning}" for meaning, code in EXIT_CODES.items()) + ".")
    parser.add_argument("workflow", type=Path, nargs="?", help="an API-format workflow JSON (workflows/api/*.json)")
    parser.add_argument("--manifest", type=Path, help="a JSON list of jobs to run instead of one workflow")
    parser.add_argument("--server", dest="servers", action="append", default=None, metavar="HOST:PORT",
                        help="a running ComfyUI; repeat for several (a manifest's jobs go to the next free one) "
                             "(default: 127.0.0.1:8188)")
    parser.add_argument("--out", type=Path, default=Path("outputs"), help="folder for every file the run writes")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.INPUT=VALUE",
                        help="set an input of a node (by id or title); repeatable")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the run")
    args = parser.parse_args(argv)
    servers = args.servers or ["127.0.0.1:8188"]
    if (args.workflow is None) == (args.manifest is None):
        parser.error("give a workflow or --manifest")
    if args.manifest is not None:
        if args.overrides:
            parser.error("--set applies to one workflow; in a manifest, give each job its \"set\" list")
        return run_manifest(args.manifest, servers, args.out, args.timeout)
    args.server = servers[0]
    try:
        workflow = apply_overrides(load_workflow(args.workflow), args.overrides)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CODES["bad input"]
    try:
        paths = asyncio.run(run_workflow(workflow, args.server, args.out, timeout=args.timeout))
    except ImportError:
        print("This command needs aiohttp: pip install aiohttp", file=sys.stderr)
        return EXIT_CODES["bad input"]
    except WorkflowError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CODES["failed"]
    except asyncio.TimeoutError:
        print(f"error: the run took longer than --timeout {args.timeout:g} s", file=sys.stderr)
        return EXIT_CODES["failed"]
    except ValueError as error:
        print(f"error: the host's answer is not what ComfyUI sends ({error}); is --server a ComfyUI?", file=sys.stderr)
        return EXIT_CODES["failed"]
    except OSError as error:
        print(f"error: cannot reach ComfyUI at {args.server} ({error}); is it running there? (--server HOST:PORT)",
              file=sys.stderr)
        return EXIT_CODES["no server"]
    for path in paths:
        print(path)
    return EXIT_CODES["done"]


if __name__ == "__main__":
    sys.exit(main())
