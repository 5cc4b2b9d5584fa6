"""A new model family in a few lines: a SequenceModel built from the shared blocks, registered, cross-validated
by the generic recipe on a small composite corpus (speaker-independent folds), saved and loaded by name."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from emorec.data.composite import CompositeConfig, build_composite, read_composite, write_composite
from emorec.models import MODELS, load_pretrained, register_model
from emorec.models.blocks import TCN, masked_mean
from emorec.models.sequence import SequenceModel, frame_mask

ACTORS = (1, 4, 8, 3, 2, 6)  # one RAVDESS actor of each EmoBox fold


@pytest.fixture(scope="module")
def composite(ravdess_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("composite") / "small.csv"
    cfg = CompositeConfig(seed=3, actors=ACTORS)
    examples, sequences = build_composite(ravdess_root.parent, cfg)
    write_composite(examples, sequences, cfg, out)
    return out, ravdess_root.parent


@pytest.fixture(scope="module")
def corpus(composite, voice_store):
    from emorec.training.multimodal import MultimodalCorpus

    split, data = composite
    return MultimodalCorpus.from_composite(split, data, voice_store, limit=8, seed=0)


@pytest.fixture
def tiny_family():
    @register_model("tiny_tcn_test", task="classification", modalities=("audio", "video", "text"), level="utterance",
                    inputs="composite sequences", outputs="7 classes")
    class TinyTCN(SequenceModel):
        def __init__(self, dims: dict | None = None, hidden: int = 16):
            super().__init__()
            dims = dims or {"audio": 441, "video": 768, "text": 384}
            self.num_classes = 7
            self.tcn = nn.ModuleDict({m: TCN(d, hidden, (1, 2)) for m, d in dims.items()})
            self.head = nn.Linear(hidden * len(dims), 7)

        def forward_features(self, x, mask):
            return torch.cat([self.tcn[m](x[m], mask[m]) for m in self.tcn], dim=-1)

        def forward_head(self, features, mask):
            return self.head(masked_mean(features, frame_mask(mask)))

    yield "tiny_tcn_test"
    MODELS._factories.pop("tiny_tcn_test")


def test_composite_is_deterministic_and_fold_disjoint(composite, ravdess_root):
    split, data = composite
    examples, sequences, cfg = read_composite(split)
    again, again_sequences = build_composite(data, cfg)
    for column in ("id", "fold", "label", "voice_path", "face_paths", "text", "has_audio", "has_video", "has_text"):
        assert list(again[column]) == list(examples[column]), column
    assert list(again_sequences.examples) == list(sequences.examples)
    for column in ("voice_speaker", "face_subject", "face_id", "text_id"):
        values = examples[examples[column] != ""].groupby(column).fold.nunique()
        assert (values == 1).all(), f"{column} crosses folds"
    assert (examples[["has_audio", "has_video", "has_text"]].any(axis=1)).all()  # never all dropped
    assert not examples[["has_audio", "has_video", "has_text"]].all(axis=1).all()  # some dropped
    for seq in sequences.itertuples():
        assert examples.set_index("id").loc[seq.examples.split(";"), "fold"].nunique() == 1


def test_corpus_shapes_masks_and_collate(corpus):
    from emorec.training.multimodal import MultimodalDataModule

    assert corpus.dims == {"audio": 441, "video": 768, "text": 384}
    assert len(corpus.folds) == 6 and all(len(s) == 1 for _, s, _ in corpus.folds)  # one actor per fold
    e = corpus.examples[0]
    for m in e.x:
        assert e.x[m].shape == (e.num_frames, corpus.dims[m])
        assert (e.x[m][~e.mask[m]] == 0).all()
    dm = MultimodalDataModule(corpus, fold=0, batch_size=4, validate=True)
    dm.setup()
    assert not set(dm.splits["train"]) & set(dm.splits["test"]) and not set(dm.splits["val"]) & set(dm.splits["test"])
    (x, mask), y = next(iter(dm.test_dataloader()))
    assert x["audio"].shape[0] == mask["audio"].shape[0] == y["label"].shape[0]
    assert (y["frame_label"][~y["frames"]] == -1).all()


def test_a_new_family_is_cross_validated_saved_and_loaded(corpus, tiny_family, tmp_path):
    from emorec.training.sequence import SequenceTrainConfig, train_sequence_model

    cfg = SequenceTrainConfig(model=tiny_family, model_config={"hidden": 8}, epochs=2, batch_size=8, run_dir=str(tmp_path / "runs"),
                              out=str(tmp_path / "tiny.safetensors"), results=str(tmp_path / "tiny.json"), folds_only=(0, 1))
    result = train_sequence_model(cfg, corpus)
    assert [f["fold"] for f in result["folds"]] == [0, 1]
    for f in result["folds"]:
        assert f["num_samples"] == 8 and 0.0 <= f["ua"] <= 1.0
    assert {"ua_mean", "ua_std", "wa_mean", "f1_weighted_mean"} <= set(result["metrics"])
    assert "composite (label-paired)" in result["dataset"]
    assert json.loads((tmp_path / "tiny.json").read_text())["model"] == tiny_family
    model = load_pretrained(tiny_family, tmp_path / "tiny.safetensors")
    assert model.config["hidden"] == 8 and model.info_["metrics"] == result["metrics"]


def test_frame_level_corpus_concatenates_segments(corpus):
    full = corpus
    frames = full.frame_level()
    assert len(frames) == len(full.sequences)
    seq = frames.examples[0]
    parts = [full.examples[i] for i in full.sequences[0]]
    assert seq.num_frames == sum(p.num_frames for p in parts)
    np.testing.assert_array_equal(seq.frame_labels[: parts[0].num_frames], parts[0].label)


def test_frame_level_scores_include_segment_classes(corpus):
    from emorec.tasks import SequenceTask
    from emorec.training.sequence import predict, score_predictions

    frames = corpus.frame_level()

    class Oracle(torch.nn.Module):  # logits = one-hot of the true class per frame: every score must be perfect
        level = "frame"

        def forward(self, x, mask):
            return self.out

    model = Oracle()
    idx = np.arange(len(frames))
    from emorec.training.multimodal import collate

    (x, mask), y = collate([frames.examples[i] for i in idx], frames.classes)
    model.out = torch.nn.functional.one_hot(y["frame_label"].clamp(min=0), 7).float()
    model.out = torch.cat([model.out, y["frame_va"]], dim=-1)
    out, labels, va, groups = predict(model, frames, idx, batch_size=len(idx))
    scores = score_predictions(SequenceTask(frames.classes, "frame"), out, labels, va, groups)
    assert scores["wa"] == 1.0 and scores["segment_wa"] == 1.0 and scores["ccc_valence"] == pytest.approx(1.0)
    assert scores["num_segments"] == sum(len(s) for s in corpus.sequences)


def test_excluded_speakers_are_in_no_fold(corpus):
    gone = corpus.without_speakers(["ravdess_01"])
    assert "ravdess_01" not in {e.speaker for e in gone.examples} and len(gone) < len(corpus)
    assert all(gone.examples[i].speaker != "ravdess_01" for s in gone.sequences for i in s)
    with pytest.raises(ValueError, match="ravdess_99"):
        corpus.without_speakers(["ravdess_99"])


def test_emobank_sentences_train_the_text_branch_and_are_never_tested(corpus, ravdess_root, voice_store):
    from emorec.data.text import load_emobank
    from emorec.training.multimodal import text_examples

    from emorec.features.text import normalise_words

    bank = load_emobank(ravdess_root.parent / "emobank").query("split == 'train'").head(8)
    extra = text_examples(list(bank.text), ((bank.V - 3) / 2).to_numpy(), ((bank.A - 3) / 2).to_numpy(), voice_store, ids=list(bank.id))
    assert len(extra) == sum(bool(normalise_words(t)) for t in bank.text) >= 5  # a sentence without words gives no example
    row = bank.set_index("id").loc[extra[0].id]
    assert not extra[0].mask["audio"].any() and extra[0].mask["text"].all()
    np.testing.assert_allclose(extra[0].frame_va[0], [(row.V - 3) / 2, (row.A - 3) / 2], rtol=1e-6)
    extra = extra[:5]
    both = corpus.with_training_only(extra, "5 EmoBank sentences")
    n = len(corpus)
    assert len(both.folds) == len(corpus.folds)
    for _, _, test in both.folds:
        assert not test[n:].any()  # never in a test fold ...
    frames = both.frame_level()
    assert sum(e.fold == -1 for e in frames.examples) == 5  # ... and kept at frame level, training only
