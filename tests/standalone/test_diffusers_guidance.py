"""The standalone command's per-view ControlNet hints and cross-view attention on a tiny diffusers UNet."""
import pytest
import torch

pytest.importorskip("diffusers", reason="diffusers is not installed (pip install diffusers transformers)")
pytest.importorskip("transformers", reason="transformers is not installed (pip install diffusers transformers)")

from diffusers_support import tiny_controlnet, tiny_sd_pipeline  # noqa: E402
from synctweedies.control import StrengthRamp  # noqa: E402
from synctweedies.standalone.diffusers_backend import (DiffusersDenoiser, ViewGuidance, load_controlnet,  # noqa: E402
                                            load_pipeline)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    folder = tiny_sd_pipeline(tmp_path_factory.mktemp("sd"))
    control = tiny_controlnet(folder, tmp_path_factory.mktemp("control"))
    cpu = torch.device("cpu")
    return DiffusersDenoiser(load_pipeline(str(folder), cpu, torch.float32), 3.0, 8,
                             load_controlnet(str(control), cpu, torch.float32))


def x0_of(backend, guidance, views_per_batch, views, step=0):
    backend.views_per_batch = views_per_batch
    schedule = backend.sigmas(10)
    prompts = backend.encode_prompts(["a", "b", "c", "d"])
    denoise = backend.view_denoiser(prompts, backend.encode_prompts([""]), schedule, guidance)
    return denoise(views * schedule[step], schedule[step])


def test_per_view_hints_follow_their_views_into_sub_batches(backend):
    torch.manual_seed(0)
    views = torch.randn(4, 4, 8, 8)
    hints = torch.linspace(0, 1, 4)[:, None, None, None].expand(-1, 3, 64, 64)  # view i: grey level i / 3
    guidance = ViewGuidance(hints=hints, ramp=StrengthRamp(1.0, 1.0))
    together, one_by_one = (x0_of(backend, guidance, batch, views) for batch in (4, 1))
    assert (together - one_by_one).abs().amax() < 1e-4 * together.abs().amax()
    swapped = x0_of(backend, ViewGuidance(hints=hints.flip(0), ramp=StrengthRamp(1.0, 1.0)), 1, views)
    assert (swapped - together).abs().amax() > 1e-3, "each view is steered by its own hint"
    plain = x0_of(backend, ViewGuidance(), 4, views)
    assert (plain - together).abs().amax() > 1e-3


def test_reference_attention_joins_every_sub_batch_and_ends_on_time(backend):
    torch.manual_seed(0)
    views = torch.randn(4, 4, 8, 8)
    guidance = ViewGuidance(reference=2, reference_end=0.2)
    together, one_by_one = (x0_of(backend, guidance, batch, views) for batch in (4, 1))
    assert (together - one_by_one).abs().amax() < 1e-4 * together.abs().amax()
    plain = x0_of(backend, ViewGuidance(), 4, views)
    assert (plain - together).abs().amax() > 1e-3
    assert torch.allclose(x0_of(backend, guidance, 4, views, step=2), x0_of(backend, ViewGuidance(), 4, views, step=2),
                          atol=1e-6), "after ref_attention_end of the steps, attention is plain again"


def test_neighbour_attention_puts_all_views_in_one_call_and_identical_views_are_unchanged(backend):
    same = torch.randn(1, 4, 8, 8).expand(4, -1, -1, -1).contiguous()
    guidance = ViewGuidance(neighbours=[[3, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 0]], reference=0, reference_end=1.0)
    backend_prompts = backend.encode_prompts(["a"])
    schedule = backend.sigmas(10)
    backend.views_per_batch = 1
    attended = backend.view_denoiser(backend_prompts, backend.encode_prompts([""]), schedule, guidance)(
        same * schedule[0], schedule[0])
    plain = backend.view_denoiser(backend_prompts, backend.encode_prompts([""]), schedule)(same * schedule[0],
                                                                                           schedule[0])
    assert torch.allclose(attended, plain, atol=1e-4), "attending to identical views changes nothing"


def test_the_controlnet_is_off_outside_its_window():
    guidance = ViewGuidance(hints=torch.zeros(1, 3, 8, 8), ramp=StrengthRamp(0.7, 0.9, 0.0, 0.99),
                            control_start=0.0, control_end=0.99)
    assert guidance.control_strength(0, 30, None) == 0.7
    assert guidance.control_strength(29, 30, 34.0) == 0.0, "(i + 1) / steps > 0.99 on the last step"
    assert 0.7 < guidance.control_strength(1, 30, 967.0) < 0.9
