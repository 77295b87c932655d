"""Cross-view attention against a plain loop over views, and what it leaves unchanged."""
import torch

from torch.nn.attention import SDPBackend, sdpa_kernel

from synctweedies.attention import cross_view_attention, cyclic_neighbours, sliding_keys, sliding_runs


def softmax_attention(q, k, v):
    """One head: ``q`` ``[T, d]`` over ``k``, ``v`` ``[S, d]``."""
    return torch.softmax(q @ k.T / q.shape[-1] ** 0.5, -1) @ v


def by_loop(q, k, v, heads, neighbours, reference, weight):
    chunks_views, tokens, channels = q.shape
    views, head = len(neighbours), channels // heads
    out = torch.zeros_like(q)
    for b in range(chunks_views):
        chunk, view = divmod(b, views)
        for h in range(heads):
            part = slice(h * head, (h + 1) * head)
            rows = [chunk * views + j for j in neighbours[view]]
            keys = torch.cat([k[r, :, part] for r in rows])
            values = torch.cat([v[r, :, part] for r in rows])
            result = softmax_attention(q[b, :, part], keys, values)
            if reference is not None and weight > 0:
                r = chunk * views + reference
                to_reference = softmax_attention(q[b, :, part], k[r, :, part], v[r, :, part])
                result = (result + weight * to_reference) / (1 + weight)
            out[b, :, part] = result
    return out


def test_neighbour_and_reference_attention_match_a_loop_over_views():
    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2 * 5, 7, 12, generator=generator, dtype=torch.float64) for _ in range(3))
    ragged = cyclic_neighbours(5)[:3] + [[1, 3], [4]]  # ragged lists, as a mesh's top views have
    for neighbours in (ragged, cyclic_neighbours(5)):  # some views per call, and all views in one call
        for reference, weight in ((None, 0.0), (2, 1.0), (2, 0.0)):
            expected = by_loop(q, k, v, 3, neighbours, reference, weight)
            got = cross_view_attention(q, k, v, 3, neighbours, reference, weight)
            torch.testing.assert_close(got, expected)


def test_identical_views_attend_as_each_alone():
    generator = torch.Generator().manual_seed(1)
    one = [torch.randn(1, 9, 8, generator=generator) for _ in range(3)]
    q, k, v = (x.expand(4, -1, -1) for x in one)
    plain = softmax_attention(q[0].reshape(9, 2, 4)[:, 0], k[0].reshape(9, 2, 4)[:, 0], v[0].reshape(9, 2, 4)[:, 0])
    out = cross_view_attention(q, k, v, 2, cyclic_neighbours(4), reference=1)
    torch.testing.assert_close(out[:, :, :4], plain.expand(4, -1, -1), atol=1e-6, rtol=1e-5)


def test_views_attend_through_the_flash_kernel_without_a_weight_matrix():
    """Masked attention falls back to a kernel that stores ``[T, K * T]`` weights per head and view (75 GiB for the
    mesh workflow's 10 views of 9216 tokens); only unmasked 4-D calls run on the flash kernel."""
    generator = torch.Generator().manual_seed(2)
    q, k, v = (torch.randn(2 * 5, 16, 8, generator=generator) for _ in range(3))
    neighbours = cyclic_neighbours(5)[:3] + [[1, 3], [4]]
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
        got = cross_view_attention(q, k, v, 2, neighbours, reference=2)
    torch.testing.assert_close(got, by_loop(q, k, v, 2, neighbours, 2, 1.0), atol=1e-5, rtol=1e-4)


def test_consecutive_neighbours_are_read_in_place_and_only_the_others_gathered():
    assert sliding_runs(list(range(6)), cyclic_neighbours(6)) == ([(1, 4, 0)], [0, 5])
    assert sliding_runs([0, 1, 3], [[0, 1], [1, 2], [0, 2], [2, 3]]) == ([(0, 2, 0), (3, 1, 2)], [])
    k = torch.arange(2 * 4 * 3 * 2 * 1.0).reshape(2, 4, 3, 2, 1)  # [chunks, views, T, heads, head]
    keys = sliding_keys(k, 1, 1, 2, 2)  # views 1-2 and 2-3 of the second chunk
    assert keys.untyped_storage().data_ptr() == k.untyped_storage().data_ptr(), "a view of k, not a copy"
    torch.testing.assert_close(keys[1], torch.cat([k[1, 2], k[1, 3]]).transpose(0, 1))


def test_keys_and_values_of_any_layout_are_read_right():
    generator = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(2 * 6, 12, 5, generator=generator, dtype=torch.float64).transpose(1, 2) for _ in range(3))
    got = cross_view_attention(q, k, v, 1, cyclic_neighbours(6), reference=3)
    torch.testing.assert_close(got, by_loop(q, k, v, 1, cyclic_neighbours(6), 3, 1.0))
