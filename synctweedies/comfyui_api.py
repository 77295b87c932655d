"""A running ComfyUI over HTTP and its websocket, as the client talks to it: queue a workflow, follow it, save
the files it wrote; every answer read under a size limit, the whole run under one deadline, and every odd answer a
:class:`WorkflowError` that says what it was.

Standard library and aiohttp (which ComfyUI itself needs) only.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from urllib.parse import urlencode

MiB = 2**20


class WorkflowError(RuntimeError):
    """The host rejected the workflow, failed while running it, lost it, or answered as ComfyUI does not."""


class NotComfyUI(WorkflowError):
    """What answers at the address is not ComfyUI's API."""


class NotSent(WorkflowError):
    """The host would not send one of the files it reported (that file is skipped, the others saved)."""


class LocalWriteError(RuntimeError):
    """A file could not be written here (name too long, a folder in the way, disk full...)."""


@dataclass(frozen=True)
class Limits:
    """The most the client reads from the host: one JSON answer, one saved file, and seconds for the whole run."""

    json_bytes: int = 64 * MiB
    file_bytes: int = 4096 * MiB
    timeout: float = 3600.0


def unique_path(path: Path) -> Path:
    """``path``, or ``name_1.ext``, ``name_2.ext``... if anything (a link too) is there: never overwrites."""
    candidate, n = path, 0
    while os.path.lexists(candidate):
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
        return str(answer)[:2000]
    lines = []
    node_errors = answer.get("node_errors")
    for node, report in (node_errors.items() if isinstance(node_errors, dict) else ()):
        errors = report.get("errors", []) if isinstance(report, dict) else []
        for error in errors if isinstance(errors, list) else []:
            if isinstance(error, dict):
                lines.append(f"node {node} ({report.get('class_type', '?')}): {error.get('message', '')}"
                             + (f": {error['details']}" if error.get("details") else ""))
    overall = answer.get("error")
    if isinstance(overall, dict) and not lines:
        lines.append(f"{overall.get('message', '')}" + (f": {overall['details']}" if overall.get("details") else ""))
    return "\n".join(lines) or json.dumps(answer)[:2000]


def show_progress(value, maximum, node) -> None:
    if not isinstance(value, (int, float)) or not isinstance(maximum, (int, float)):
        return
    width = 30
    filled = max(0, min(width, int(width * value / max(maximum, 1))))
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {value}/{maximum} node {node}", end="", file=sys.stderr,
          flush=True)


class Host:
    """One run's connection to a ComfyUI: every request bounded by the run's deadline and every answer by size."""

    def __init__(self, session, limits: Limits):
        self.session, self.limits = session, limits
        self.deadline = time.monotonic() + limits.timeout

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise asyncio.TimeoutError
        return left

    async def json(self, method: str, url: str, **kwargs):
        """The JSON answer to a request and its HTTP status; a NotComfyUI for anything that is not JSON or is over
        the JSON limit."""
        left = self.remaining()
        return await asyncio.wait_for(self._json(method, url, **kwargs), left)

    async def _json(self, method: str, url: str, **kwargs):
        async with self.session.request(method, url, **kwargs) as response:
            body = await response.content.read(self.limits.json_bytes + 1)
            while len(body) <= self.limits.json_bytes:
                more = await response.content.read(self.limits.json_bytes + 1 - len(body))
                if not more:
                    break
                body += more
            if len(body) > self.limits.json_bytes:
                raise NotComfyUI(f"{url} answered with over {self.limits.json_bytes // MiB} MiB "
                                 "(--max-json-mb); that is not what ComfyUI sends")
            try:
                return json.loads(body), response.status
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise NotComfyUI(f"{url} answered HTTP {response.status} with something that is not JSON; is the "
                                 "server a ComfyUI?") from None

    async def download(self, url: str, target: Path) -> None:
        """Stream the file at ``url`` into a new file ``target`` (never through a link, never over a file), under
        the file limit; a partial file is removed."""
        left = self.remaining()
        await asyncio.wait_for(self._download(url, target), left)

    async def _download(self, url: str, target: Path) -> None:
        async with self.session.get(url) as response:
            if response.status != 200:
                raise NotSent(f"the host could not send {target.name} (HTTP {response.status})")
            written = 0
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
            except OSError as error:
                raise LocalWriteError(f"cannot write {target}: {error.strerror}") from None
            try:
                with os.fdopen(handle, "wb") as file:
                    async for chunk in response.content.iter_chunked(MiB):
                        written += len(chunk)
                        if written > self.limits.file_bytes:
                            raise WorkflowError(f"the host sent over {self.limits.file_bytes // MiB} MiB for "
                                                f"{target.name}; raise --max-file-mb to save it")
                        try:
                            file.write(chunk)
                        except OSError as error:
                            raise LocalWriteError(f"cannot write {target}: {error.strerror}") from None
            except BaseException:
                target.unlink(missing_ok=True)
                raise


def answer_dict(answer, what: str) -> dict:
    if not isinstance(answer, dict):
        raise NotComfyUI(f"{what} answered with a JSON {type(answer).__name__}, not the object ComfyUI sends")
    return answer


async def prompt_is_known(host: Host, prompt_id: str) -> bool:
    """Whether the host still has the prompt: queued, running or finished."""
    queue = answer_dict((await host.json("GET", "/queue"))[0], "/queue")
    entries = [entry for key in ("queue_running", "queue_pending") for entry in queue.get(key) or []]
    if any(isinstance(entry, list) and len(entry) > 1 and entry[1] == prompt_id for entry in entries):
        return True
    return prompt_id in answer_dict((await host.json("GET", f"/history/{prompt_id}"))[0], "/history")


async def wait_for(host: Host, socket, prompt_id: str, progress: bool, check_every: float) -> None:
    """Follow the websocket until the prompt ends; a WorkflowError if it fails, is interrupted or vanishes, an
    asyncio.TimeoutError at the deadline even while events keep coming."""
    import aiohttp

    while True:
        try:
            message = await socket.receive(timeout=min(check_every, host.remaining()))
        except asyncio.TimeoutError:
            if not await prompt_is_known(host, prompt_id):
                raise WorkflowError("the prompt is no longer on the host (removed from its queue?)") from None
            continue
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            raise WorkflowError("the host closed the connection")
        if message.type != aiohttp.WSMsgType.TEXT:
            continue
        try:
            event = json.loads(message.data)
        except json.JSONDecodeError:
            raise NotComfyUI("the host's websocket sent something that is not JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("data", {}), dict):
            continue
        kind, data = event.get("type"), event.get("data", {})
        if data.get("prompt_id") not in (None, prompt_id):
            continue
        if kind == "progress" and progress:
            show_progress(data.get("value"), data.get("max"), data.get("node", "?"))
        elif kind == "execution_error":
            raise WorkflowError(f"node {data.get('node_id')} ({data.get('node_type')}) failed: "
                                f"{str(data.get('exception_message', '')).strip()}")
        elif kind == "execution_interrupted":
            raise WorkflowError("the run was interrupted")
        elif kind == "execution_success" or (kind == "executing" and data.get("node") is None):
            return


async def finished_outputs(host: Host, prompt_id: str, poll_s: float = 0.1) -> dict:
    """The run's outputs from the host's history, which the host writes just after announcing success."""
    while True:
        history = answer_dict((await host.json("GET", f"/history/{prompt_id}"))[0], "/history")
        if prompt_id in history:
            entry = history[prompt_id]
            outputs = entry.get("outputs") if isinstance(entry, dict) else None
            if not isinstance(outputs, dict):
                raise NotComfyUI(f"the host's history of the prompt has no outputs object (it has "
                                 f"{type(outputs).__name__})")
            return outputs
        await asyncio.sleep(min(poll_s, host.remaining()))


def saved_files(outputs: dict) -> list[dict]:
    """Every file entry (``filename``, ``subfolder``, ``type`` "output") in a run's outputs: images, animations,
    meshes (``3d``), Gaussians..."""
    return [entry for node_outputs in outputs.values() if isinstance(node_outputs, dict)
            for values in node_outputs.values() if isinstance(values, list)
            for entry in values if isinstance(entry, dict) and entry.get("type") == "output" and "filename" in entry]


async def run_workflow(workflow: dict, server: str = "127.0.0.1:8188", out_dir: Path | None = None,
                       progress: bool = True, timeout: float = 3600.0, check_every: float = 5.0,
                       limits: Limits | None = None) -> list[Path]:
    """Queue ``workflow`` on ``server``, wait for it (checking every ``check_every`` seconds that the host still
    has it), and save the files it wrote under ``out_dir``; their paths. ``timeout`` seconds bound all of it."""
    import aiohttp

    limits = replace(limits or Limits(), timeout=timeout)
    client_id = uuid.uuid4().hex
    saved: list[Path] = []
    async with aiohttp.ClientSession(f"http://{server}", timeout=aiohttp.ClientTimeout(total=timeout),
                                     max_line_size=65536, max_field_size=65536) as session:
        host = Host(session, limits)
        try:
            socket = await asyncio.wait_for(session.ws_connect(f"/ws?clientId={client_id}",
                                                               max_msg_size=limits.json_bytes), host.remaining())
        except aiohttp.WSServerHandshakeError as error:
            raise NotComfyUI(f"{server} answers HTTP ({error.status}) but has no ComfyUI websocket at /ws") from None
        async with socket:
            answer, status = await host.json("POST", "/prompt", json={"prompt": workflow, "client_id": client_id})
            if status != 200:
                raise WorkflowError(f"the host rejected the workflow:\n{rejection(answer)}")
            prompt_id = answer.get("prompt_id") if isinstance(answer, dict) else None
            if not isinstance(prompt_id, str) or not prompt_id:
                raise NotComfyUI(f"/prompt answered without a prompt_id: {json.dumps(answer)[:200]}")
            await wait_for(host, socket, prompt_id, progress, check_every)
        if progress:
            print(file=sys.stderr)
        for entry in saved_files(await finished_outputs(host, prompt_id)):
            if out_dir is None:
                continue
            try:
                target = unique_path(output_target(out_dir, entry))
            except ValueError as error:
                print(f"warning: {error}", file=sys.stderr)
                continue
            if any(part.is_symlink() for part in [target.parent, *target.parent.parents]
                   if part.is_relative_to(out_dir) and part != out_dir):
                print(f"warning: {target.parent} is a symbolic link; {entry['filename']} was not saved",
                      file=sys.stderr)
                continue
            query = urlencode({k: entry.get(k, "") for k in ("filename", "subfolder", "type")})
            try:
                await host.download(f"/view?{query}", target)
            except NotSent as error:
                print(f"warning: {error}; it was not saved", file=sys.stderr)
                continue
            saved.append(target)
    return saved
