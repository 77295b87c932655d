"""A stand-in for ComfyUI's HTTP API (/ws, /prompt, /queue, /history, /view) on 127.0.0.1, run in a thread, that can
also answer as a broken or hostile server would."""
import asyncio
import json
import socket
import threading

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_fake_host(state: dict, port: int | None = None):
    """A stand-in for ComfyUI's /ws, /prompt, /queue, /history and /view, run in a thread; ``state`` says how it
    behaves and collects the workflows it was sent. Returns its address and a function that stops it.

    Hostile behaviours: ``prompt_answer`` / ``history_answer`` replace those JSON answers; ``endless`` ("view" or
    "history") streams that answer without end; ``flood`` sends progress events without pause instead of
    finishing; ``no_websocket`` answers /ws as a plain HTTP page."""
    web = pytest.importorskip("aiohttp.web", reason="the queue command needs aiohttp (ComfyUI installs it)")
    state = {**{"keep": True, "finish": True, "outputs": {}, "files": {}, "delay": 0.2, "received": [],
                "sent_bytes": 0}, **state}

    async def endless(request, head: bytes):
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(head)
        chunk = b" " * 2**16
        try:
            while not state.get("stopped"):
                await response.write(chunk)
                state["sent_bytes"] += len(chunk)
        except (ConnectionError, RuntimeError):
            pass
        return response

    async def ws(request):
        if state.get("no_websocket"):
            return web.Response(text="<html>a plain web server</html>", content_type="text/html")
        socket_ = web.WebSocketResponse()
        await socket_.prepare(request)
        state["socket"] = socket_
        async for _ in socket_:
            pass
        return socket_

    async def prompt(request):
        workflow = (await request.json())["prompt"]
        if any(node.get("class_type") == "Reject" for node in workflow.values()):
            return web.json_response({"error": {"message": "Prompt outputs failed validation"},
                                      "node_errors": {"1": {"class_type": "Reject", "errors": [
                                          {"message": "Value not in list", "details": "x"}]}}}, status=400)
        state["received"].append(workflow)
        if "prompt_answer" in state:
            return web.json_response(state["prompt_answer"])
        if state.get("flood"):
            async def flood():
                try:
                    while not state.get("stopped"):
                        await state["socket"].send_str(json.dumps(
                            {"type": "progress", "data": {"value": 1, "max": 9, "prompt_id": "p1", "node": "1"}}))
                        await asyncio.sleep(0)  # let this server's other tasks run between events
                except (ConnectionError, RuntimeError):
                    pass
            asyncio.get_running_loop().create_task(flood())
        elif state["finish"]:
            async def later():
                await asyncio.sleep(state["delay"])
                await state["socket"].send_str(json.dumps({"type": "execution_success", "data": {"prompt_id": "p1"}}))
            asyncio.get_running_loop().create_task(later())
        return web.json_response({"prompt_id": "p1", "number": 0, "node_errors": {}})

    async def queue(request):
        return web.json_response({"queue_running": [[0, "p1"]] if state["keep"] else [], "queue_pending": []})

    async def history(request):
        if state.get("endless") == "history":
            return await endless(request, b'{"p1": {"outputs": {}, "pad": "')
        if "history_answer" in state:
            return web.json_response(state["history_answer"])
        return web.json_response({"p1": {"outputs": state["outputs"]}} if state["finish"] else {})

    async def view(request):
        if state.get("endless") == "view":
            return await endless(request, b"")
        data = state["files"].get(request.query["filename"])
        return web.Response(body=data) if data is not None else web.Response(status=404, text="404: Not Found")

    app = web.Application()
    app.add_routes([web.get("/ws", ws), web.post("/prompt", prompt), web.get("/queue", queue),
                    web.get(r"/history/{id}", history), web.get("/view", view)])
    port, loop = port or free_port(), asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def stop():
        state["stopped"] = True
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return f"127.0.0.1:{port}", state, stop


