"""Meshes for texturing: loading, cameras, a plain-PyTorch rasteriser and the UV texture space."""
from .cameras import Cameras, orbit_cameras
from .loading import MESH_SUFFIXES, load_mesh
from .obj import Mesh, load_obj, obj_texture_path, write_obj
from .rasterize import Fragments, rasterize
from .texture import MeshTexture
from .turntable import turntable

__all__ = ["Mesh", "MESH_SUFFIXES", "load_mesh", "load_obj", "obj_texture_path", "write_obj", "Cameras",
           "orbit_cameras", "Fragments", "rasterize", "MeshTexture", "turntable"]
