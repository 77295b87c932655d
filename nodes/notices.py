"""Telling the user: a warning goes to the server's log and, while a prompt runs, onto its node in the editor."""
from __future__ import annotations

import logging
import sys

log = logging.getLogger("SyncTweedies")


def warn_user(node: type, title: str, message: str) -> None:
    """Log ``message`` under ``title`` and show it on the running ``node`` (a V3 node whose schema asks for the
    hidden ``unique_id``) as the editor's progress text, when the host's server is up."""
    log.warning("%s: %s", title, message)
    node_id = getattr(getattr(node, "hidden", None), "unique_id", None)
    server = getattr(getattr(sys.modules.get("server"), "PromptServer", None), "instance", None)
    if node_id is not None and server is not None:
        server.send_progress_text(f"Warning: {message}", node_id)
