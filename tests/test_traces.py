"""Corpora with continuous arousal/valence traces (RECOLA / SEWA / AVEC layouts): indexing, resampling to 10 Hz,
a frame-level corpus with rated targets, and the sequence recipe trained on it (layout fixtures built from real clips)."""

import shutil

import numpy as np
import pytest

from emorec.data.traces import load_trace_corpus, read_trace, trace_on_grid
from emorec.errors import DatasetError


@pytest.fixture(scope="module")
def trace_root(tmp_path_factory, data_dir):
    root = tmp_path_factory.mktemp("traces")
    # SEWA/AVEC-style: CSV beside the media
    shutil.copy(data_dir / "mead_M030_sad.mp4", root / "sess_a.mp4")
    t = np.arange(0, 3.7, 0.04)
    (root / "sess_a.csv").write_text("Time;Arousal;Valence\n" + "".join(f"{x:.2f};{0.5 * np.sin(x):.4f};{-0.3 + 0.1 * x:.4f}\n" for x in t))
    # RECOLA / AVEC 2016: ARFF gold standard per dimension
    (root / "recordings_audio").mkdir()
    shutil.copy(data_dir / "03-01-05-02-01-01-01.flac", root / "recordings_audio" / "train_1.flac")
    for dim, f in (("arousal", lambda x: 0.6), ("valence", lambda x: -0.2 * x)):
        (root / "ratings_gold_standard" / dim).mkdir(parents=True)
        rows = "".join(f"'train_1',{x:.2f},{f(x):.4f}\n" for x in np.arange(0, 3.5, 0.04))
        (root / "ratings_gold_standard" / dim / "train_1.arff").write_text(
            "@relation gs\n@attribute Instance_name string\n@attribute frameTime numeric\n@attribute GoldStandard numeric\n@data\n" + rows)
    return root


def test_both_layouts_are_indexed(trace_root):
    table = load_trace_corpus(trace_root).set_index("id")
    assert table.loc["sess_a", "layout"] == "csv" and table.loc["train_1", "layout"] == "recola"
    times, values = read_trace(trace_root / "sess_a.csv")
    assert values.shape == (len(times), 2)
    times, values = read_trace(trace_root / "ratings_gold_standard" / "valence" / "train_1.arff")
    assert values.shape == (len(times), 1) and values[-1, 0] == pytest.approx(-0.2 * times[-1], abs=1e-3)
    with pytest.raises(DatasetError, match="no media file with a trace"):
        load_trace_corpus(trace_root / "recordings_audio")


def test_resampling_to_the_grid():
    times = np.array([0.0, 0.04, 0.08, 0.25, 0.45])
    values = np.array([[0.0], [1.0], [2.0], [3.0], [5.0]])
    grid = trace_on_grid(times, values, 6)
    assert grid[0, 0] == pytest.approx(1.0)  # mean of the three samples in [0, 0.1)
    assert grid[2, 0] == pytest.approx(3.0)
    assert grid[3, 0] == pytest.approx(np.interp(0.35, times, values[:, 0]))  # no sample: interpolated
    assert np.isnan(grid[5, 0])  # after the trace


def test_bad_trace_is_named(tmp_path):
    (tmp_path / "x.csv").write_text("when,arousal,valence\n0,1,2\n")
    with pytest.raises(DatasetError, match="x.csv.*time column"):
        read_trace(tmp_path / "x.csv")


def test_trace_corpus_trains_frame_level(trace_root, session_store, tmp_path):
    from emorec.training.multimodal import trace_corpus
    from emorec.training.sequence import SequenceTrainConfig, train_sequence_model

    corpus = trace_corpus(trace_root, session_store)
    assert len(corpus) == 2 and len(corpus.folds) == 2
    by_id = {e.id: e for e in corpus.examples}
    audio_only = by_id["train_1"]
    assert not audio_only.mask["video"].any() and audio_only.mask["audio"].any()
    assert np.nanmax(audio_only.frame_va[:, 1]) == pytest.approx(0.6)  # arousal column of (valence, arousal)
    assert by_id["sess_a"].mask["video"].any()
    cfg = SequenceTrainConfig(model="tcn_gated", model_config={"hidden": 8, "num_classes": 7}, level="frame", epochs=1, batch_size=2,
                              run_dir=str(tmp_path / "runs"))
    result = train_sequence_model(cfg, corpus)
    assert {"ccc_valence_mean", "ccc_arousal_mean", "rmse_valence_mean"} <= set(result["metrics"])
    assert "ua_mean" not in result["metrics"]  # no classes in rated traces
