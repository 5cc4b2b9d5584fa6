"""Corpus loaders on the real corpora in ../shared/data, and clear errors on malformed ones."""

from pathlib import Path

import numpy as np
import pytest

from emorec.errors import DatasetError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared/data is not beside the checkout")


@needs_shared
def test_ravdess_counts_and_folds():
    from emorec.data.ravdess import load_ravdess

    df = load_ravdess(SHARED / "ravdess_speech_16k")
    assert len(df) == 1440 and df.actor.nunique() == 24
    assert df.groupby("fold").actor.nunique().eq(4).all()
    # speaker independence: an actor never appears in two folds
    assert df.groupby("actor").fold.nunique().eq(1).all()


def test_ravdess_rejects_bad_names(tmp_path):
    from emorec.data.ravdess import load_ravdess

    (tmp_path / "Actor_01").mkdir()
    (tmp_path / "Actor_01" / "03-01-09-01-01-01-01.wav").write_bytes(b"x")
    with pytest.raises(DatasetError, match="emotion code 09"):
        load_ravdess(tmp_path)
    (tmp_path / "Actor_01" / "03-01-09-01-01-01-01.wav").unlink()
    (tmp_path / "Actor_01" / "hello.wav").write_bytes(b"x")
    with pytest.raises(DatasetError, match="not a RAVDESS file name"):
        load_ravdess(tmp_path)


@needs_shared
def test_fer2013_standard_split():
    from emorec.data.images import load_fer2013, read_images

    df = load_fer2013(SHARED / "fer2013")
    assert df.split.value_counts().to_dict() == {"train": 28709, "val": 3589, "test": 3589}
    imgs = read_images(df.iloc[:5], 48)
    assert imgs.shape == (5, 48, 48) and imgs.dtype == np.uint8 and imgs.std() > 5


def test_fer2013_csv_layout_and_errors(tmp_path):
    from emorec.data.images import load_fer2013, read_images

    pixels = " ".join(["128"] * 48 * 48)
    (tmp_path / "fer2013.csv").write_text(f"emotion,pixels,Usage\n3,{pixels},Training\n6,{pixels},PrivateTest\n")
    df = load_fer2013(tmp_path)
    assert list(df.split) == ["train", "test"] and list(df.emotion) == ["happy", "neutral"]
    assert read_images(df, 48).shape == (2, 48, 48)
    bad = tmp_path / "bad"
    (bad / "train" / "joy").mkdir(parents=True)
    (bad / "test").mkdir()
    with pytest.raises(DatasetError, match="unknown FER2013 class"):
        load_fer2013(bad)


@needs_shared
def test_ckplus_subject_independent_folds():
    from emorec.data.images import load_ckplus

    df = load_ckplus(SHARED / "ckplus48")
    assert len(df) == 981 and df.subject.nunique() == 118
    assert df.groupby("subject").fold.nunique().eq(1).all()


@needs_shared
def test_emobank_reports_empty_text():
    from emorec.data.text import load_emobank

    with pytest.warns(UserWarning, match="empty text dropped.*easy_money_13624_13628"):
        df = load_emobank(SHARED / "emobank")
    assert len(df) == 10061 and df.split.value_counts().to_dict() == {"train": 8062, "dev": 999, "test": 1000}
    assert df[["V", "A", "D"]].stack().between(1, 5).all()


def test_emobank_rejects_wrong_csv(tmp_path):
    from emorec.data.text import load_emobank

    (tmp_path / "emobank.csv").write_text("id,text\n1,hello\n")
    with pytest.raises(DatasetError, match="missing columns"):
        load_emobank(tmp_path)


@needs_shared
def test_meld_official_split():
    from emorec.data.text import MELD_CLASSES, load_meld

    df = load_meld(SHARED / "meld")
    assert df.split.value_counts().to_dict() == {"train": 9989, "test": 2610, "dev": 1109}
    assert set(df.emotion) == set(MELD_CLASSES)


@needs_shared
def test_emodb_leave_one_speaker_out():
    from emorec.data.emodb import load_emodb

    df = load_emodb(SHARED / "emodb_2s")
    assert len(df) == 535 and df.speaker.nunique() == 10
    assert df.groupby("fold").speaker.nunique().eq(1).all()


def test_generic_folder_with_labels_csv(tmp_path, data_dir):
    import shutil

    from emorec.data.folder import load_folder

    shutil.copy(data_dir / "03-01-05-02-01-01-01.flac", tmp_path / "a.flac")
    shutil.copy(data_dir / "mead_happy_noaudio.mp4", tmp_path / "b.mp4")
    (tmp_path / "labels.csv").write_text("path,label,speaker\na.flac,angry,s1\nb.mp4,happy,s2\n")
    df = load_folder(tmp_path, num_folds=2)
    assert list(df.emotion) == ["angry", "happy"] and list(df.label) == [0, 1]
    assert df.groupby("speaker").fold.nunique().eq(1).all()
    (tmp_path / "labels.csv").write_text("path,label\nmissing.wav,sad\n")
    with pytest.raises(DatasetError, match="do not exist"):
        load_folder(tmp_path)


@needs_shared
def test_split_files_written_and_speaker_disjoint(tmp_path):
    import pandas as pd

    from emorec.data.splits import write_split_files

    paths = {p.stem: p for p in write_split_files(SHARED, tmp_path)}
    assert set(paths) == {"ravdess", "emodb", "fer2013", "ckplus", "emobank", "meld"}
    rav = pd.read_csv(paths["ravdess"])
    assert len(rav) == 1440 and rav.groupby("actor").fold.nunique().eq(1).all()
    ck = pd.read_csv(paths["ckplus"])
    assert ck.groupby("subject").fold.nunique().eq(1).all()


def test_symlinked_corpus_folders_are_followed(ravdess_root, tmp_path):
    """`data/ravdess` as a symlink to a copy elsewhere, with an actor folder that is itself a link (and a link loop)."""
    from emorec.data.ravdess import load_ravdess
    from emorec.pipelines.extract import expand_paths

    real = tmp_path / "real"
    real.mkdir()
    (real / "Actor_01").symlink_to(ravdess_root / "Actor_01", target_is_directory=True)
    (real / "loop").symlink_to(real, target_is_directory=True)
    link = tmp_path / "ravdess"
    link.symlink_to(real, target_is_directory=True)
    table = load_ravdess(link)
    assert len(table) == 60 and set(table.actor) == {1}
    assert len(expand_paths([link])) == 60


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_enterface_layout_and_both_fold_protocols(tmp_path):
    """eNTERFACE'05's original layout (subject N/<emotion>/sentence K/*.avi, a symlinked subject folder included) and the
    selectable folds: speaker-independent (no subject on both sides) or the 004 paper's random 5-fold (stated as not)."""
    from emorec.data.av_clips import load_av_corpus
    from emorec.training.multimodal import av_folds

    root = tmp_path / "enterface"
    names = {"anger": "an", "disgust": "di", "fear": "fe", "happiness": "ha", "sadness": "sa", "surprise": "su"}
    for subject in (1, 2, 3, 4, 5):
        base = root / f"subject {subject}" if subject != 5 else tmp_path / "elsewhere" / "subject 5"
        for emotion, short in names.items():
            for sentence in (1, 2):
                _touch(base / emotion / f"sentence {sentence}" / f"s{subject}_{short}_{sentence}.avi")
    (root / "subject 5").symlink_to(tmp_path / "elsewhere" / "subject 5", target_is_directory=True)
    _touch(root / "subject 1" / "anger" / "sentence 1" / "notes.txt")
    table = load_av_corpus("enterface", root)
    assert len(table) == 5 * 6 * 2 and set(table.speaker) == {f"enterface_0{i}" for i in range(1, 6)}
    assert set(table.label) == {"angry", "disgust", "fear", "happy", "sad", "surprise"}
    fold, protocol = av_folds("enterface", table, "speaker", num_folds=5)
    assert all(len(set(fold[table.speaker == s])) == 1 for s in table.speaker.unique()) and "speaker-independent" in protocol
    fold, protocol = av_folds("enterface", table, "random5")
    assert sorted(np.bincount(fold)) == [12] * 5 and "NOT speaker-independent" in protocol
    assert all(len(set(table.label[fold == k])) == 6 for k in range(5))  # stratified
    with pytest.raises(ValueError, match="random5"):
        av_folds("enterface", table, "random")
    with pytest.raises(DatasetError, match="no eNTERFACE"):
        load_av_corpus("enterface", tmp_path / "elsewhere" / "subject 5" / "anger")


def test_ravdess_video_speech_and_song_layout(tmp_path):
    """RAVDESS audio-video from a user's copy: speech only by default, speech + song for the 004 paper's set; the
    video-only 02- copies never; EmoBox actor folds."""
    from emorec.data.av_clips import load_av_corpus
    from emorec.training.multimodal import av_folds

    for actor in (1, 2):
        for channel in (1, 2):
            for emotion in (1, 3, 5):
                _touch(tmp_path / f"Actor_{actor:02d}" / f"01-{channel:02d}-{emotion:02d}-01-01-01-{actor:02d}.mp4")
                _touch(tmp_path / f"Actor_{actor:02d}" / f"02-{channel:02d}-{emotion:02d}-01-01-01-{actor:02d}.mp4")
    speech = load_av_corpus("ravdess_video", tmp_path)
    both = load_av_corpus("ravdess_video_song", tmp_path)
    assert len(speech) == 6 and len(both) == 12 and all(Path(p).name.startswith("01-") for p in both.path)
    assert set(both.label) == {"neutral", "happy", "angry"}
    fold, protocol = av_folds("ravdess_video_song", both, "speaker")
    assert protocol.startswith("R6-AV") and set(fold) == {0, 4}  # actors 1 and 2 lie in EmoBox folds 0 and 4
