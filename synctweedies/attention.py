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


def cross_view_attention(q: Tensor, k: Tensor, v: Tensor, heads: int, neighbours: list[list[int]],
                         reference: int | None = None, reference_weight: float = 1.0) -> Tensor:
    """Self-attention across views. ``q``, ``k``, ``v`` are ``[B, T, C]`` with ``B = chunks * V``: the views of
    each chunk (a CFG half) consecutive. ``neighbours[i]`` lists the views view ``i`` attends to; ``reference`` a
    view every view also attends to, weighted ``reference_weight``. Returns ``[B, T, C]``.

    Views with as many neighbours go through one unmasked attention call, so the host's flash or memory-efficient
    kernels run and no ``[T, K * T]`` weight matrix is ever stored (768 px views have T = 9216 tokens)."""
    batch, tokens, channels = q.shape
    views = len(neighbours)
    chunks, head = batch // views, channels // heads
    split = lambda x: x.reshape(chunks, views, tokens, heads, head).transpose(2, 3)  # noqa: E731  [chunks, V, heads, T, d]
    query, key, value = split(q), split(k), split(v)
    out = torch.empty_like(query)
    for width in sorted({len(row) for row in neighbours}):
        rows = [i for i, row in enumerate(neighbours) if len(row) == width]
        index = torch.tensor([neighbours[i] for i in rows], device=q.device)  # [R, width]
        picked = torch.tensor(rows, device=q.device)
        flat = lambda x, length: x.reshape(chunks * len(rows), heads, length, head)  # noqa: E731
        gather = lambda x: flat(x[:, index].transpose(2, 3), width * tokens)  # noqa: E731  [chunks, R, heads, K*T, d]
        attended = F.scaled_dot_product_attention(flat(query[:, picked], tokens), gather(key), gather(value))
        out[:, picked] = attended.reshape(chunks, len(rows), heads, tokens, head)
    if reference is not None and reference_weight > 0:
        on = lambda x: x[:, reference:reference + 1].expand_as(x).reshape(batch, heads, tokens, head)  # noqa: E731
        on_reference = F.scaled_dot_product_attention(query.reshape(batch, heads, tokens, head), on(key), on(value))
        out = (out + reference_weight * on_reference.reshape(out.shape)) / (1 + reference_weight)
    return out.transpose(2, 3).reshape(batch, tokens, channels)
