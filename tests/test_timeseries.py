import numpy as np

from emorec.timeseries import TimeSeries, pool_to_grid, span_to_frames


def test_span_to_frames_uses_frame_centres():
    # frame k covers [k/10, (k+1)/10); centre (k+0.5)/10
    assert span_to_frames(0.0, 0.1, 100) == slice(0, 1)
    assert span_to_frames(0.12, 0.38, 100) == slice(1, 4)  # centres 0.15, 0.25, 0.35
    assert span_to_frames(0.16, 0.38, 100) == slice(2, 4)  # 0.15 now outside
    assert span_to_frames(0.31, 0.33, 100) == slice(3, 4)  # shorter than a frame: the frame holding its midpoint
    assert span_to_frames(9.0, 20.0, 95) == slice(90, 95)  # clipped to the grid


def test_pool_to_grid_means_rows_in_each_frame():
    times = np.arange(100) / 100 + 0.005  # 100 Hz, 1 s
    values = np.arange(100, dtype=float)[:, None]
    pooled, mask = pool_to_grid(values, times, 12)
    assert mask[:10].all() and not mask[10:].any()
    np.testing.assert_allclose(pooled[0, 0], np.arange(10).mean())
    np.testing.assert_allclose(pooled[9, 0], np.arange(90, 100).mean())
    assert (pooled[10:] == 0).all()


def test_timeseries_checks_mask_shape():
    ts = TimeSeries(np.zeros((5, 3)), np.ones(5, bool), name="x")
    np.testing.assert_allclose(ts.timestamps, [0, 0.1, 0.2, 0.3, 0.4])
    try:
        TimeSeries(np.zeros((5, 3)), np.ones(4, bool))
    except ValueError as exc:
        assert "mask shape" in str(exc)
    else:
        raise AssertionError("mismatched mask accepted")


def test_grid_pooler_in_pieces_equals_pooling_at_once():
    """Rows added chunk by chunk (an encoder's chunks) pool to the same grid as the whole sequence (1 s windows)."""
    from emorec.timeseries import GridPooler

    rng = np.random.default_rng(0)
    times = np.sort(rng.uniform(0, 30, 1200))
    values = rng.normal(size=(1200, 5)).astype(np.float32)
    whole, mask = pool_to_grid(values, times, 310, window=1.0)
    pooler = GridPooler(310, 5, window=1.0)
    for piece in np.array_split(np.arange(1200), 7):
        pooler.add(values[piece], times[piece])
    pieces, mask_pieces = pooler.result()
    np.testing.assert_array_equal(mask, mask_pieces)
    np.testing.assert_allclose(pieces, whole, atol=1e-6)
    assert mask[:300].all() and not mask[-5:].any()  # frames past 30.5 s hold no row
    np.testing.assert_allclose(whole[100], values[(times >= 9.55) & (times < 10.55)].mean(axis=0), atol=1e-6)
