"""Checks the host leaves to V3 nodes: a combo's value must be one of its options (the host does not check V3
combos), and a file input must name a file in the input folder. Each returns an error message or None, so a
node's ``validate_inputs`` reads ``file_problem(...) or option_problem(...) or True``."""
from __future__ import annotations

from comfy_api.v0_0_2 import io

from .files import input_path


def option_problem(node: type[io.ComfyNode], **values) -> str | None:
    """The message for the first value that is not one of its combo's options (None for a linked input)."""
    options = {item.id: item.options for item in node.define_schema().inputs if isinstance(item, io.Combo.Input)}
    for name, value in values.items():
        if value is not None and value not in options[name]:
            shown = ", ".join(map(repr, options[name][:12])) + (", ..." if len(options[name]) > 12 else "")
            return f"{name} is {value!r}, which is not one of its options: {shown}."
    return None


def file_problem(name, what: str, **kwargs) -> str | None:
    """The message :func:`~nodes.files.input_path` raises for ``name``, or None (also for a linked input)."""
    if name is None:
        return None
    try:
        input_path(name, what, **kwargs)
    except ValueError as error:
        return str(error)
    return None
