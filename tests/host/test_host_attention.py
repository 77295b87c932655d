"""Cross-view attention (the original's reference and neighbour attention) inside the real host, with a
random-weight SD1.5."""
import torch

from host_support import counting_calls
from synctweedies import AnagramSpace
from test_host_nodes import mode_option


def sample(nodes, model, space, positive, negative, ref_attention_end, views_per_batch=0, mode=0, steps=3,
           neighbours=False):
    return nodes.sampling.SamplerNode.execute(model, positive, negative, 7, steps, 5.0, "euler", "normal", 1.0, space,
                                              mode_option(nodes, mode), 1.0, views_per_batch, ref_attention_end,
                                              neighbour_attention=neighbours).args[0]["samples"]


def test_attending_to_identical_views_changes_nothing(nodes, tiny_sd15, encode):
    """Attention to identical views, averaged or in one softmax, is attention to the view itself (up to float
    rounding, ~1e-3 here, vs ~1 when the views differ)."""
    model, _, _ = tiny_sd15
    space = AnagramSpace(["identity", "identity", "identity"], 8)
    positive, negative = encode("a photo of a cat"), encode("")
    plain = sample(nodes, model, space, positive, negative, 0.0)
    for reference, neighbours in ((1.0, False), (0.0, True), (1.0, True)):
        attended = sample(nodes, model, space, positive, negative, reference, neighbours=neighbours)
        torch.testing.assert_close(attended, plain, atol=5e-3, rtol=2e-3)


def test_views_attend_to_the_reference_view_for_the_first_part_of_the_schedule(nodes, tiny_sd15, encode):
    model, _, _ = tiny_sd15
    space = AnagramSpace(["identity", "rotate_cw", "flip"], 8)
    positive, negative = encode("a photo of a cat"), encode("")
    patches = []

    def spy(apply_model, args):
        options = args["c"].get("transformer_options", {})
        patches.append(len(options.get("patches_replace", {}).get("attn1", {})))
        return apply_model(args["input"], args["timestep"], **args["c"])

    spied = model.clone()
    spied.set_model_unet_function_wrapper(spy)
    plain = sample(nodes, model, space, positive, negative, 0.0, steps=4)
    attended = sample(nodes, spied, space, positive, negative, 0.5, steps=4)
    assert patches[2:] == [0, 0] and patches[0] == patches[1] > 0, "every self-attention, for the first half only"
    assert (attended - plain).abs().max() > 0.1, "different views change each other's attention"
    one_at_a_time = sample(nodes, model, space, positive, negative, 0.5, views_per_batch=1, steps=4)
    torch.testing.assert_close(one_at_a_time, attended, atol=5e-3, rtol=2e-3)
    assert space.reference_view == 1


def test_neighbour_attention_mixes_views_and_runs_them_all_in_one_call(nodes, tiny_sd15, encode):
    model, _, _ = tiny_sd15
    space = AnagramSpace(["identity", "rotate_cw", "flip", "rotate_ccw"], 8)
    positive, negative = encode("a photo of a cat"), encode("")
    spied, batches = counting_calls(model)
    plain = sample(nodes, model, space, positive, negative, 0.0)
    attended = sample(nodes, spied, space, positive, negative, 0.0, views_per_batch=1, neighbours=True)
    assert set(batches) == {8}, "all four views (both CFG halves) in each call, whatever views_per_batch"
    assert (attended - plain).abs().max() > 0.1, "views attend to their neighbours"
    both = sample(nodes, model, space, positive, negative, 0.5, neighbours=True)
    assert (both - attended).abs().max() > 0.1, "and to the reference view early on"


def test_a_unet_without_a_middle_block_takes_cross_view_attention(nodes, tiny_sd15, encode):
    """Some SD-family UNets (SSD-1B, Vega) have no middle block: attention is installed in the other blocks."""
    model, _, _ = tiny_sd15
    unet = model.clone()
    diffusion = unet.get_model_object("diffusion_model")
    middle, diffusion.middle_block = diffusion.middle_block, None
    try:
        blocks = nodes.view_attention.self_attention_blocks(unet)
        assert blocks and all(name != "middle" for name, _, _ in blocks)
        space = AnagramSpace(["identity", "rotate_cw"], 8)
        plain = sample(nodes, unet, space, encode("a cat"), encode(""), 0.0)
        attended = sample(nodes, unet, space, encode("a cat"), encode(""), 1.0, neighbours=True)
        assert torch.isfinite(attended).all() and (attended - plain).abs().max() > 0.01
    finally:
        diffusion.middle_block = middle


def test_a_coarse_canvas_runs_its_coarse_windows_with_their_own_attention_first(nodes, tiny_sd15, encode):
    """coarse_until 1 paints the canvas a canvas of only its every other window paints (their neighbours and
    reference view among themselves); 0.5 runs those windows for the first half of the steps, every window after."""
    model, _, _ = tiny_sd15
    positive, negative = encode("a mountain range at twilight"), encode("")

    def wide(stride: int = 16, **options):
        return nodes.canvas.WideCanvasNode.execute(width=192, height=64, window=64, stride=stride, wrap=False,
                                                   **options).args[0]

    def canvas_of(space, model=model):
        views = sample(nodes, model, space, positive, negative, 0.5, mode=2, steps=4, neighbours=True)
        return space.unproject(views)[0]

    spied, batches = counting_calls(model)
    fine, coarse = wide(), wide(stride=32)
    assert (fine.num_views, coarse.num_views) == (9, 5)
    torch.testing.assert_close(canvas_of(wide(coarse_until=1.0)), canvas_of(coarse), atol=1e-4, rtol=1e-4)
    halfway = canvas_of(wide(coarse_until=0.5), spied)
    assert batches == [10, 10, 18, 18], "5 windows, then 9 (both CFG halves in one call)"
    assert (halfway - canvas_of(fine)).abs().max() > 0.01
