"""How fast the VAE work of one synchronized RGB step could be: every convolution of one batched decode and one
batched encode of the views timed alone through cuDNN (best algorithm, bf16, channels-last) and every group norm
with its SiLU compiled alone, against the whole VAE compiled. The decoder is also run with its upsampling
convolutions done at low resolution (a 3x3 convolution of a 2x nearest-upsampled image is four 2x2 convolutions of
the image, exactly: 4/9 of the work), its output compared with the plain decoder's in float32 with TF32 off
(``*_off_by``: the largest difference as a fraction of the output's range). Random-weight SD KL VAE, 8 views of
512 px (the panorama workflow's views; one decode and one encode of them is one synchronized step):

    python benchmarks/vae_floor.py --comfyui /path/to/ComfyUI [--json out.json]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

import pack_paths  # noqa: E402,F401  (the pack and its test helpers on sys.path)
from sync_overhead import import_host, random_vae  # noqa: E402
from timing import machine, report  # noqa: E402
from vae_speed import best_ms  # noqa: E402


def calls_of(model: torch.nn.Module, kind: type, run) -> list[tuple[torch.nn.Module, torch.Size]]:
    """(module, input shape) of every call of a ``kind`` module while ``run()`` runs."""
    seen = []
    hooks = [m.register_forward_pre_hook(lambda m, args: seen.append((m, args[0].shape)))
             for m in model.modules() if isinstance(m, kind)]
    with torch.no_grad():
        run()
    for hook in hooks:
        hook.remove()
    return seen


def conv_tflop(conv: torch.nn.Conv2d, shape: torch.Size) -> float:
    """Multiply-adds ×2 of ``conv`` on an input of ``shape``, in TFLOP."""
    n, _, h, w = shape
    (kh, kw), (sh, sw), (ph, pw) = conv.kernel_size, conv.stride, conv.padding
    out = ((h + 2 * ph - kh) // sh + 1) * ((w + 2 * pw - kw) // sw + 1)
    return 2 * n * out * conv.out_channels * conv.in_channels * kh * kw / 1e12


def floor_ms(calls, op) -> float:
    """Sum over ``calls`` of the best time of ``op(module, x)`` alone on a bf16 channels-last input of that shape."""
    total = 0.0
    for module, shape in calls:
        x = torch.randn(shape, device="cuda", dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            total += best_ms(lambda: op(module, x), repeats=5)
    return round(total, 2)


def norm_traffic_ms(calls) -> float:
    """Time to read and write every group norm input of ``calls`` once (bf16) at the copy bandwidth measured on
    the largest: no group norm can take less."""
    largest = torch.empty(max(shape.numel() for _, shape in calls), device="cuda", dtype=torch.bfloat16)
    seconds_per_element = best_ms(lambda: largest.clone()) / largest.numel()
    return round(sum(shape.numel() for _, shape in calls) * seconds_per_element, 2)


def subpixel_upsample(upsample: torch.nn.Module) -> None:
    """Make ``upsample`` (nearest 2x, then a 3x3 convolution) compute the same as four 2x2 convolutions of its input."""
    weight, bias = upsample.conv.weight, upsample.conv.bias
    taps = weight.new_tensor([[[1, 0, 0], [0, 1, 1]], [[1, 1, 0], [0, 0, 1]]])  # [output phase, input tap, kernel row]
    c = weight.shape[0]
    phases = torch.nn.Conv2d(weight.shape[1], 4 * c, 2).to(weight)
    phases.weight.data = torch.einsum("apk,bql,oikl->aboipq", taps, taps, weight).reshape(phases.weight.shape)
    phases.bias.data = bias.repeat(4)
    upsample.phases = phases.to(memory_format=torch.channels_last)

    def forward(x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        y = phases(F.pad(x, (1, 1, 1, 1))).view(n, 2, 2, c, h + 1, w + 1)
        rows = [torch.stack([y[:, a, b, :, a:a + h, b:b + w] for b in (0, 1)], -1) for a in (0, 1)]
        return torch.stack(rows, 3).reshape(n, c, 2 * h, 2 * w)

    upsample.forward = forward


def convolutions(model: torch.nn.Module, run) -> tuple[float, float]:
    """(TFLOP, floor in ms) of the convolutions that ``run()`` calls."""
    convs = calls_of(model, torch.nn.Conv2d, run)
    conv = lambda m, t: F.conv2d(t, m.weight, m.bias, m.stride, m.padding)  # noqa: E731
    return round(sum(conv_tflop(m, s) for m, s in convs), 2), floor_ms(convs, conv)


def compiled_ms(function, x: torch.Tensor) -> float:
    """Best time of ``function(x)`` compiled (default mode)."""
    compiled = torch.compile(function)
    with torch.no_grad():
        return best_ms(lambda: compiled(x))


def off_by(x: torch.Tensor, reference: torch.Tensor) -> float:
    """Largest difference of ``x`` from ``reference``, as a fraction of the reference's range."""
    return round(((x.float() - reference).abs().max() / reference.abs().max()).item(), 7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--views", type=int, default=8)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    import_host(options.comfyui)
    torch.backends.cudnn.benchmark = True
    torch._dynamo.config.cache_size_limit = 64
    model = random_vae(torch.bfloat16).first_stage_model.to("cuda", torch.bfloat16, memory_format=torch.channels_last)
    z = torch.randn(options.views, 4, 64, 64, device="cuda", dtype=torch.bfloat16)
    x = torch.rand(options.views, 3, 512, 512, device="cuda", dtype=torch.bfloat16) * 2 - 1
    z, x = (t.contiguous(memory_format=torch.channels_last) for t in (z, x))
    norm_silu = torch.compile(lambda t, w, b: F.silu(F.group_norm(t, 32, w, b, 1e-6)), dynamic=False)
    norm = lambda m, t: norm_silu(t, m.weight, m.bias)  # noqa: E731
    result = {"views": options.views}
    for name, function, data in (("decode", model.decode, z), ("encode", model.encode, x)):
        tflop, result[f"{name}_conv_floor_ms"] = convolutions(model, lambda: function(data))
        result[f"{name}_conv_tflop"] = tflop
        result[f"{name}_conv_floor_tflops"] = round(tflop / result[f"{name}_conv_floor_ms"] * 1000)
        norms = calls_of(model, torch.nn.GroupNorm, lambda: function(data))
        result[f"{name}_norm_silu_floor_ms"] = floor_ms(norms, norm)
        result[f"{name}_norm_traffic_ms"] = norm_traffic_ms(norms)
        result[f"{name}_compiled_ms"] = compiled_ms(function, data)
    torch.backends.cudnn.allow_tf32 = False
    with torch.no_grad():
        reference = model.decode(z)
        model.float()
        reference32 = model.decode(z.float())
        for module in model.decoder.modules():
            if type(module).__name__ == "Upsample":
                subpixel_upsample(module)
        result["subpixel_decode_float32_off_by"] = off_by(model.decode(z.float()), reference32)
        model.bfloat16()
        result["subpixel_decode_bf16_off_by"] = off_by(model.decode(z), reference32)
        result["decode_bf16_off_by"] = off_by(reference, reference32)
    torch._dynamo.reset()
    tflop, result["subpixel_decode_conv_floor_ms"] = convolutions(model, lambda: model.decode(z))
    result["subpixel_decode_conv_tflop"] = tflop
    result["subpixel_decode_compiled_ms"] = compiled_ms(model.decode, z)
    floors = ("subpixel_decode_conv_floor_ms", "encode_conv_floor_ms", "decode_norm_traffic_ms",
              "encode_norm_traffic_ms")
    result["floor_ms_per_synchronized_step"] = round(sum(result[key] for key in floors), 2)
    report({"benchmark": "vae_floor", **machine(), **result}, options.json)


if __name__ == "__main__":
    main()
