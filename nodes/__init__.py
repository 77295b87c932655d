"""ComfyUI nodes: a thin adapter from the host's objects to the ``synctweedies`` library."""
from .canvas import EmptyLatentNode, WideCanvasNode
from .decode import DecodeNode
from .noise import NoiseNode
from .sampling import GuiderNode, SamplerNode

NODES = [WideCanvasNode, EmptyLatentNode, NoiseNode, GuiderNode, SamplerNode, DecodeNode]
