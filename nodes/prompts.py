"""Per-view prompts: for meshes, the prompt with the direction each camera sees (the original's directional
prompts), encoded once per distinct text and handed to the sampler as one prompt per view; for SDXL on a wide
canvas, each window's place in the canvas as its crop conditioning."""
from __future__ import annotations

from comfy_api.v0_0_2 import io

from ..synctweedies.mesh.directions import camera_angles, negative_direction, view_direction, with_direction
from ..synctweedies.original import NEGATIVE_PROMPT, PROMPT_PREFIX
from ..synctweedies.canvas import WideCanvas
from .mesh import require_mesh
from .sockets import GUIDANCE, SyncSpace
from .view_conditioning import WINDOW_CROPS, merge_view_conditionings

def encode_per_view(clip, texts: list[str]) -> list:
    """One CONDITIONING per view for ``texts``, each distinct text encoded once, merged for the sampler."""
    encoded = {text: clip.encode_from_tokens_scheduled(clip.tokenize(text)) for text in dict.fromkeys(texts)}
    return merge_view_conditionings([encoded[text] for text in texts])


class MeshViewPromptsNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesMeshViewPrompts",
            display_name="SyncTweedies Mesh View Prompts",
            category=GUIDANCE,
            description="Encodes the prompt once per view with the side that view sees (', front view.', "
                        "', side view.', ', back view.', ', top view.'), and the negative with ', front view.' "
                        "on every view but the front ones, as the original does against many-faced results.",
            inputs=[io.Clip.Input("clip"),
                    SyncSpace.Input("space", tooltip="The space from 'SyncTweedies Mesh Texture'."),
                    io.String.Input("text", multiline=True, dynamic_prompts=True,
                                    default=PROMPT_PREFIX + "A hand carved wood turtle",
                                    tooltip="What the texture shows; each view gets its direction appended."),
                    io.String.Input("negative", multiline=True, dynamic_prompts=True, default=NEGATIVE_PROMPT)],
            outputs=[io.Conditioning.Output(display_name="positive", tooltip="One prompt per view."),
                     io.Conditioning.Output(display_name="negative", tooltip="One negative prompt per view.")],
        )

    @classmethod
    def execute(cls, clip, space, text: str, negative: str) -> io.NodeOutput:
        require_mesh(space, "View prompts")
        angles = camera_angles(space.cameras.positions)
        positive = [with_direction(text, view_direction(*angle)) for angle in angles]
        negatives = [with_direction(negative, negative_direction(azimuth)) for _, azimuth in angles]
        return io.NodeOutput(encode_per_view(clip, positive), encode_per_view(clip, negatives))


class WindowCropsNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesSDXLWindowCrops",
            display_name="SyncTweedies SDXL Window Crops",
            category=GUIDANCE,
            description="Tells SDXL where each window of a wide canvas sits: every view's size-and-crop "
                        "conditioning becomes a crop of the whole canvas at the window's corner (original and "
                        "target size the canvas, crop_w/crop_h the window's offset), so windows away from the "
                        "top left are drawn as parts of a larger picture. Apply it to the positive and the "
                        "negative; all views still share one model call.",
            inputs=[io.Conditioning.Input("conditioning"),
                    SyncSpace.Input("space", tooltip="The space from 'SyncTweedies Wide Canvas'.")],
            outputs=[io.Conditioning.Output(display_name="conditioning")],
        )

    @classmethod
    def execute(cls, conditioning: list, space) -> io.NodeOutput:
        if not isinstance(space, WideCanvas):
            raise ValueError("Window crops place the windows of 'SyncTweedies Wide Canvas'; this space has no "
                             "windows. Connect a wide canvas, or leave the node out.")
        scale = space.latent_scale
        height, width = space.height * scale, space.width * scale
        crops = tuple((height, width, int(row) * scale, int(column) * scale, height, width)
                      for row, column in space.window_origins.tolist())
        return io.NodeOutput([[tensor, {**options, WINDOW_CROPS: crops}] for tensor, options in conditioning])
