"""``torch.compile`` whose group norms are computed from per-channel sums.

Inductor reduces a group norm over each group's channels and pixels together; with channels-last activations
(the layout it picks around convolutions) those elements are strided, and the group norms of a VAE decode take
as long as its convolutions. Summing ``x`` and ``x²`` over the pixels of every channel first reads the
activations contiguously; the group statistics then come from those ``[N, C]`` sums. The result is the group
norm's, to float32 rounding (the variance as E[x²] − E[x]², in float32).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


def group_norm_from_channel_sums(x: Tensor, weight: Tensor | None, bias: Tensor | None, n: int, c: int, hw: int,
                                 groups: int, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """``aten.native_group_norm`` of ``x`` ``[N, C, *spatial]``: (normalized ``x``, mean ``[N, G]``,
    1/std ``[N, G]``), from the per-channel means of ``x`` and ``x²``."""
    pixels = tuple(range(2, x.ndim))
    exact = x.float()
    mean = exact.mean(pixels).view(n, groups, -1).mean(-1)
    variance = ((exact * exact).mean(pixels).view(n, groups, -1).mean(-1) - mean * mean).clamp_min(0)
    rstd = (variance + eps).rsqrt()
    scale = rstd.repeat_interleave(c // groups, 1)  # [N, C]
    scale = scale if weight is None else scale * weight.float()
    shift = -mean.repeat_interleave(c // groups, 1) * scale
    shift = shift if bias is None else shift + bias.float()
    shape = (n, c) + (1,) * (x.ndim - 2)
    return (exact * scale.view(shape) + shift.view(shape)).to(x.dtype), mean.to(x.dtype), rstd.to(x.dtype)


def inductor_with_fast_group_norm(graph: torch.fx.GraphModule, example_inputs: list[Tensor]) -> Callable:
    """A ``torch.compile`` backend: Inductor, with :func:`group_norm_from_channel_sums` for every group norm."""
    from torch._inductor.compile_fx import compile_fx
    from torch._inductor.decomposition import select_decomp_table

    table = {**select_decomp_table(), torch.ops.aten.native_group_norm.default: group_norm_from_channel_sums}
    return compile_fx(graph, example_inputs, decompositions=table)


def compiled(function: Callable) -> Callable:
    """``function`` compiled by Inductor with fast group norms (compiled at its first call)."""
    return torch.compile(function, backend=inductor_with_fast_group_norm)
