"""Canonical spaces: one class per application, each with ``project`` and ``unproject``."""
from .base import CanonicalSpace
from .indexed import IndexedSpace
from .wide_canvas import WideCanvas

__all__ = ["CanonicalSpace", "IndexedSpace", "WideCanvas"]
