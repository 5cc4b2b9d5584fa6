"""Readers of the papers' own corpora from a user's copy in the original layout (small fixtures written here): CMU SDK
computational sequences on the standard MOSI folds, MMSA feature pickles (only with trust_pickle), IEMOCAP's folders, MELD
text on its official split; and the MOSI table from a sentiment corpus through the generic recipe."""

import pickle

import numpy as np
import pytest

from emorec.data.iemocap import load_iemocap
from emorec.data.sentiment import load_csd_folder, load_mmsa_pickle, standard_folds
from emorec.errors import DatasetError
from emorec.training.multimodal import sentiment_corpus

TRAIN_VIDEO, TEST_VIDEO = "2iD-tVS8NPw", "tmZoasNr4rU"  # in the SDK's standard MOSI train and test folds


def _write_csd(path, root, videos: dict):
    import h5py

    with h5py.File(path, "w") as f:
        data = f.create_group(root).create_group("data")
        for vid, (feats, intervals) in videos.items():
            g = data.create_group(vid)
            g.create_dataset("features", data=feats)
            g.create_dataset("intervals", data=intervals)
        f[root].create_group("metadata")


@pytest.fixture()
def mosi_csd(tmp_path):
    rng = np.random.default_rng(0)
    labels, covarep, facet, words = {}, {}, {}, {}
    for vid in (TRAIN_VIDEO, TEST_VIDEO, "not-in-any-fold"):
        labels[vid] = (np.array([[1.4], [-2.0], [0.0]]), np.array([[0.0, 2.0], [2.0, 4.0], [4.0, 5.0]]))
        t = np.arange(0, 5, 0.1)
        covarep[vid] = (rng.normal(size=(len(t), 74)), np.stack([t, t + 0.1], 1))
        covarep[vid][0][3, 0] = -np.inf  # COVAREP writes -inf on unvoiced frames
        facet[vid] = (rng.normal(size=(len(t), 35)), np.stack([t, t + 0.1], 1))
        w = np.arange(0, 5, 0.5)
        words[vid] = (rng.normal(size=(len(w), 300)), np.stack([w, w + 0.5], 1))
    _write_csd(tmp_path / "CMU_MOSI_Opinion_Labels.csd", "Opinion Segment Labels", labels)
    _write_csd(tmp_path / "CMU_MOSI_COVAREP.csd", "COVAREP", covarep)
    _write_csd(tmp_path / "CMU_MOSI_Visual_Facet_41.csd", "FACET 4.1", facet)
    _write_csd(tmp_path / "CMU_MOSI_TimestampedWordVectors.csd", "glove_vectors", words)
    return tmp_path


def test_standard_folds_are_the_sdk_lists():
    folds = standard_folds("mosi")
    assert len(folds) == 93 and folds[TRAIN_VIDEO] == "train" and folds[TEST_VIDEO] == "test"
    assert sum(v == "test" for v in folds.values()) == 31


def test_csd_folder_gives_opinion_segments_on_the_standard_folds(mosi_csd):
    sset = load_csd_folder(mosi_csd, "mosi")
    ids = [u.id for u in sset.utterances]
    assert ids == [f"{TRAIN_VIDEO}[0]", f"{TRAIN_VIDEO}[1]", f"{TRAIN_VIDEO}[2]", f"{TEST_VIDEO}[0]", f"{TEST_VIDEO}[1]", f"{TEST_VIDEO}[2]"]  # unknown video dropped
    u = sset.utterances[0]
    assert u.split == "train" and u.score == pytest.approx(1.4) and sset.scale == 3.0
    assert u.x["audio"].shape == (20, 74) and u.x["video"].shape == (20, 35) and u.x["text"].shape == (4, 300)  # rows whose midpoint is in [0, 2)
    assert np.isfinite(u.x["audio"]).all()  # -inf cleaned
    corpus = sentiment_corpus(sset)
    assert corpus.sentiment_scale == 3.0 and [f for f, *_ in corpus.folds] == [0]
    e = corpus.examples[0]
    assert e.fold == -1 and e.label == -1 and e.va[0] == pytest.approx(1.4 / 3) and np.isnan(e.va[1])
    assert e.mask["text"].sum() == 4 and e.mask["audio"].sum() == 20


def test_csd_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(DatasetError, match="labels"):
        load_csd_folder(tmp_path)
    (tmp_path / "CMU_MOSI_Opinion_Labels.csd").write_bytes(b"not hdf5")
    (tmp_path / "CMU_MOSI_COVAREP.csd").write_bytes(b"not hdf5")
    with pytest.raises(DatasetError, match="HDF5"):
        load_csd_folder(tmp_path)


def _mmsa(path):
    rng = np.random.default_rng(1)
    parts = {}
    for split, n in (("train", 12), ("valid", 3), ("test", 6)):
        parts[split] = {"id": [f"vid{i}$_$0" for i in range(n)], "text": rng.normal(size=(n, 10, 768)).astype(np.float32),
                        "audio": rng.normal(size=(n, 30, 5)).astype(np.float32), "vision": rng.normal(size=(n, 25, 20)).astype(np.float32),
                        "audio_lengths": [30 - i for i in range(n)], "vision_lengths": [25] * n, "regression_labels": rng.uniform(-3, 3, n).astype(np.float32)}
    path.write_bytes(pickle.dumps(parts))
    return path


def test_mmsa_pickle_is_read_only_when_trusted(tmp_path):
    path = _mmsa(tmp_path / "MOSI_aligned_50.pkl")
    with pytest.raises(DatasetError, match="trust-pickle"):
        load_mmsa_pickle(path)
    sset = load_mmsa_pickle(path, trust_pickle=True)
    assert sset.name == "mosi" and len(sset.utterances) == 21
    assert sset.utterances[1].x["audio"].shape == (29, 5)  # audio_lengths respected
    assert [u.split for u in sset.utterances].count("test") == 6


def test_mosi_table_from_the_generic_recipe(tmp_path):
    from emorec.training.sequence import SequenceTrainConfig, train_sequence_model

    corpus = sentiment_corpus(load_mmsa_pickle(_mmsa(tmp_path / "mosi.pkl"), trust_pickle=True))
    cfg = SequenceTrainConfig(model="tam_ulag", model_config={"hidden": 8, "shared": 8, "layers": 1, "num_classes": 0}, epochs=2, batch_size=4,
                              run_dir=str(tmp_path / "run"), out=None, results=None)
    result = train_sequence_model(cfg, corpus)
    m = result["metrics"]
    for key in ("acc2_has_zero", "acc2_non_zero", "f1_has_zero", "f1_non_zero", "acc7", "mae", "corr"):
        assert f"{key}_mean" in m and np.isfinite(m[f"{key}_mean"])
    assert result["folds"][0]["num_samples"] == 6
    assert "official split" in result["protocol"]


def test_iemocap_layout_classes_and_session_folds(tmp_path):
    for s in (1, 2):
        d = tmp_path / f"Session{s}"
        (d / "dialog" / "EmoEvaluation").mkdir(parents=True)
        (d / "dialog" / "transcriptions").mkdir(parents=True)
        dialog = f"Ses0{s}F_impro01"
        (d / "sentences" / "wav" / dialog).mkdir(parents=True)
        lines = ["% header", "", f"[6.2901 - 8.2357]\t{dialog}_F000\tneu\t[2.5000, 2.5000, 2.5000]", "C-E1:\tNeutral;\t()",
                 f"[10.0 - 11.5]\t{dialog}_M000\texc\t[4.0000, 4.0000, 3.0000]", f"[12.0 - 13.0]\t{dialog}_F001\tfru\t[2.0, 3.5, 3.0]",
                 f"[14.0 - 15.0]\t{dialog}_M001\tsur\t[3.0, 4.0, 3.0]"]
        (d / "dialog" / "EmoEvaluation" / f"{dialog}.txt").write_text("\n".join(lines) + "\n")
        (d / "dialog" / "transcriptions" / f"{dialog}.txt").write_text(f"{dialog}_F000 [006.2901-008.2357]: Excuse me.\n{dialog}_M000 [010.0-011.5]: Yes, great!\n")
        for turn in ("F000", "M000", "F001", "M001"):
            (d / "sentences" / "wav" / dialog / f"{dialog}_{turn}.wav").write_bytes(b"RIFF")
    four = load_iemocap(tmp_path, "4")
    assert list(four.emotion) == ["neutral", "happy", "neutral", "happy"]  # excited → happy; frustrated and surprise dropped
    assert list(four.fold) == [0, 0, 1, 1] and list(four.speaker[:2]) == ["Ses01_F", "Ses01_M"]
    assert four.text[0] == "Excuse me." and four.arousal[1] == 4.0
    seven = load_iemocap(tmp_path, "7")
    assert "surprise" in set(seven.emotion) and len(seven) == 6
    (tmp_path / "Session1" / "sentences" / "wav" / "Ses01F_impro01" / "Ses01F_impro01_M000.wav").unlink()
    with pytest.raises(DatasetError, match="no wav file"):
        load_iemocap(tmp_path)


def test_meld_text_corpus_uses_the_official_split(session_store):
    from conftest import SHARED

    from emorec.training.multimodal import meld_text_corpus

    if not (SHARED / "meld").is_dir():
        pytest.skip("MELD not in ../shared/data")
    corpus = meld_text_corpus(SHARED / "meld", session_store, limit=8)
    folds = {e.fold for e in corpus.examples}
    assert folds == {-1, 0} and sum(e.fold == 0 for e in corpus.examples) <= 8
    assert all(e.id.startswith("test/") == (e.fold == 0) for e in corpus.examples)
    e = corpus.examples[0]
    assert not e.mask["audio"].any() and not e.mask["video"].any() and e.mask["text"].all()


def test_cv_cli_prints_the_mosi_table(tmp_path):
    """`emorec cv tam_ulag --corpus mosi:FILE.pkl --trust-pickle --config configs/tam_ulag_mosi.toml`: the seed's table on
    the official split, with the ablations; without --trust-pickle a one-line refusal (exit 2)."""
    from pathlib import Path

    from typer.testing import CliRunner

    from emorec.cli import app

    pkl = _mmsa(tmp_path / "MOSI_aligned_50.pkl")
    config = Path(__file__).resolve().parents[1] / "configs" / "tam_ulag_mosi.toml"
    args = ["cv", "tam_ulag", "--corpus", f"mosi:{pkl}", "--config", str(config), "--epochs", "1", "--run-dir", str(tmp_path / "run"), "--results", str(tmp_path / "r.json")]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "trust-pickle" in refused.output
    result = CliRunner().invoke(app, [*args, "--trust-pickle"])
    assert result.exit_code == 0, result.output
    assert "Acc-2 (non-0)" in result.output and "MAE" in result.output and "Corr" in result.output
    assert result.output.count("Acc-2 (has-0)") == 3  # the full model and its two ablations
