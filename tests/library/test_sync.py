"""Synchronization modes on the exact Tweedie denoiser of a small photo-patch set."""
import pytest
import torch

from photo_patches import photo_strips
from synctweedies import (PosteriorMeanDenoiser, SyncMode, Synchronizer, WideCanvas, karras_sigmas, sample,
                          split_schedule)

WINDOW, STRIDE = 16, 2  # the original's window/stride ratio of 8 (64/8 in latent pixels), and its plain mean


@pytest.fixture(scope="module")
def denoiser() -> PosteriorMeanDenoiser:
    return PosteriorMeanDenoiser(photo_strips(WINDOW, stride=2))


@pytest.fixture(scope="module")
def space() -> WideCanvas:
    return WideCanvas(WINDOW, 64, WINDOW, STRIDE, weighting="flat")


def seam_ratio(canvas: torch.Tensor, stride: int) -> float:
    """Mean jump between columns where the set of covering windows changes, over the mean jump elsewhere."""
    jumps = (canvas[:, :, 1:] - canvas[:, :, :-1]).abs().mean((0, 1))
    border = torch.arange(1, canvas.shape[-1]) % stride == 0
    return (jumps[border].mean() / jumps[~border].mean()).item()


def run(denoiser, space, mode, seeds=range(4), steps=40):
    """(mean seam ratio, mean distance of views to the data, largest view disagreement) over seeds."""
    seams, distances, disagreement = [], [], 0.0
    for seed in seeds:
        noise = space.initial_noise(3, torch.Generator().manual_seed(seed))
        views = sample(denoiser, space, noise, karras_sigmas(steps, 0.005, 40.0), mode)
        canvas = space.unproject(views)[0]
        seams.append(seam_ratio(canvas, STRIDE))
        distances.append(denoiser.distance_to_data(space.project(canvas)).mean().item())
        disagreement = max(disagreement, (space.synchronize(views) - views).abs().max().item())
    return sum(seams) / len(seams), sum(distances) / len(distances), disagreement


def test_posterior_mean_is_the_data_at_low_noise_and_the_mean_at_high_noise(denoiser):
    item = denoiser.data[7].reshape(1, *denoiser.shape).float()
    torch.testing.assert_close(denoiser(item + 1e-3 * torch.randn_like(item), 1e-3), item, atol=1e-4, rtol=0)
    far = denoiser(torch.zeros_like(item), 1e4)
    torch.testing.assert_close(far.flatten(), denoiser.data.mean(0).float(), atol=1e-4, rtol=0)


@pytest.mark.parametrize("mode", [1, 2, 3, 4, 5])
def test_synchronized_modes_leave_views_in_agreement(denoiser, space, mode):
    _, _, disagreement = run(denoiser, space, mode, seeds=[0], steps=20)
    assert disagreement < 1e-4


def test_independent_views_disagree(denoiser, space):
    _, _, disagreement = run(denoiser, space, SyncMode.NONE, seeds=[0], steps=20)
    assert disagreement > 0.3


def test_synctweedies_has_no_seams_and_stays_near_the_data(denoiser, space):
    sync_seam, sync_distance, _ = run(denoiser, space, SyncMode.TWEEDIE)
    free_seam, free_distance, _ = run(denoiser, space, SyncMode.NONE)
    assert sync_seam < 1.35, "jumps at window borders are close to jumps inside windows"
    assert free_seam > 1.6, "independent views leave visible seams at window borders"
    assert sync_distance < 0.8 * free_distance, "synchronized windows stay closer to the photo patches"


def test_modes_agree_for_one_to_one_views(denoiser, space):
    """For crops, unproject∘project is the identity, so all synchronized modes coincide (the paper's analysis)."""
    noise = space.initial_noise(3, torch.Generator().manual_seed(3))
    sigmas = karras_sigmas(15, 0.005, 40.0)
    results = [sample(denoiser, space, noise, sigmas, mode) for mode in range(1, 6)]
    for other in results[1:]:
        torch.testing.assert_close(other, results[0], atol=1e-4, rtol=0)


def test_sync_end_splits_the_schedule(denoiser, space):
    noise = space.initial_noise(3, torch.Generator().manual_seed(1))
    sigmas = karras_sigmas(20, 0.005, 40.0)
    synced = sample(denoiser, space, noise, sigmas, SyncMode.TWEEDIE, sync_end=1.0)
    early_stop = sample(denoiser, space, noise, sigmas, SyncMode.TWEEDIE, sync_end=0.5)
    never = sample(denoiser, space, noise, sigmas, SyncMode.TWEEDIE, sync_end=0.0)
    torch.testing.assert_close(never, sample(denoiser, space, noise, sigmas, SyncMode.NONE))
    disagreement = lambda v: (space.synchronize(v) - v).abs().max().item()  # noqa: E731
    assert disagreement(synced) < 1e-4 < disagreement(early_stop)
    first, rest = split_schedule(sigmas, 0.25)
    assert len(first) == 6 and len(rest) == 16 and first[-1] == rest[0]


def test_state_mode_synchronizes_the_sampler_state_in_place():
    space = WideCanvas(4, 12, window=4, stride=2)
    x = torch.randn(space.num_views, 1, 4, 4)
    seen = []
    Synchronizer(space, SyncMode.STATE).denoise(lambda v, s: seen.append(v.clone()) or v, x, torch.tensor(1.0))
    assert space.is_consistent(x) and space.is_consistent(seen[0])


def test_canonical_modes_need_consistent_noise(denoiser, space):
    with pytest.raises(ValueError, match="canonically consistent noise"):
        sample(denoiser, space, torch.randn(space.num_views, 3, WINDOW, WINDOW), karras_sigmas(4), 5)


def test_phases_end_on_the_models_timesteps_as_the_originals_do():
    """The original synchronizes while t > 1000 (1 - mvd_end) and attends to the reference while
    t > 1000 (1 - ref_attention_end): on its 30 DDIM timesteps (958, 925, ..., 1) 23 and 5 steps, not 24 and 6."""
    from synctweedies.sync import steps_until

    ddim = torch.arange(958, 0, -33).float()
    assert len(ddim) == 30
    assert steps_until(0.8, 30, ddim) == 23 and steps_until(0.2, 30, ddim) == 5
    assert steps_until(0.8, 30) == 24, "without timesteps, a fraction of the steps"
    assert steps_until(1.0, 30, torch.cat([ddim[:-1], torch.zeros(1)])) == 30, "to the end, a last t of 0 included"
    assert steps_until(0.0, 30, ddim) == 0
    edit = ddim[6:]  # the original's SDEdit: the last 24 steps, from t = 760
    assert edit[0] == 760 and steps_until(0.8, 24, edit) == 17
    first, rest = split_schedule(torch.linspace(10, 0, 31), 0.8, torch.cat([ddim, torch.zeros(1)]))
    assert len(first) == 24 and len(rest) == 8
