"""Canonical spaces: one class per application, each with ``project`` and ``unproject``."""
from .anagram import AnagramSpace
from .anagram_views import VIEWS as ANAGRAM_VIEWS
from .anagram_views import ViewOptions
from .base import CanonicalSpace
from .fitting import fit_canonical
from .indexed import IndexedSpace
from .panorama import Panorama, PanoramaCameras
from .pixel_sync import PixelSynchronizedSpace
from .wide_canvas import WideCanvas

__all__ = ["CanonicalSpace", "IndexedSpace", "WideCanvas", "AnagramSpace", "ANAGRAM_VIEWS", "ViewOptions",
           "PixelSynchronizedSpace", "fit_canonical", "Panorama", "PanoramaCameras"]
