"""The encoder's states are written chunk by chunk into float16 arrays (flat memory on long inputs): the same states,
times and pooled grid as encoding each chunk in float32 and pooling afterwards."""

import numpy as np
import pytest

pytest.importorskip("onnxruntime")


def test_chunked_float16_states_match_float32_reference(talking_head):
    from emorec.features.audio import moonshine_states
    from emorec.features.moonshine import encode
    from emorec.timeseries import GridPooler, pool_to_grid

    from emorec.io.media import load_audio

    wave = load_audio(talking_head)[: 16000 * 5 + 777]  # 5.05 s in 2 s chunks: the last one short
    num_frames = 51
    pooler = GridPooler(num_frames, 416, window=1.0)
    states, times, blocks = moonshine_states(wave, chunk=2.0, blocks=(3, 4), pooler=pooler)
    assert states.dtype == np.float16 and blocks.dtype == np.float16 and blocks.shape == (len(states), 2, 416)
    ref_states, ref_times, ref_blocks = [], [], []
    for begin in range(0, wave.size, 32000):
        piece = wave[begin : begin + 32000]
        out, inner = encode(piece, (3, 4))
        t = begin / 16000 + (np.arange(len(out)) + 0.5) * piece.size / 16000 / len(out)
        ref_states.append(out), ref_times.append(t), ref_blocks.append(inner)
    ref_states, ref_times, ref_blocks = np.concatenate(ref_states), np.concatenate(ref_times), np.concatenate(ref_blocks)
    np.testing.assert_allclose(times, ref_times)
    np.testing.assert_array_equal(states, ref_states.astype(np.float16))
    np.testing.assert_array_equal(blocks, ref_blocks.astype(np.float16))
    grid, mask = pooler.result()
    ref_grid, ref_mask = pool_to_grid(ref_states, ref_times, num_frames, window=1.0)
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_allclose(grid, ref_grid, atol=1e-5)
