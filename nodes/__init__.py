"""ComfyUI nodes: a thin adapter from the host's objects to the ``synctweedies`` library."""
import comfy.model_management
import comfy.utils

from ..synctweedies import progress
from .anagram import AnagramAnimationNode, AnagramViewsNode
from .canvas import EmptyLatentNode, WideCanvasNode
from .control import ControlNetRampNode
from .decode import DecodeNode, EncodeNode
from .image_canvas import ImageCanvasNode, TiledPreviewNode
from .gaussians import GaussiansNode, GaussiansTurntableNode, SaveGaussiansNode
from .mesh import MeshHintsNode, MeshNode, SaveTexturedMeshNode, TurntableNode
from .noise import NoiseNode
from .panorama import PanoramaDepthNode, PanoramaNode, SavePanoramaNode
from .prompts import MeshViewPromptsNode, WindowCropsNode
from .sampling import GuiderNode, SamplerNode
from .vae_compile import CompileVaeNode

NODES = [WideCanvasNode, AnagramViewsNode, PanoramaNode, PanoramaDepthNode, MeshNode, MeshHintsNode,
         MeshViewPromptsNode, EmptyLatentNode, NoiseNode, GuiderNode, SamplerNode, DecodeNode, EncodeNode,
         AnagramAnimationNode, SavePanoramaNode, SaveTexturedMeshNode, TurntableNode, GaussiansNode, SaveGaussiansNode,
         GaussiansTurntableNode, ControlNetRampNode, WindowCropsNode, ImageCanvasNode, TiledPreviewNode,
         CompileVaeNode]

progress.install(comfy.model_management.throw_exception_if_processing_interrupted,
                 lambda done, total: comfy.utils.ProgressBar(total).update_absolute(done, total))
