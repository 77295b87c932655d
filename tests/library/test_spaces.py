"""Canonical spaces: exact maps, coverage, consistent noise, clear errors."""
import pytest
import torch

from synctweedies import WideCanvas


@pytest.mark.parametrize("wrap", [False, True])
@pytest.mark.parametrize("size", [(16, 64), (16, 60), (24, 40)])
def test_unproject_inverts_project(size, wrap):
    space = WideCanvas(*size, window=16, stride=8, wrap=wrap)
    canvas = torch.randn(4, *size)
    views = space.project(canvas)
    back, coverage = space.unproject(views)
    assert views.shape == (space.num_views, 4, 16, 16)
    assert (coverage > 0).all(), "every canvas pixel, right and bottom edges included, is in some view"
    torch.testing.assert_close(back, canvas)


def test_views_are_crops_and_edges_are_covered():
    space = WideCanvas(16, 60, window=16, stride=8)
    canvas = torch.arange(16 * 60.).reshape(1, 16, 60)
    views = space.project(canvas)
    torch.testing.assert_close(views[0, 0], canvas[0, :, :16])
    torch.testing.assert_close(views[-1, 0], canvas[0, :, -16:])


def test_wrap_windows_cross_the_right_edge():
    space = WideCanvas(8, 32, window=8, stride=4, wrap=True)
    canvas = torch.arange(8 * 32.).reshape(1, 8, 32)
    last = space.project(canvas)[-1, 0]
    torch.testing.assert_close(last, torch.cat([canvas[0, :, 28:], canvas[0, :, :4]], dim=1))
    assert space.num_views == 8


def test_coverage_counts_views_and_tapered_windows_enter_gradually():
    space = WideCanvas(8, 24, window=8, stride=4, weighting="flat")
    _, coverage = space.unproject(torch.ones(space.num_views, 1, 8, 8))
    assert coverage[0, 0, 0] == 1 and coverage[0, 0, 4] == 2 and coverage[0, 0, 23] == 1
    tapered = WideCanvas(8, 24, window=8, stride=4)
    views = torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0]).reshape(5, 1, 1, 1).expand(-1, 1, 8, 8)
    canvas = tapered.unproject(views)[0][0, 4]  # the middle window, unlike the others, begins at column 8
    assert canvas[7] == 0 and 0 < canvas[8] < canvas[9] < 0.5, "it enters the mean over half a stride, no jump"
    assert torch.equal(tapered.weights[0, 4], torch.tensor([0.25, 0.75, 1, 1, 1, 1, 0.75, 0.25]))


def test_consistent_views_survive_a_round_trip_and_inconsistent_ones_do_not():
    space = WideCanvas(16, 64, window=16, stride=4)
    consistent = space.project(torch.randn(3, 16, 64))
    torch.testing.assert_close(space.synchronize(consistent), consistent)
    assert space.is_consistent(consistent)
    assert not space.is_consistent(torch.randn_like(consistent))


def test_weighted_unproject_is_the_weighted_mean():
    space = WideCanvas(8, 12, window=8, stride=4, weighting="flat")
    views = torch.stack([torch.full((1, 8, 8), 1.0), torch.full((1, 8, 8), 4.0)])
    weights = torch.stack([torch.full((1, 8, 8), 3.0), torch.full((1, 8, 8), 1.0)])
    canvas, coverage = space.unproject(views, weights)
    assert canvas[0, 0, 0] == 1.0 and canvas[0, 0, 11] == 4.0
    assert canvas[0, 0, 6] == pytest.approx((3 * 1 + 4) / 4)
    assert coverage[0, 0, 6] == 4.0


def test_initial_noise_is_consistent_and_unit_variance():
    space = WideCanvas(64, 384, window=64, stride=8)
    noise = space.initial_noise(4, torch.Generator().manual_seed(0))
    assert space.is_consistent(noise)
    per_view_std = noise.flatten(1).std(1)
    assert per_view_std.min() > 0.97 and per_view_std.max() < 1.03
    assert abs(noise.mean()) < 0.02
    # views start from the same noise where they overlap, yet each view is iid N(0, 1) per element
    assert abs(torch.corrcoef(noise[0].flatten(1))[0, 1]) < 0.05


def test_scaled_space_matches_pixel_units():
    pixels = WideCanvas(8, 48, window=8, stride=4).scaled(8)
    assert pixels.view_size == (64, 64) and pixels.canonical_size == (64, 384) and pixels.num_views == 11


@pytest.mark.parametrize("args, message", [
    ((8, 48, 16, 8), "smaller than one 16x16 window"),
    ((16, 12, 16, 8), "smaller than one"),
    ((16, 48, 16, 24), "larger than the window"),
    ((16, 48, 16, 0), "must be positive"),
])
def test_bad_canvas_is_a_clear_error(args, message):
    with pytest.raises(ValueError, match=message):
        WideCanvas(*args)


def test_check_views_names_the_mismatch():
    space = WideCanvas(8, 24, window=8, stride=4)
    with pytest.raises(ValueError, match="batch of 3 but the canonical space has 5 views"):
        space.check_views(torch.zeros(3, 4, 8, 8))
    with pytest.raises(ValueError, match="views are 16x16"):
        space.check_views(torch.zeros(5, 4, 16, 16))


def test_a_canvas_of_too_many_windows_is_refused_at_once_with_the_fix():
    from synctweedies.canvas import MAX_WINDOWS

    with pytest.raises(ValueError, match="has 4,165,681 windows, more than the 10,000 .* make the canvas smaller"):
        WideCanvas(2048, 2048, 8, 1)  # its index alone would take 2 GiB
    with pytest.raises(ValueError, match="raise the stride to at least 11 latent pixels"):
        WideCanvas(1024, 1024, 32, 4)
    assert WideCanvas(1024, 1024, 32, 11).num_views <= MAX_WINDOWS
