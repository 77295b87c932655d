"""360° panoramas: an equirectangular canvas seen by perspective views, and its file with 360° metadata."""
from .equirect_xmp import save_equirectangular
from .space import Panorama, PanoramaCameras, perspective_views

__all__ = ["Panorama", "PanoramaCameras", "perspective_views", "save_equirectangular"]
