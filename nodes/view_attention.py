"""The original's cross-view attention installed in a UNet: every self-attention (``attn1``) of the model call
attends across its views (:func:`synctweedies.attention.cross_view_attention`)."""
from __future__ import annotations

from comfy.ldm.modules.attention import optimized_attention
from torch import Tensor

from ..synctweedies.attention import cross_view_attention

class CrossViewAttention:
    """An ``attn1`` replacement running :func:`~synctweedies.attention.cross_view_attention` on the views of a
    model call (chunks of ``len(neighbours)`` views: the CFG halves)."""

    def __init__(self, neighbours: list[list[int]], reference: int | None, reference_weight: float):
        self.neighbours, self.reference, self.reference_weight = neighbours, reference, reference_weight

    def __call__(self, q: Tensor, k: Tensor, v: Tensor, extra_options: dict) -> Tensor:
        heads = extra_options["n_heads"]
        if q.shape[0] % len(self.neighbours) or k.shape[1] != q.shape[1]:
            return optimized_attention(q, k, v, heads)
        return cross_view_attention(q, k, v, heads, self.neighbours, self.reference, self.reference_weight)


def is_unet(model_patcher) -> bool:
    """Whether the model is a UNet (SD1.x, SD2.x, SDXL), whose prompts reach the image by cross-attention only."""
    unet = model_patcher.get_model_object("diffusion_model")
    return all(hasattr(unet, name) for name in ("input_blocks", "middle_block", "output_blocks"))


def self_attention_blocks(model_patcher) -> list[tuple[str, int, int]]:
    """The (block, number, transformer index) of every self-attention of a UNet, as the host names them for
    ``attn1`` replacements; a ValueError for other models."""
    unet = model_patcher.get_model_object("diffusion_model")
    if not is_unet(model_patcher):
        raise ValueError("Cross-view attention (ref_attention_end, neighbour_attention) needs a UNet model (SD1.x, "
                         "SD2.x, SDXL); set ref_attention_end to 0 and turn neighbour_attention off for this model.")
    keys = []
    middle = [] if unet.middle_block is None else [unet.middle_block]  # some UNets (SSD-1B, Vega) have none
    for name, blocks in (("input", unet.input_blocks), ("middle", middle), ("output", unet.output_blocks)):
        for number, block in enumerate(blocks):
            for layer in block:
                keys += [(name, number, index) for index in range(len(getattr(layer, "transformer_blocks", [])))]
    return keys


def with_attention(model_options: dict, blocks: list[tuple[str, int, int]], attention: CrossViewAttention) -> dict:
    """A copy of ``model_options`` whose ``attn1`` at every one of ``blocks`` is ``attention``."""
    options = model_options.copy()
    transformer = options["transformer_options"] = options.get("transformer_options", {}).copy()
    replace = transformer["patches_replace"] = transformer.get("patches_replace", {}).copy()
    replace["attn1"] = {**replace.get("attn1", {}), **{key: attention for key in blocks}}
    return options
