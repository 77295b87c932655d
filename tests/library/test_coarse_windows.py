"""A wide canvas that runs the model on every other window for the first steps (``coarse_until``): which views the
model sees, in every synchronization mode, and that the result is the same sampling as on the coarse canvas itself,
then on every window."""
import pytest
import torch

from photo_patches import smooth_fields
from synctweedies import (PixelSynchronizedSpace, PosteriorMeanDenoiser, SyncMode, WideCanvas, karras_sigmas,
                          sample)
from synctweedies.canvas import coarse_problem

CANVASES = {
    "workflow's at a quarter": dict(height=16, width=96, window=16, stride=2),
    "last window off the grid": dict(height=8, width=43, window=8, stride=2),
    "loop": dict(height=8, width=40, window=8, stride=2, wrap=True),
    "torus": dict(height=16, width=24, window=8, stride=2, wrap=True, wrap_vertical=True),
    "tall": dict(height=30, width=8, window=8, stride=4),
}


@pytest.mark.parametrize("name", CANVASES)
def test_the_coarse_windows_are_the_canvas_windows_twice_the_stride_apart(name):
    canvas = WideCanvas(**CANVASES[name], coarse_until=0.5)
    views, coarse = canvas.coarse_windows
    assert coarse.stride == 2 * canvas.stride and 1 < len(views) < canvas.num_views
    assert torch.equal(canvas.index[views], coarse.index), "each coarse window is one of the canvas's, in order"
    ramp = lambda weights: int((weights[0, canvas.window // 2] < 1).sum())  # noqa: E731  tapered pixels per edge
    assert ramp(coarse.weights) == 2 * ramp(canvas.weights), "tapered over half the coarse stride, not the canvas's"


def recording(denoiser):
    """``denoiser`` that also records how many views each call got."""
    calls = []

    def denoise(x, sigma):
        calls.append(x.shape[0])
        return denoiser(x, sigma)

    return denoise, calls


def canvas_euler(denoiser, spaces, noise, sigmas, mode: SyncMode):
    """Euler steps on the canvas ``noise`` ``[C, H, W]`` with each step's estimate averaged over the windows of
    ``spaces[step]``: x0 for mode 2 (and 5), the noise estimate for mode 1."""
    x = noise * sigmas[0]
    for i, space in enumerate(spaces):
        views = space.project(x)
        x0 = denoiser(views, sigmas[i])
        if mode == SyncMode.NOISE:
            eps = space.unproject((views - x0) / sigmas[i])[0]
        else:
            eps = (x - space.unproject(x0)[0]) / sigmas[i]
        x = x + eps * (sigmas[i + 1] - sigmas[i])
    return x


@pytest.mark.parametrize("mode", [SyncMode.NOISE, SyncMode.TWEEDIE, SyncMode.CANONICAL_TWEEDIE])
def test_the_first_steps_run_the_coarse_windows_and_the_rest_every_window(mode):
    canvas = WideCanvas(8, 48, 8, 1, coarse_until=0.6)
    coarse = canvas.coarse_windows.space
    denoiser = PosteriorMeanDenoiser(smooth_fields(8, 6))
    denoise, calls = recording(denoiser)
    sigmas = karras_sigmas(10, 0.01, 20.0)
    canonical = torch.randn(3, 8, 48, generator=torch.Generator().manual_seed(0))
    views = sample(denoise, canvas, canvas.project(canonical), sigmas, mode)
    assert calls == [coarse.num_views] * 6 + [canvas.num_views] * 4
    expected = canvas_euler(denoiser, [coarse] * 6 + [canvas] * 4, canonical, sigmas, mode)
    torch.testing.assert_close(canvas.unproject(views)[0], expected, atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize("mode", [SyncMode.NONE, SyncMode.STATE])
def test_modes_without_an_averaged_estimate_run_every_window(mode):
    canvas = WideCanvas(8, 48, 8, 1, coarse_until=1.0)
    denoise, calls = recording(PosteriorMeanDenoiser(smooth_fields(8, 6)))
    sample(denoise, canvas, canvas.initial_noise(3, torch.Generator().manual_seed(0)), karras_sigmas(4, 0.01, 20.0),
           mode)
    assert calls == [canvas.num_views] * 4


def test_coarse_until_zero_is_every_window_at_every_step():
    denoiser = PosteriorMeanDenoiser(smooth_fields(8, 64))
    noise = WideCanvas(8, 48, 8, 1).initial_noise(3, torch.Generator().manual_seed(1))
    runs = {}
    for coarse_until in (0.0, 0.3):
        canvas = WideCanvas(8, 48, 8, 1, coarse_until=coarse_until)
        denoise, calls = recording(denoiser)
        runs[coarse_until] = sample(denoise, canvas, noise, karras_sigmas(10, 0.01, 20.0))
        assert calls[-1] == canvas.num_views and (min(calls) < canvas.num_views) == (coarse_until > 0)
    assert (runs[0.0] - runs[0.3]).abs().max() > 1e-3


def test_rgb_averaging_decodes_only_the_coarse_windows():
    canvas = WideCanvas(8, 48, 8, 2, coarse_until=1.0)
    decoded = []

    def decode(latents):
        decoded.append(latents.shape[0])
        return torch.nn.functional.interpolate(latents[:, :3], scale_factor=2)

    def encode(images):
        latents = torch.nn.functional.avg_pool2d(images, 2)
        return torch.cat([latents, latents[:, :1]], 1)

    space = PixelSynchronizedSpace(canvas, decode, encode, factor=2)
    denoiser = PosteriorMeanDenoiser(torch.rand(6, 4, 8, 8, generator=torch.Generator().manual_seed(0)))
    views = sample(denoiser, space, canvas.initial_noise(4, torch.Generator().manual_seed(0)),
                   karras_sigmas(3, 0.01, 20.0))
    assert decoded == [canvas.coarse_windows.space.num_views] * 3
    assert canvas.is_consistent(views[:, :3], 1e-4), "every window's x0 comes from the coarse windows' mean"


def test_coarse_windows_need_a_stride_of_at_most_half_the_window():
    with pytest.raises(ValueError, match="stride of at most half the window"):
        WideCanvas(8, 48, 8, 5, coarse_until=0.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        WideCanvas(8, 48, 8, 2, coarse_until=1.5)
    assert WideCanvas(8, 48, 8, 5).coarse_until == 0.0
    assert "896 pixels apart" in coarse_problem(512, 448, 0.8, name="pixels")
    assert coarse_problem(512, 64, 0.8) is None
