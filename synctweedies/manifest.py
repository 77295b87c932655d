"""Manifests: a JSON (or YAML) list of jobs, or ``{"jobs": [...]}``, read with limits and errors that say where.

Standard library only (PyYAML for YAML files): the ComfyUI client imports it without torch.
"""
from __future__ import annotations

import json
from pathlib import Path

MAX_BYTES = 16 * 2**20
"""The largest manifest read."""
MAX_NODES = 100_000
"""The most values a manifest may hold once YAML aliases are expanded (an alias bomb holds billions)."""


def read_manifest(path: Path, example: str) -> list:
    """The job entries of the manifest at ``path``; a ValueError that names the file, and the line and column of
    a syntax error. ``example`` shows a job in the message for a manifest without jobs."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise ValueError(f"cannot read the manifest {path}: {error.strerror}") from None
    if len(data) > MAX_BYTES:
        raise ValueError(f"{path} is over {MAX_BYTES // 2**20} MiB; a manifest lists jobs, not their data")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text (byte {error.start} is {data[error.start]:#04x})") from None
    document = read_yaml(path, text) if path.suffix.lower() in (".yaml", ".yml") else read_json(path, text)
    entries = document.get("jobs") if isinstance(document, dict) else document
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path} holds no jobs: write a list of jobs such as {example}, or {{\"jobs\": [...]}}.")
    return entries


def read_json(path: Path, text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    except RecursionError:
        raise ValueError(f"{path} nests too deeply") from None


def read_yaml(path: Path, text: str):
    """Plain YAML data (no tags that build objects), refused when its aliases expand past :data:`MAX_NODES`."""
    try:
        import yaml
    except ImportError:
        raise ValueError("YAML manifests need PyYAML (pip install pyyaml); or write the manifest as JSON.") from None
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        if expanded_size(node, {}) > MAX_NODES:
            raise ValueError(f"{path} expands to over {MAX_NODES:,} values through its aliases (&anchors and "
                             "*aliases); write the jobs out")
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"{path} is not valid YAML{where}: {error.problem or error.context}") from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        raise ValueError(f"{path} is not valid YAML at line {line}, column {column}: character "
                         f"{error.character:#06x} is not allowed") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{path} is not valid YAML: {error}") from None
    except RecursionError:
        raise ValueError(f"{path} nests too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def expanded_size(node, sizes: dict[int, int]) -> int:
    """How many values ``node`` stands for with every alias written out (shared nodes counted once each time they
    are used, each computed once)."""
    key = id(node)
    if key not in sizes:
        sizes[key] = 0  # a node that contains itself counts as empty here; construction then refuses nothing
        children = node.value if isinstance(node.value, list) else []
        items = [part for child in children for part in (child if isinstance(child, tuple) else (child,))]
        sizes[key] = 1 + sum(expanded_size(item, sizes) for item in items)
    return sizes[key]
