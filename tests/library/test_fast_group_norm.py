"""Group norms from per-channel sums: the group norm's values, and what the compiled VAE path runs."""
import torch
import torch.nn.functional as F

from synctweedies import fast_group_norm


def test_group_norm_from_channel_sums_is_the_group_norm():
    generator = torch.Generator().manual_seed(0)
    for shape in ((2, 64, 9, 7), (1, 32, 3, 4, 5)):  # images, and video latents with a time axis
        x = torch.randn(shape, generator=generator, dtype=torch.float64) * 3 + 5  # a mean far from 0
        weight, bias = (torch.randn(shape[1], generator=generator, dtype=torch.float64) for _ in range(2))
        for affine in ((weight, bias), (None, None)):
            expected = F.group_norm(x, 16, *affine, eps=1e-6)
            n, c, hw = shape[0], shape[1], x[0, 0].numel()
            single = [None if a is None else a.float() for a in affine]
            out, mean, rstd = fast_group_norm.group_norm_from_channel_sums(x.float(), *single, n, c, hw, 16, 1e-6)
            torch.testing.assert_close(out.double(), expected, atol=2e-5, rtol=0)
            groups = x.reshape(n, 16, -1)
            torch.testing.assert_close(mean.double(), groups.mean(-1), atol=1e-5, rtol=0)
            torch.testing.assert_close(rstd.double(), (groups.var(-1, unbiased=False) + 1e-6).rsqrt(), atol=1e-5,
                                       rtol=1e-5)


def test_compiled_functions_take_their_group_norms_from_channel_sums(monkeypatch):
    calls = []
    original = fast_group_norm.group_norm_from_channel_sums
    monkeypatch.setattr(fast_group_norm, "group_norm_from_channel_sums",
                        lambda *args: calls.append(args[-2]) or original(*args))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3, padding=1), torch.nn.GroupNorm(32, 64), torch.nn.SiLU(),
                              torch.nn.Conv2d(64, 3, 3, padding=1), torch.nn.GroupNorm(3, 3))
    x = torch.randn(2, 3, 16, 16).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        out = fast_group_norm.compiled(net)(x)
        torch.testing.assert_close(out, net(x), atol=1e-5, rtol=1e-5)
    assert calls == [32, 3], "both group norms went through the channel sums"
