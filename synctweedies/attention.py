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
    kernels run and no ``[T, K * T]`` weight matrix is ever stored (768 px views have T = 9216 tokens). The only
    copies are the neighbours' keys and values, gathered once; queries, outputs and the reference view's keys are
    strided views (all views' queries of a chunk attend to the reference as one sequence)."""
    batch, tokens, channels = q.shape
    views = len(neighbours)
    chunks, head = batch // views, channels // heads
    per_view = lambda x: x.reshape(chunks, views, tokens, heads, head)  # noqa: E731
    heads_first = lambda x, length: x.reshape(-1, length, heads, head).transpose(1, 2)  # noqa: E731  [n, heads, L, d]
    query, key, value = per_view(q), per_view(k), per_view(v)
    out = None
    for width in sorted({len(row) for row in neighbours}):
        rows = [i for i, row in enumerate(neighbours) if len(row) == width]
        every_view = len(rows) == views
        index = torch.tensor([neighbours[i] for i in rows], device=q.device)  # [R, width]
        gather = lambda x: heads_first(x[:, index], width * tokens)  # noqa: E731  keys of R views' neighbours
        queries = query if every_view else query[:, rows]
        attended = F.scaled_dot_product_attention(heads_first(queries, tokens), gather(key), gather(value))
        attended = attended.transpose(1, 2).reshape(chunks, len(rows), tokens, heads, head)
        if every_view:
            out = attended
        else:
            out = torch.empty_like(query) if out is None else out
            out[:, rows] = attended
    if reference is not None and reference_weight > 0:
        on_reference = F.scaled_dot_product_attention(heads_first(query, views * tokens),
                                                      heads_first(key[:, reference], tokens),
                                                      heads_first(value[:, reference], tokens))
        on_reference = on_reference.transpose(1, 2).reshape(out.shape)
        out = (out + reference_weight * on_reference) / (1 + reference_weight)
    return out.reshape(batch, tokens, channels)
