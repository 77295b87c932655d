"""3D Gaussian scenes: the 3DGS PLY, cameras, a renderer (gsplat or plain PyTorch) and the colour space."""
from .camera_files import blender_cameras, colmap_cameras, scene_orbit_cameras, turntable_cameras
from .render import Rendered, gsplat_available, render
from .scene import Gaussians, load_gaussians, save_gaussians
from .space import GaussianColours

__all__ = ["Gaussians", "load_gaussians", "save_gaussians", "blender_cameras", "colmap_cameras",
           "scene_orbit_cameras", "turntable_cameras", "Rendered", "render", "gsplat_available",
           "GaussianColours"]
