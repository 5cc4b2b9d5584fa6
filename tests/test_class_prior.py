"""The face reading's class prior (issue 20, item 4): the label-shift adjustment to a uniform prior, its τ as chosen on
FER2013 PublicTest, and its use by the face reading, every person's lane and photos."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emorec.class_prior import FER2013_TRAIN_COUNTS, adjust_to_uniform, class_prior
from emorec.emotion_space import FER_CLASSES

ROOT = Path(__file__).resolve().parents[1]


def test_adjust_to_uniform_is_the_bayes_rule_for_a_uniform_prior():
    prior = class_prior(FER_CLASSES)
    assert prior.sum() == pytest.approx(1) and prior[FER_CLASSES.index("disgust")] == pytest.approx(436 / 28709)
    probs = np.array([[0.5, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05],  # anger 0.5 vs disgust 0.1: disgust is 17x rarer in training
                      prior,  # the training prior itself carries no evidence: uniform after the adjustment
                      np.zeros(7)], np.float32)  # a frame without a face stays empty
    out = adjust_to_uniform(probs, prior, 1.0)
    assert out[0].argmax() == FER_CLASSES.index("disgust") and out[0].sum() == pytest.approx(1, abs=1e-6)
    np.testing.assert_allclose(out[1], np.full(7, 1 / 7), atol=1e-6)
    assert (out[2] == 0).all()
    np.testing.assert_array_equal(adjust_to_uniform(probs, prior, 0.0), probs)  # tau 0: unchanged
    half = adjust_to_uniform(probs[:1], prior, 0.5)[0]  # in between: disgust gains, but less
    assert out[0, 1] > half[1] > probs[0, 1] / probs[0].sum()
    with pytest.raises(ValueError, match="no training count"):
        class_prior(("angry", "contempt"))
    with pytest.raises(ValueError, match="positive"):
        class_prior(("angry",), {"angry": 0})


def test_tau_is_the_one_chosen_on_publictest():
    """analyze's τ is the one the evaluation chose on FER2013 PublicTest UA (never PrivateTest or MEAD), and the
    evaluation's training counts are FER2013 Training's."""
    from emorec.readings.face import FACE_PRIOR_TAU

    result = json.loads((ROOT / "results" / "face_cnn_int8_uniform_prior_fer2013.json").read_text())
    ua = result["prior"]["validation_ua"]
    assert result["prior"]["tau"] == FACE_PRIOR_TAU and ua[f"{FACE_PRIOR_TAU:g}"] == max(ua.values())
    assert result["prior"]["train_counts"] == FER2013_TRAIN_COUNTS


def test_face_reading_people_and_photos_use_the_prior(data_dir, tmp_path):
    """The face reading with the uniform prior is the training-prior reading adjusted, frame by frame; a user's weights
    carry their own training prior; photos follow the same switch; an unknown prior is refused (exit 2, no output)."""
    from emorec.clip import Record
    from emorec.features.base import ClipInput
    from emorec.models.weights import read_metadata, save_weights, shipped_path
    from emorec.pipelines.image import analyze_image
    from emorec.readings.face import FaceReading, face_class_prior

    rng = np.random.default_rng(0)
    raw = rng.dirichlet(np.ones(7), 12).astype(np.float32)
    raw[3] = 0
    record = Record({"probs": raw, "mask": raw.sum(1) > 0, "grid": raw}, {"classes": list(FER_CLASSES)})
    clip = ClipInput(data_dir / "mead_happy_noaudio.mp4")
    uniform = FaceReading().compute(clip, {"face.cnn": record})
    training = FaceReading(prior="training").compute(clip, {"face.cnn": record})
    np.testing.assert_array_equal(training["probs"], raw)
    np.testing.assert_allclose(uniform["probs"], adjust_to_uniform(raw, class_prior(FER_CLASSES), 1.0), atol=1e-6)
    assert (uniform["probs"][3] == 0).all() and not np.allclose(uniform["va"], training["va"])
    assert FaceReading().params() != FaceReading(prior="training").params()  # different store keys
    with pytest.raises(ValueError, match="face prior must be one of"):
        FaceReading(prior="flat")

    own = tmp_path / "own.safetensors"  # the shipped distilled network, with the prior of a corpus without disgust
    from emorec.models.weights import read_weights

    tensors, meta = read_weights(shipped_path("face_cnn_distilled.safetensors"))
    info = dict(meta["info"], class_prior={c: (0.0 if c == "disgust" else 1 / 6) for c in FER_CLASSES})
    save_weights(own, tensors, {"info": info})
    assert read_metadata(own)["info"]["class_prior"]["disgust"] == 0
    np.testing.assert_allclose(face_class_prior(own)[FER_CLASSES.index("happy")], 1 / 6, atol=1e-5)
    np.testing.assert_allclose(face_class_prior(None), class_prior(FER_CLASSES))

    photo = tmp_path / "face.png"
    import cv2

    from emorec.io.media import iter_video_frames

    cv2.imwrite(str(photo), cv2.cvtColor(next(iter_video_frames(data_dir / "mead_M030_sad.mp4", max_side=None))[1], cv2.COLOR_RGB2BGR))
    a, b = analyze_image(photo, None, face_prior="uniform"), analyze_image(photo, None, face_prior="training")
    cols = [c for c in a.faces if c.startswith("prob_")]
    assert not np.allclose(a.faces[cols].to_numpy(float), b.faces[cols].to_numpy(float), atol=1e-3)
    assert "uniform prior" in a.summary["models"]["face"] and "uniform prior" not in b.summary["models"]["face"]
    proc = subprocess.run([sys.executable, "-m", "emorec.cli", "analyze", str(photo), "--out", str(tmp_path / "o"), "--face-prior", "flat"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "face prior must be one of" in proc.stderr and not (tmp_path / "o").exists()
