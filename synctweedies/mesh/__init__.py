"""Meshes for texturing: loading, cameras, a plain-PyTorch rasteriser and the UV texture space."""
from .rig import orbit_cameras
from .export import write_glb, write_obj
from .loading import MESH_SUFFIXES, load_mesh
from .mesh import Mesh
from .rasterize import Fragments, rasterize
from .texture import MeshTexture
from .turntable import turntable

__all__ = ["Mesh", "MESH_SUFFIXES", "load_mesh", "write_glb", "write_obj", "orbit_cameras", "Fragments",
           "rasterize", "MeshTexture", "turntable"]
