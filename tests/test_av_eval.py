"""Real audio-visual evaluation: MEAD loaders and `evaluate-av` scoring an analyze configuration clip by clip."""

import json
import subprocess
import sys

import pytest

from emorec.data.av_clips import MEAD_TO_COMMON, load_mead_dreamtalk
from emorec.errors import DatasetError


@pytest.fixture(scope="session")
def dreamtalk(ravdess_root):
    root = ravdess_root.parent / "av_clips" / "mead_dreamtalk"
    if not root.exists():
        pytest.skip("av_clips/mead_dreamtalk is not in ../shared/data")
    return root


def test_dreamtalk_index(dreamtalk):
    table = load_mead_dreamtalk(dreamtalk)
    assert len(table) == 24 and table.speaker.nunique() == 3
    assert table.label.isna().sum() == 3  # contempt has no common class
    assert set(table.label.dropna()) == {v for v in MEAD_TO_COMMON.values() if v}


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(DatasetError, match="nowhere"):
        load_mead_dreamtalk(tmp_path / "nowhere")


def test_evaluate_av_scores_each_clip(dreamtalk, tmp_path, session_store):
    sub = tmp_path / "mead"
    sub.mkdir()
    for name in ("W009_front_happy_level3_001", "W009_front_neutral_level1_001", "W009_front_contempt_level3_001"):
        (sub / f"{name}.mp4").symlink_to(dreamtalk / f"{name}.mp4")
    out = tmp_path / "av.json"
    proc = subprocess.run([sys.executable, "-m", "emorec.cli", "evaluate-av", "--corpus", "mead_dreamtalk", "--data", str(sub), "--store", str(session_store.root),
                           "--results", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads(out.read_text())
    assert [c["label"] for c in r["clips"]] == ["happy", "neutral"] and "1 contempt clips left out" in r["dataset"]
    assert r["protocol"] == "AV-real" and r["metrics"]["num_samples"] == 2
    # no sound in these clips: the fused class is the face's, and there is no voice reading
    assert all(c["fused"] == c["face"] and c["voice"] is None for c in r["clips"])
    assert set(r["per_modality"]) == {"face", "face_frames"}
    assert 0.0 <= r["metrics"]["wa"] <= 1.0
    # every face frame scored against its clip's class (the mean over the clip is what turns them into the clip's class)
    frames = r["per_modality"]["face_frames"]
    assert frames["unit"] == "frames" and frames["num_samples"] >= 2 * 20 and sum(map(sum, frames["confusion"])) == frames["num_samples"]
    assert "face reading frame by frame" in proc.stdout


def test_ravdess_video_layout_fixture(data_dir, tmp_path):
    """A user's RAVDESS audio-video copy in its original layout (file names only matter; clips stand in for the videos)."""
    from emorec.data.av_clips import load_av_corpus

    actor = tmp_path / "Actor_03"
    actor.mkdir()
    (actor / "01-01-04-02-01-01-03.mp4").symlink_to(data_dir / "mead_M030_sad.mp4")  # audio-video, speech, sad
    (actor / "02-01-04-02-01-01-03.mp4").symlink_to(data_dir / "mead_M030_sad.mp4")  # video-only copy: left out
    (actor / "01-01-02-01-01-01-03.mp4").symlink_to(data_dir / "talking_head.mp4")  # calm -> neutral
    table = load_av_corpus("ravdess_video", tmp_path)
    assert list(table.label) == ["neutral", "sad"] and set(table.speaker) == {"ravdess_03"}
    with pytest.raises(DatasetError):
        load_av_corpus("ravdess_video", tmp_path / "Actor_03" / "nothing")
    with pytest.raises(ValueError, match="mead_dreamtalk"):
        load_av_corpus("iemocap", tmp_path)


def test_ravdess_video_copy_is_a_training_corpus(data_dir, tmp_path, session_store):
    """A user's RAVDESS audio-video copy becomes a labelled multimodal corpus (EmoBox actor folds), frame level too."""
    from emorec.training.multimodal import av_corpus

    for actor, name, clip in ((3, "01-01-04-02-01-01-03.mp4", "mead_M030_sad.mp4"), (1, "01-01-01-01-01-01-01.mp4", "talking_head.mp4")):
        folder = tmp_path / f"Actor_{actor:02d}"
        folder.mkdir()
        (folder / name).symlink_to(data_dir / clip)
    corpus = av_corpus("ravdess_video", tmp_path, session_store)
    by_id = {e.id: e for e in corpus.examples}
    sad = by_id["01-01-04-02-01-01-03"]
    assert corpus.classes[sad.label] == "sad" and sad.speaker == "ravdess_03"
    assert sad.mask["audio"].any() and sad.mask["video"].any() and sad.mask["text"].any()
    assert {k for k, _, _ in corpus.folds} == {3, 0}  # EmoBox folds of actors 3 and 1
    frames = corpus.frame_level()
    assert len(frames) == 2 and (frames.examples[0].frame_labels >= 0).all()
