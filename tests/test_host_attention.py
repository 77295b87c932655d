"""Cross-view attention (the original's ref_attention_end) inside the real host, with a random-weight SD1.5."""
import torch

from synctweedies import AnagramSpace
from test_host_nodes import mode_option


def sample(nodes, model, space, positive, negative, ref_attention_end, views_per_batch=0, mode=0, steps=3):
    return nodes.sampling.SamplerNode.execute(model, positive, negative, 7, steps, 5.0, "euler", "normal", 1.0, space,
                                              mode_option(nodes, mode), 1.0, views_per_batch,
                                              ref_attention_end).args[0]["samples"]


def test_attending_to_an_identical_reference_view_changes_nothing(nodes, tiny_sd15, encode):
    """Keys and values repeated from an identical view leave softmax attention as it was (up to float
    rounding, ~1e-3 here, vs ~1 when the views differ): the patch adds the reference view's tokens, nothing else."""
    model, _, _ = tiny_sd15
    space = AnagramSpace(["identity", "identity"], 8)
    positive, negative = encode("a photo of a cat"), encode("")
    plain = sample(nodes, model, space, positive, negative, 0.0)
    attended = sample(nodes, model, space, positive, negative, 1.0)
    torch.testing.assert_close(attended, plain, atol=5e-3, rtol=2e-3)


def test_views_attend_to_the_reference_view_for_the_first_part_of_the_schedule(nodes, tiny_sd15, encode):
    model, _, _ = tiny_sd15
    space = AnagramSpace(["identity", "rotate_cw", "flip"], 8)
    positive, negative = encode("a photo of a cat"), encode("")
    patches = []

    def spy(apply_model, args):
        options = args["c"].get("transformer_options", {})
        patches.append(len(options.get("patches", {}).get("attn1_patch", [])))
        return apply_model(args["input"], args["timestep"], **args["c"])

    spied = model.clone()
    spied.set_model_unet_function_wrapper(spy)
    plain = sample(nodes, model, space, positive, negative, 0.0, steps=4)
    attended = sample(nodes, spied, space, positive, negative, 0.5, steps=4)
    assert patches == [1, 1, 0, 0], "patched for the first half of the steps only"
    assert (attended - plain).abs().max() > 0.1, "different views change each other's attention"
    one_at_a_time = sample(nodes, model, space, positive, negative, 0.5, views_per_batch=1, steps=4)
    torch.testing.assert_close(one_at_a_time, attended, atol=5e-3, rtol=2e-3)
    assert space.reference_view == 1
