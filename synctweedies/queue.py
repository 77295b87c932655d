"""Queue an API-format workflow on a running ComfyUI, show its progress and save its images.

    python -m synctweedies.queue workflows/wide_image_api.json --set "Load Checkpoint.ckpt_name=my.safetensors"

Talks to the host over HTTP and its websocket only (needs ``aiohttp``, which ComfyUI itself needs).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path
from urllib.parse import urlencode


class WorkflowError(RuntimeError):
    """The host rejected the workflow or failed while running it."""


def apply_overrides(workflow: dict, overrides: list[str]) -> dict:
    """``["NODE.INPUT=VALUE", ...]`` → a copy of ``workflow`` with those inputs set.

    NODE is a node id or title; VALUE is parsed as JSON when it parses, else kept as text.
    """
    workflow = json.loads(json.dumps(workflow))
    for override in overrides:
        target, sep, value = override.partition("=")
        node, dot, name = target.rpartition(".")
        if not sep or not dot:
            raise ValueError(f"--set {override!r}: write NODE.INPUT=VALUE, e.g. 'Wide canvas.width=1024'.")
        matches = [key for key, entry in workflow.items()
                   if key == node or entry.get("_meta", {}).get("title") == node]
        if len(matches) != 1:
            raise ValueError(f"--set {override!r}: {len(matches)} nodes have the id or title {node!r}.")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        workflow[matches[0]]["inputs"][name] = parsed
    return workflow


def unique_path(path: Path) -> Path:
    """``path``, or ``name_1.ext``, ``name_2.ext``... if it exists: outputs never overwrite files."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}_{n}{path.suffix}")
    return candidate


def show_progress(value: int, maximum: int, node: str) -> None:
    width = 30
    filled = int(width * value / max(maximum, 1))
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {value}/{maximum} node {node}", end="", file=sys.stderr,
          flush=True)


async def finished_outputs(session, prompt_id: str, poll_s: float = 0.1) -> dict:
    """The run's outputs from the host's history, which the host writes just after announcing success."""
    while True:
        async with session.get(f"/history/{prompt_id}") as response:
            history = await response.json()
        if prompt_id in history:
            return history[prompt_id]["outputs"]
        await asyncio.sleep(poll_s)


async def run_workflow(workflow: dict, server: str = "127.0.0.1:8188", out_dir: Path | None = None,
                       progress: bool = True, timeout: float = 3600.0) -> list[Path]:
    """Queue ``workflow`` on ``server``, wait for it, and save its images under ``out_dir``; their paths."""
    import aiohttp

    client_id = uuid.uuid4().hex
    saved: list[Path] = []
    async with aiohttp.ClientSession(f"http://{server}", timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async with session.ws_connect(f"/ws?clientId={client_id}") as socket:
            async with session.post("/prompt", json={"prompt": workflow, "client_id": client_id}) as response:
                answer = await response.json()
                if response.status != 200:
                    raise WorkflowError(f"the host rejected the workflow: {json.dumps(answer, indent=1)}")
            prompt_id = answer["prompt_id"]
            async for message in socket:
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
                elif event["type"] == "execution_success" or (
                        event["type"] == "executing" and data.get("node") is None):
                    break
        if progress:
            print(file=sys.stderr)
        outputs = await finished_outputs(session, prompt_id)
        for node_outputs in outputs.values():
            for image in node_outputs.get("images", []):
                if out_dir is None or image.get("type") != "output":
                    continue
                query = urlencode({k: image[k] for k in ("filename", "subfolder", "type")})
                async with session.get(f"/view?{query}") as response:
                    content = await response.read()
                target = unique_path(out_dir / image["subfolder"] / image["filename"])
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
                saved.append(target)
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synctweedies.queue", description=__doc__.splitlines()[0])
    parser.add_argument("workflow", type=Path, help="an API-format workflow JSON (workflows/*_api.json)")
    parser.add_argument("--server", default="127.0.0.1:8188", help="host:port of the running ComfyUI")
    parser.add_argument("--out", type=Path, default=Path("outputs"), help="folder for the saved images")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.INPUT=VALUE",
                        help="set an input of a node (by id or title); repeatable")
    args = parser.parse_args(argv)
    try:
        workflow = json.loads(args.workflow.read_text())
        if "nodes" in workflow:
            raise ValueError(f"{args.workflow} is in the editor's format; queue its *_api.json twin.")
        workflow = apply_overrides(workflow, args.overrides)
        paths = asyncio.run(run_workflow(workflow, args.server, args.out))
    except ImportError:
        print("This command needs aiohttp: pip install aiohttp", file=sys.stderr)
        return 2
    except (OSError, ValueError, WorkflowError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
