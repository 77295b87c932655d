"""ComfyUI-SyncTweedies: synchronized diffusion over the views of one canonical space.

The host imports this file; it only names the extension entry point, so loading is instant.
"""
WEB_DIRECTORY = "./web"


async def comfy_entrypoint():
    """The V3 extension entry point the host calls to list the pack's nodes."""
    from comfy_api.v0_0_2 import ComfyExtension

    from .nodes import NODES

    class SyncTweediesExtension(ComfyExtension):
        async def get_node_list(self):
            return NODES

    return SyncTweediesExtension()
