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
