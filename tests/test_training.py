"""Tiny training runs on real samples: the loss goes down and the exported weights round-trip."""

from pathlib import Path

import pandas as pd
import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared/data is not beside the checkout")


@needs_shared
def test_tiny_face_training(tmp_path):
    from emorec.training.face import FaceTrainConfig, evaluate_face_weights, train_face

    cfg = FaceTrainConfig(data=str(SHARED / "fer2013"), ckplus=str(SHARED / "ckplus48"), run_dir=str(tmp_path / "run"), width=8, epochs=3,
                          batch_size=32, limit=384, patience=5, out=str(tmp_path / "w.safetensors"), results=str(tmp_path / "r.json"))
    result = train_face(cfg)
    log = pd.read_csv(next((tmp_path / "run" / "logs").glob("*/metrics.csv")))
    losses = log["train/loss"].dropna().to_numpy()
    assert len(losses) == 3 and losses[-1] < losses[0]
    # the exported safetensors reproduce the run's own test figures
    again = evaluate_face_weights(tmp_path / "w.safetensors", SHARED / "fer2013")
    assert again["wa"] == pytest.approx(result["test"]["wa"])
    assert result["baseline_fer_mini_xception"]["num_samples"] == 3589
    assert 0 <= result["cross_corpus_ckplus"]["wa"] <= 1
    # a second cosine cycle from those weights, with the snapshot-ensemble check on PublicTest
    cfg2 = FaceTrainConfig(data=cfg.data, ckplus=None, run_dir=str(tmp_path / "run2"), width=8, epochs=1, batch_size=32, limit=384,
                           init=cfg.out, snapshot_ensemble=True, out=str(tmp_path / "w2.safetensors"), results=None)
    second = train_face(cfg2)
    check = second["snapshot_ensemble_check"]
    assert check["chosen"] == ("ensemble" if check["publictest_wa_ensemble"] > check["publictest_wa_single"] else "single")
    assert "started from w.safetensors" in second["features"]
    assert evaluate_face_weights(tmp_path / "w2.safetensors", SHARED / "fer2013")["wa"] == pytest.approx(second["test"]["wa"])
    # one network distilled from that ensemble, with video-like augmentation
    cfg3 = FaceTrainConfig(data=cfg.data, ckplus=str(SHARED / "ckplus48"), run_dir=str(tmp_path / "run3"), width=8, epochs=1, batch_size=32,
                           limit=384, init=cfg.out, teacher=cfg2.out, video_augment=0.5, ckplus_train_folds=tuple(range(2, 10)), ckplus_repeat=1,
                           out=str(tmp_path / "w3.safetensors"), results=None)
    third = train_face(cfg3)
    assert "distilled from w2.safetensors" in third["features"] and "video-like degradations p 0.5" in third["features"]
    held = third["ckplus_heldout"]  # CK+ scored only on the subjects not trained on, the starting model on the same images
    assert held["folds"] == [0, 1] and held["num_samples"] == held["start_model"]["num_samples"] < 300 and "cross_corpus_ckplus" not in third
    # the result document of exported weights, with the teacher on the same images (the rows results.md shows side by side)
    from emorec.evaluation.results import _rows
    from emorec.training.face import face_weights_result

    doc = face_weights_result(cfg3.out, cfg.data, "face_cnn_distilled", cfg3.ckplus, cfg2.out, tmp_path / "r3.json")
    assert (tmp_path / "r3.json").exists() and doc["test"]["num_samples"] == doc["baseline_reference"]["num_samples"] == 3589
    assert doc["cross_corpus_ckplus"]["reference"]["num_samples"] == doc["cross_corpus_ckplus"]["num_samples"] == 927
    names = [row[0] for row in _rows(doc)]
    assert names[0] == "face_cnn_distilled with mirror-image averaging" and any(n.startswith("w2.safetensors") for n in names)
    assert evaluate_face_weights(tmp_path / "w3.safetensors", SHARED / "fer2013")["wa"] == pytest.approx(third["test"]["wa"])


@needs_shared
def test_face_training_on_a_users_own_face_folders(tmp_path):
    """A user's face corpus laid out as train/val/test/<class>/ (here CK+ subjects, disjoint between the splits, in
    folders spelt anger / Happiness / sadness …) trains face_cnn: the epoch is chosen on val/, test/ is scored, and
    the exported weights give the same figure again; unknown classes and a missing split are refused by name."""
    import shutil

    from emorec.data.images import load_ckplus, load_face_folders
    from emorec.errors import DatasetError
    from emorec.training.face import FaceTrainConfig, evaluate_face_weights, train_face

    spelled = {"anger": "anger", "disgust": "Disgust", "fear": "fear", "happy": "Happiness", "sadness": "sadness", "surprise": "surprised"}
    ck = load_ckplus(SHARED / "ckplus48")
    ck = ck[ck.emotion != "contempt"]
    corpus = tmp_path / "my_faces"
    for split, folds in (("train", range(0, 6)), ("val", (6, 7)), ("test", (8, 9))):
        part = ck[ck.fold.isin(folds)].groupby("emotion").head(12)
        for row in part.itertuples():
            target = corpus / split / spelled[row.emotion] / Path(row.path).name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(row.path, target)
    table = load_face_folders(corpus)
    assert set(table.split) == {"train", "val", "test"} and set(table.emotion) == {"angry", "disgust", "fear", "happy", "sad", "surprise"}
    cfg = FaceTrainConfig(data=str(corpus), ckplus=None, run_dir=str(tmp_path / "run"), width=8, epochs=2, batch_size=16, patience=5,
                          out=str(tmp_path / "mine.safetensors"), results=str(tmp_path / "r.json"))
    result = train_face(cfg)
    n_test = int((table.split == "test").sum())
    assert result["test"]["num_samples"] == result["baseline_fer_mini_xception"]["num_samples"] == n_test
    assert result["dataset"] == f"my_faces test/ ({n_test} images)" and "select the epoch on val/" in result["protocol"]
    assert evaluate_face_weights(cfg.out, corpus)["wa"] == pytest.approx(result["test"]["wa"])
    # the weights record the class frequencies they were trained on (no neutral here): the face reading's prior
    from emorec.emotion_space import FER_CLASSES
    from emorec.models.weights import read_metadata
    from emorec.readings.face import face_class_prior
    from emorec.training.face import face_weights_result

    stored = read_metadata(cfg.out)["info"]["class_prior"]
    assert stored["neutral"] == 0 and sum(stored.values()) == pytest.approx(1, abs=1e-4) and stored["happy"] == pytest.approx(1 / 6, abs=0.05)
    assert face_class_prior(cfg.out)[FER_CLASSES.index("happy")] == pytest.approx(stored["happy"], abs=1e-5)
    adjusted = face_weights_result(cfg.out, corpus, "mine", prior="uniform")
    assert adjusted["prior"]["class_prior_from"] == "weights metadata" and adjusted["test_training_prior"]["num_samples"] == n_test
    (corpus / "train" / "contempt").mkdir()
    with pytest.raises(DatasetError, match="contempt"):
        load_face_folders(corpus)
    shutil.rmtree(corpus / "train" / "contempt")
    shutil.rmtree(corpus / "val")
    with pytest.raises(DatasetError, match="val/ is missing"):
        load_face_folders(corpus)


def test_distillation_loss():
    """Hinton et al.'s loss: zero distillation term when the student matches the teacher at the temperature, the plain
    cross-entropy with weight 0 and for integer (validation) targets, and a gradient towards the teacher."""
    import torch

    from emorec.tasks import ClassificationTask, DistillationTask

    torch.manual_seed(0)
    logits = torch.randn(6, 7)
    labels = torch.randint(0, 7, (6,))
    teacher = torch.softmax(logits, dim=1)  # q_T ∝ teacher^(1/T) = softmax(logits / T): the student already matches
    target = torch.cat([labels[:, None].float(), teacher], dim=1)
    plain = ClassificationTask(tuple("abcdefg")).loss(logits, labels)
    assert DistillationTask(tuple("abcdefg"), weight=1.0, temperature=2.0).loss(logits, target).item() == pytest.approx(0.0, abs=1e-6)
    assert DistillationTask(tuple("abcdefg"), weight=0.0).loss(logits, target).item() == pytest.approx(plain.item())
    assert DistillationTask(tuple("abcdefg"), weight=0.5).loss(logits, labels).item() == pytest.approx(plain.item())
    student = torch.zeros(6, 7, requires_grad=True)  # uniform student: the gradient raises the teacher's top class
    DistillationTask(tuple("abcdefg"), weight=1.0, temperature=1.0).loss(student, target).backward()
    top = teacher.argmax(1)
    assert (student.grad[torch.arange(6), top] < 0).all()


def test_video_degrade():
    """Video-like degradations keep shape and dtype, change the face when applied, and are the identity at p = 0."""
    import cv2
    import numpy as np

    from emorec.training.face import video_degrade

    face = cv2.imread(str(next((SHARED / "ckplus48" / "happy").glob("*.png"))), cv2.IMREAD_GRAYSCALE) if SHARED.exists() \
        else (np.arange(48 * 48).reshape(48, 48) % 251).astype(np.uint8)
    assert np.array_equal(video_degrade(face, 0.0), face)
    out = video_degrade(face, 1.0, np.random.RandomState(0))
    assert out.shape == face.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - face).mean() > 1.0
    assert np.array_equal(out, video_degrade(face, 1.0, np.random.RandomState(0)))  # seeded: reproducible


@needs_shared
def test_tiny_text_training(tmp_path):
    from safetensors import safe_open

    from emorec.training.text import TextTrainConfig, train_text

    cfg = TextTrainConfig(corpus="meld", data=str(SHARED / "meld"), run_dir=str(tmp_path / "run"), epochs=2, limit=160, batch_size=16,
                          trainable_layers=1, out=str(tmp_path / "w.safetensors"), results=str(tmp_path / "r.json"))
    result = train_text(cfg)
    hist = result["history"]
    assert len(hist) == 2 and hist[1]["train/loss"] < hist[0]["train/loss"]
    assert (tmp_path / "run" / "last.ckpt").exists()
    with safe_open(str(tmp_path / "w.safetensors"), framework="pt") as fh:
        keys = list(fh.keys())
    assert any(k.startswith("head.") for k in keys) and any("layer.5" in k for k in keys)
    assert not any("layer.0." in k for k in keys)  # frozen layers are not stored
    assert 0 <= result["metrics"]["f1_weighted"] <= 1
