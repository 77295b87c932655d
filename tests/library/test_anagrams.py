"""Anagram views: exact maps, the three projection kinds, the closed-form two-prompt run, animation."""
import pytest
import torch

from photo_patches import two_photo_sets
from synctweedies import AnagramSpace, PosteriorMeanDenoiser, karras_sigmas, per_view_denoiser, sample
from synctweedies.anagram import ANAGRAM_VIEWS, ViewOptions, anagram_animation, view_frame

ONE_TO_ONE = ["identity", "flip", "flip_horizontal", "rotate_cw", "rotate_ccw", "rotate_180", "negate", "skew",
              "patch_permute", "pixel_permute", "jigsaw", "square_hinge", "inner_circle"]


def smooth(channels: int, size: int, seed: int = 0) -> torch.Tensor:
    image = torch.randn(1, channels, size, size, generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.avg_pool2d(image, 5, 1, 2, count_include_pad=False)[0] * 3


def test_every_view_is_offered_and_classified():
    kinds = {name: AnagramSpace([name], 64).projection_kind(0) for name in ANAGRAM_VIEWS}
    assert kinds == {**{name: "1-to-1" for name in ONE_TO_ONE}, "rotate": "n-to-1", "inner_rotate": "1-to-n"}


@pytest.mark.parametrize("name", ONE_TO_ONE)
def test_one_to_one_views_are_exact_inverses(name):
    space = AnagramSpace([name], 64)
    canonical = torch.randn(4, 64, 64)
    view = space.project(canonical)
    assert not torch.equal(view[0], canonical) or name == "identity"
    torch.testing.assert_close(space.unproject(view)[0], canonical, atol=0, rtol=0)
    moved = space.index[0, ..., 0].flatten()
    assert torch.equal(moved.sort().values, torch.arange(64 * 64)), "a permutation of the canonical pixels"


def test_known_views_match_torch():
    canonical = torch.randn(3, 16, 16)
    expect = {"flip": canonical.flip(1), "flip_horizontal": canonical.flip(2), "negate": -canonical,
              "rotate_cw": canonical.rot90(-1, (1, 2)), "rotate_ccw": canonical.rot90(1, (1, 2)),
              "rotate_180": canonical.rot90(2, (1, 2))}
    space = AnagramSpace(list(expect), 16)
    for view, want in zip(space.project(canonical), expect.values()):
        torch.testing.assert_close(view, want, atol=0, rtol=0)


@pytest.mark.parametrize("name", ONE_TO_ONE + ["inner_rotate"])
def test_latent_grid_maps_move_whole_blocks_in_their_pixel_twin(name):
    latent = AnagramSpace([name], 32)
    canonical = torch.randn(3, 32, 32)
    blocks = lambda x: x.repeat_interleave(8, -2).repeat_interleave(8, -1)  # noqa: E731
    twin = latent.scaled(8).project(blocks(canonical))
    mismatch = (twin - blocks(latent.project(canonical))).abs().gt(1e-6).float().mean()
    assert mismatch == 0 or (name == "inner_rotate" and mismatch < 0.25)


def test_one_to_n_unprojection_is_the_weighted_mean():
    space = AnagramSpace(["identity", "inner_rotate"], 32, options=ViewOptions(rotate_angle=30))
    assert space.projection_kind(1) == "1-to-n"
    views = torch.randn(2, 2, 32, 32)
    weights = torch.rand(2, 1, 32, 32) + 0.1
    canonical, coverage = space.unproject(views, weights)
    flat_index = space.index[..., 0].flatten()
    values = (views * weights).permute(1, 0, 2, 3).reshape(2, -1)
    w = weights.flatten()
    for pixel in [0, 100, 16 * 32 + 16, 20 * 32 + 9]:
        hits = flat_index == pixel
        assert hits.sum() >= 1
        expected = values[:, hits].sum(1) / w[hits].sum()
        torch.testing.assert_close(canonical.reshape(2, -1)[:, pixel], expected)
        torch.testing.assert_close(coverage.flatten()[pixel], w[hits].sum())
    assert (space.index[1, ..., 0].flatten().bincount(minlength=1024) > 1).any(), "some pixel is shown twice"


def test_n_to_1_optimisation_drives_the_residual_below_tolerance():
    splat = AnagramSpace(["identity", "rotate"], 32, options=ViewOptions(rotate_angle=30))
    fitted = AnagramSpace(["identity", "rotate"], 32, options=ViewOptions(rotate_angle=30),
                          inverse_iterations=150, inverse_lr=0.05)
    views = splat.project(smooth(3, 32))
    weights = splat.weights.unsqueeze(1)
    residual = lambda space: ((space.project(space.unproject(views)[0]) - views).square()  # noqa: E731
                              * weights).mean().sqrt()
    assert residual(splat) > 5e-3, "the splat alone blurs an interpolating view"
    assert residual(fitted) < 1e-3 and residual(fitted) < residual(splat) / 10


def test_initial_noise_is_unit_variance_in_every_view():
    space = AnagramSpace(["identity", "rotate", "inner_rotate", "jigsaw"], 64)
    noise = space.initial_noise(4, torch.Generator().manual_seed(0))
    for view in range(4):
        seen = noise[view][:, space.weights[view] > 0]
        assert 0.95 < seen.std() < 1.05


@pytest.mark.parametrize("views, size, cell, message", [
    (["identity", "mirror"], 64, 1, "Unknown anagram view 'mirror'. Choose from: identity, flip"),
    (["identity", "jigsaw"], 34, 1, "multiple of 4"),
    (["identity", "patch_permute"], 60, 1, "8 patches per side do not divide"),
    (["identity"], 60, 8, "multiple of the cell size 8"),
    ([], 64, 1, "at least one view"),
])
def test_bad_settings_are_named(views, size, cell, message):
    with pytest.raises(ValueError, match=message):
        AnagramSpace(views, size, cell)


def test_pixel_space_is_required_only_for_views_latents_cannot_follow():
    assert "negate, rotate" in AnagramSpace(["negate", "rotate"], 64).pixel_space_reason
    assert AnagramSpace(["rotate"], 64, options=ViewOptions(rotate_angle=180)).pixel_space_reason == ""
    assert AnagramSpace(["identity", "jigsaw", "inner_rotate"], 64).pixel_space_reason == ""


def anagram_distances(space, mode, denoisers, seeds=range(3)):
    """Per seed, the canonical image's views' distances ``[V, 2]`` to (their own set, the other set)."""
    own, other = denoisers
    out = []
    for seed in seeds:
        noise = space.initial_noise(3, torch.Generator().manual_seed(seed))
        final = sample(per_view_denoiser([own, other]), space, noise, karras_sigmas(30, 0.005, 40.0), mode=mode)
        shown = space.project(space.unproject(final)[0])
        out.append(torch.stack([torch.cat([own.distance_to_data(shown[:1]), other.distance_to_data(shown[1:])]),
                                torch.cat([other.distance_to_data(shown[:1]), own.distance_to_data(shown[1:])])], 1))
    return torch.stack(out)


@pytest.mark.parametrize("views, iterations", [(["identity", "rotate_cw"], 0), (["identity", "inner_rotate"], 0),
                                               (["identity", "rotate"], 20)])
def test_each_view_of_a_synctweedies_anagram_reads_as_its_own_prompt(views, iterations):
    denoisers = [PosteriorMeanDenoiser(crops) for crops in two_photo_sets()]
    space = AnagramSpace(views, 16, inverse_iterations=iterations, inverse_lr=0.05)
    synced = anagram_distances(space, 2, denoisers)
    assert (synced[..., 0] < synced[..., 1]).all(), "every view is closer to its own set than to the other"
    independent = anagram_distances(space, 0, denoisers)
    assert synced[..., 0].mean() < 0.92 * independent[..., 0].mean(), "averaging the independent views does worse"


@pytest.mark.parametrize("name", list(ANAGRAM_VIEWS))
def test_animation_starts_at_the_image_and_ends_at_each_view(name):
    space = AnagramSpace(["identity", name], 16)
    image = (smooth(3, 128) / 6 + 0.5).clamp(0, 1)
    torch.testing.assert_close(view_frame(image, space, 1, 0.0), image, atol=1e-5, rtol=0)
    end = view_frame(image, space, 1, 1.0)
    want = (space.scaled(8).project(image * 2 - 1)[1] + 1) / 2
    seen = space.scaled(8).weights[1] > 0
    assert (end - want)[:, seen].abs().mean() < 0.02


def test_animation_visits_every_view():
    space = AnagramSpace(["identity", "rotate_cw", "flip"], 8)
    frames = anagram_animation(torch.rand(3, 64, 64), space, frames_per_turn=6, hold=2)
    assert frames.shape == (2 * (2 + 6 + 2 + 6), 3, 64, 64)


def test_the_originals_inverse_fit_starts_from_the_previous_fit():
    space = AnagramSpace(["identity", "rotate"], 16, inverse_iterations=1, inverse_lr=1e-9, inverse_fit="original")
    first = space.unproject(space.project(smooth(3, 16)))[0]
    second = space.unproject(space.project(smooth(3, 16, seed=5)))[0]
    torch.testing.assert_close(second, first)  # warm-started: a tiny step from the last fit
    space.begin_run()
    assert (space.unproject(space.project(smooth(3, 16, seed=5)))[0] - first).abs().max() > 0.1, "a run starts anew"
    ours = AnagramSpace(["identity", "rotate"], 16, inverse_iterations=1, inverse_lr=1e-9)
    assert (ours.unproject(ours.project(smooth(3, 16, seed=5)))[0] - first).abs().max() > 0.1, "from each splat"
