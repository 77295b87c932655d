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


def sliding_runs(rows: list[int], neighbours: list[list[int]]) -> tuple[list[tuple[int, int, int]], list[int]]:
    """Split ``rows`` (ascending views with as many neighbours) into runs of consecutive views whose neighbours are
    consecutive views starting one view later for each next view, as (first view, views, first neighbour), and the
    other rows (a cyclic canvas's first and last views)."""
    runs, rest = [], []
    for row in rows:
        first = neighbours[row][0]
        if neighbours[row] != list(range(first, first + len(neighbours[row]))):
            rest.append(row)
        elif runs and runs[-1][0] + runs[-1][1] == row and runs[-1][2] + runs[-1][1] == first:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1, runs[-1][2])
        else:
            runs.append((row, 1, first))
    return runs, rest


def sliding_keys(x: Tensor, chunk: int, start: int, count: int, width: int) -> Tensor:
    """The keys (or values) ``[count, heads, width * T, head]`` of ``count`` views of ``chunk`` whose neighbours are
    views ``start + i`` to ``start + i + width - 1``: overlapping windows of ``x`` (``[chunks, views, T, heads,
    head]``, contiguous), not a copy."""
    _, views, tokens, heads, head = x.shape
    view = tokens * heads * head
    return x.as_strided((count, width * tokens, heads, head), (view, heads * head, head, 1),
                        x.storage_offset() + (chunk * views + start) * view).transpose(1, 2)


def cross_view_attention(q: Tensor, k: Tensor, v: Tensor, heads: int, neighbours: list[list[int]],
                         reference: int | None = None, reference_weight: float = 1.0) -> Tensor:
    """Self-attention across views. ``q``, ``k``, ``v`` are ``[B, T, C]`` with ``B = chunks * V``: the views of
    each chunk (a CFG half) consecutive. ``neighbours[i]`` lists the views view ``i`` attends to; ``reference`` a
    view every view also attends to, weighted ``reference_weight``. Returns ``[B, T, C]``.

    Views with as many neighbours go through unmasked attention calls, so the host's flash or memory-efficient
    kernels run and no ``[T, K * T]`` weight matrix is ever stored (768 px views have T = 9216 tokens). Views whose
    neighbours are consecutive views (all but a cyclic canvas's first and last) read their keys and values in place,
    as overlapping windows of ``k`` and ``v`` (one call per chunk); only the others' are gathered, once. Queries and
    the reference view's keys are strided views (all views' queries of a chunk attend to the reference as one
    sequence)."""
    batch, tokens, channels = q.shape
    views = len(neighbours)
    chunks, head = batch // views, channels // heads
    per_view = lambda x: x.reshape(chunks, views, tokens, heads, head)  # noqa: E731
    heads_first = lambda x, length: x.reshape(-1, length, heads, head).transpose(1, 2)  # noqa: E731  [n, heads, L, d]
    query, key, value = per_view(q), per_view(k.contiguous()), per_view(v.contiguous())
    out = torch.empty_like(query)
    for width in sorted({len(row) for row in neighbours}):
        runs, rest = sliding_runs([i for i, row in enumerate(neighbours) if len(row) == width], neighbours)
        for first, count, start in runs:
            for chunk in range(chunks):
                attended = F.scaled_dot_product_attention(heads_first(query[chunk, first : first + count], tokens),
                                                          sliding_keys(key, chunk, start, count, width),
                                                          sliding_keys(value, chunk, start, count, width))
                out[chunk, first : first + count] = attended.transpose(1, 2).reshape(count, tokens, heads, head)
        if rest:
            index = torch.tensor([neighbours[i] for i in rest], device=q.device)  # [R, width]
            gather = lambda x: heads_first(x[:, index], width * tokens)  # noqa: E731  keys of R views' neighbours
            attended = F.scaled_dot_product_attention(heads_first(query[:, rest], tokens), gather(key), gather(value))
            out[:, rest] = attended.transpose(1, 2).reshape(chunks, len(rest), tokens, heads, head)
    if reference is not None and reference_weight > 0:
        on_reference = F.scaled_dot_product_attention(heads_first(query, views * tokens),
                                                      heads_first(key[:, reference], tokens),
                                                      heads_first(value[:, reference], tokens))
        on_reference = on_reference.transpose(1, 2).reshape(out.shape)
        out = (out + reference_weight * on_reference) / (1 + reference_weight)
    return out.reshape(batch, tokens, channels)
