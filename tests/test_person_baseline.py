"""Per-person calibration of the face reading (issue 20, item 4): each person read relative to their own baseline over
the clip (emorec.person_baseline), in the face reading, analyze and the CLI."""

import subprocess
import sys

import numpy as np
import pytest

from emorec.emotion_space import FER_CLASSES
from emorec.person_baseline import MIN_BASELINE_FRAMES, NEUTRAL_SHARE, person_baseline, relative_to_baseline

NEUTRAL = FER_CLASSES.index("neutral")
REFERENCE = np.array([(1 - NEUTRAL_SHARE) / 6] * 6 + [NEUTRAL_SHARE])  # FER order ends with neutral


def _resting_happy_person(num_rest: int = 30, num_angry: int = 10) -> np.ndarray:
    """A person the network reads as rather happy at rest, then angry for a while (FER2013 class order)."""
    rest = np.array([0.08, 0.02, 0.05, 0.45, 0.10, 0.05, 0.25])
    angry = np.array([0.40, 0.05, 0.05, 0.20, 0.10, 0.05, 0.15])
    return np.vstack([np.tile(rest, (num_rest, 1)), np.tile(angry, (num_angry, 1))]).astype(np.float32)


def test_the_resting_face_reads_neutral_and_departures_keep_their_class():
    probs = _resting_happy_person()
    probs = np.vstack([probs, np.zeros((1, 7)), np.full((1, 7), np.nan)]).astype(np.float32)  # no face; NaN
    mask = np.r_[np.ones(40, bool), False, False]
    baseline = person_baseline(probs, mask)
    out = relative_to_baseline(probs, baseline, NEUTRAL)
    np.testing.assert_allclose(out[0], REFERENCE, atol=1e-6)  # the person's median face is the neutral reference
    assert probs[0].argmax() == FER_CLASSES.index("happy") and out[0].argmax() == NEUTRAL
    assert out[35].argmax() == FER_CLASSES.index("angry")  # more anger than at rest: angry
    assert out[35, NEUTRAL] < out[0, NEUTRAL]
    np.testing.assert_allclose(out[:40].sum(1), 1, atol=1e-5)
    assert (out[40] == 0).all() and np.isnan(out[41]).all()
    # the frames outside the mask do not move the baseline
    np.testing.assert_allclose(person_baseline(probs[:40], mask[:40]), baseline)


def test_too_few_face_frames_give_no_baseline_and_bad_arguments_are_refused():
    probs = _resting_happy_person(num_rest=MIN_BASELINE_FRAMES - 6, num_angry=5)
    assert person_baseline(probs, np.ones(len(probs), bool)) is None
    assert person_baseline(probs, np.ones(len(probs), bool), min_frames=5) is not None
    baseline = np.zeros(7)
    with pytest.raises(ValueError, match="neutral share"):
        relative_to_baseline(probs, baseline, NEUTRAL, neutral_share=1.0)
    with pytest.raises(ValueError, match="baseline over 7 classes"):
        relative_to_baseline(probs, np.zeros(6), NEUTRAL)


def test_face_reading_with_a_clip_baseline(data_dir):
    """FaceReading(baseline="clip") is the uniform-prior reading read relative to its own median; a short face track is
    left as it is and says so; the option changes the store key only when on; an unknown value is refused."""
    from emorec.clip import Record
    from emorec.features.base import ClipInput
    from emorec.readings.face import FaceReading

    raw = _resting_happy_person()
    raw[5] = 0  # a frame without a face
    record = Record({"probs": raw, "mask": raw.sum(1) > 0, "grid": raw}, {"classes": list(FER_CLASSES)})
    clip = ClipInput(data_dir / "mead_happy_noaudio.mp4")
    plain = FaceReading().compute(clip, {"face.cnn": record})
    calibrated = FaceReading(baseline="clip").compute(clip, {"face.cnn": record})
    seen = raw.sum(1) > 0
    np.testing.assert_allclose(np.median(np.log(calibrated["probs"][seen]), axis=0), np.log(REFERENCE), atol=1e-5)
    assert plain["probs"][0].argmax() == FER_CLASSES.index("happy") and calibrated["probs"][0].argmax() == NEUTRAL
    assert (calibrated["probs"][5] == 0).all() and not np.allclose(calibrated["va"], plain["va"])
    assert "baseline over the clip (39 face frames" in calibrated.meta["description"]
    short = Record({"probs": raw[:10], "mask": seen[:10], "grid": raw[:10]}, {"classes": list(FER_CLASSES)})
    kept = FaceReading(baseline="clip").compute(clip, {"face.cnn": short})
    np.testing.assert_array_equal(kept["probs"], FaceReading().compute(clip, {"face.cnn": short})["probs"])
    assert "no person baseline (9 face frames" in kept.meta["description"]
    assert "baseline" not in FaceReading().params() and FaceReading().params() != FaceReading(baseline="clip").params()
    with pytest.raises(ValueError, match="face baseline must be one of none, clip"):
        FaceReading(baseline="person")


def test_analyze_with_a_clip_baseline(talking_head, session_store, tmp_path):
    """analyze(face_baseline="clip"): each face frame of the timeline is the default reading divided by the clip's
    median face (per class, in log space) and multiplied by the neutral reference; the summary names the calibration;
    the CLI refuses an unknown value (exit 2) before writing anything."""
    from emorec.pipelines.analyze import analyze

    columns = [f"face_{c}" for c in FER_CLASSES]
    result = analyze(talking_head, None, store=session_store, plot=False, face_baseline="clip")
    plain = analyze(talking_head, None, store=session_store, plot=False)
    face, before = result.timeline[columns].dropna(), plain.timeline[columns].dropna()
    assert len(face) >= MIN_BASELINE_FRAMES and face.index.equals(before.index)
    p = before.to_numpy(float)
    expected = np.clip(p, 1e-6, 1) * REFERENCE / np.exp(np.median(np.log(np.clip(p, 1e-6, 1)), axis=0))
    np.testing.assert_allclose(face.to_numpy(float), expected / expected.sum(1, keepdims=True), atol=1e-4)
    assert "baseline over the clip" in result.summary["models"]["face"] and "baseline" not in plain.summary["models"]["face"]
    proc = subprocess.run([sys.executable, "-m", "emorec.cli", "analyze", str(talking_head), "--out", str(tmp_path / "o"), "--face-baseline", "video"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "face baseline must be one of" in proc.stderr and not (tmp_path / "o").exists()
