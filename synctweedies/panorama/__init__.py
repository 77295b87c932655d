"""360° panoramas: an equirectangular canvas seen by perspective views, and its file with 360° metadata."""
from .equirect_xmp import save_equirectangular
from .space import Panorama, PanoramaRig, perspective_views

__all__ = ["Panorama", "PanoramaRig", "perspective_views", "save_equirectangular"]
