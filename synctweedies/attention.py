"""The original's cross-view self-attention.

Each view's self-attention attends to the tokens of its neighbour views (one softmax over the keys of, say,
views i-1, i and i+1), and for the first part of sampling it also attends to a reference view; the two results
are averaged, ``(neighbours + w * reference) / (1 + w)`` with ``w`` 1 then 0 (the original's
``SamplewiseAttnProcessor2_0``). With each view its only neighbour, that is reference attention alone.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def cyclic_neighbours(num_views: int) -> list[list[int]]:
    """Views i-1, i and i+1, wrapping around (the original's mask for wide images, panoramas and Gaussians)."""
    return [sorted({(i - 1) % num_views, i, (i + 1) % num_views}) for i in range(num_views)]


def neighbour_table(neighbours: list[list[int]]) -> tuple[Tensor, Tensor]:
    """Neighbour lists → (index ``[V, K]``, padded with the view itself, and mask ``[V, K]`` of real entries)."""
    width = max(map(len, neighbours))
    index = torch.tensor([row + [i] * (width - len(row)) for i, row in enumerate(neighbours)])
    mask = torch.tensor([[True] * len(row) + [False] * (width - len(row)) for row in neighbours])
    return index, mask


def cross_view_attention(q: Tensor, k: Tensor, v: Tensor, heads: int, neighbours: tuple[Tensor, Tensor],
                         reference: int | None = None, reference_weight: float = 1.0) -> Tensor:
    """Self-attention across views. ``q``, ``k``, ``v`` are ``[B, T, C]`` with ``B = chunks * V``: the views of
    each chunk (a CFG half) consecutive. ``neighbours`` is :func:`neighbour_table`'s (index, mask) over ``V``
    views; ``reference`` a view every view also attends to, weighted ``reference_weight``. Returns ``[B, T, C]``."""
    index, mask = (t.to(q.device) for t in neighbours)
    views, width = index.shape
    batch, tokens, channels = q.shape
    chunks, head = batch // views, channels // heads
    split = lambda x: x.reshape(chunks, views, -1, heads, head).permute(0, 1, 3, 2, 4)  # noqa: E731
    query, key, value = split(q), split(k), split(v)  # [chunks, V, heads, T, d]
    gather = lambda x: x[:, index].permute(0, 1, 3, 2, 4, 5).reshape(chunks, views, heads, width * tokens, head)  # noqa: E731
    allowed = mask.repeat_interleave(tokens, 1)[None, :, None, None, :]  # [1, V, 1, 1, K * T]
    out = F.scaled_dot_product_attention(query, gather(key), gather(value), attn_mask=allowed)
    if reference is not None and reference_weight > 0:
        on_reference = F.scaled_dot_product_attention(query, key[:, reference:reference + 1],
                                                      value[:, reference:reference + 1])
        out = (out + reference_weight * on_reference) / (1 + reference_weight)
    return out.permute(0, 1, 3, 2, 4).reshape(batch, tokens, channels)
