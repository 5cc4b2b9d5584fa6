"""Batches never lose or overwrite outputs: one folder per input, output problems found before any work, failures in --json."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from emorec.errors import OutputError
from emorec.pipelines.batch import check_writable, output_folders


def test_same_stems_get_distinct_folders(tmp_path):
    files = [tmp_path / "a" / "clip.mp4", tmp_path / "b" / "clip.mp4", tmp_path / "a" / "clip.wav", tmp_path / "a" / "other.flac"]
    for f in files:
        f.parent.mkdir(exist_ok=True)
        f.touch()
    folders = output_folders(files, Path("out"))
    assert len(set(folders.values())) == len(files)
    assert folders[files[0]] == Path("out/a/clip_mp4") and folders[files[2]] == Path("out/a/clip_wav")
    assert folders[files[1]] == Path("out/b/clip") and folders[files[3]] == Path("out/a/other")
    assert output_folders(files[:1], Path("out")) == {files[0]: Path("out")}
    twice = output_folders([files[3], files[3]], Path("out"))
    assert len(twice) == 1  # one input given twice is one input


def test_unwritable_outputs_are_named(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputError, match="file.txt.*is a file"):
        check_writable(tmp_path / "file.txt")
    with pytest.raises(OutputError, match="cannot be written"):
        check_writable(tmp_path / "file.txt" / "sub")


def _cli(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "emorec.cli", "analyze", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_batch_with_duplicate_stems_keeps_every_output(ravdess_clip, session_store, tmp_path):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        shutil.copy(ravdess_clip, tmp_path / d / "clip.flac")
    out = tmp_path / "out"
    proc = _cli(tmp_path / "a" / "clip.flac", tmp_path / "b" / "clip.flac", "--out", out, "--store", session_store.root, "-q")
    assert proc.returncode == 0, proc.stderr
    for d in ("a", "b"):
        assert (out / d / "clip" / "summary.json").is_file()
    index = pd.read_csv(out / "index.csv")
    assert sorted(index.output) == sorted(str(out / d / "clip") for d in ("a", "b")) and set(index.status) == {"ok"}


def test_output_path_that_is_a_file_fails_before_any_work(ravdess_clip, tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    proc = _cli(ravdess_clip, "--out", tmp_path / "taken", "--store", tmp_path / "store", timeout=120)
    assert proc.returncode == 2 and "taken" in proc.stderr and "is a file" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "store" / "objects").exists()  # nothing was decoded or extracted


def test_json_lists_failures_with_their_kind(ravdess_clip, damaged, session_store, tmp_path):
    proc = _cli(ravdess_clip, damaged["truncated"], "--out", tmp_path / "o", "--store", session_store.root, "--json")
    assert proc.returncode == 1
    objects = json.loads(proc.stdout)
    by_input = {o["input"]: o for o in objects}
    assert by_input[str(ravdess_clip)]["status"] == "ok" and "emotion" in by_input[str(ravdess_clip)]
    bad = by_input[str(damaged["truncated"])]
    assert bad["status"] == "error" and bad["error"].endswith("Error") and "truncated" in bad["message"]
    proc = _cli(damaged["truncated"], "--out", tmp_path / "o2", "--store", session_store.root, "--json")
    assert proc.returncode == 2 and json.loads(proc.stdout)["status"] == "error"


def test_profile_prints_each_stage(ravdess_clip, tmp_path):
    proc = _cli(ravdess_clip, "--out", tmp_path / "o", "--store", tmp_path / "s", "-q", "--profile")
    assert proc.returncode == 0, proc.stderr
    assert "profile of 03-01-05-02-01-01-01.flac" in proc.stderr
    for stage in ("audio.moonshine", "text.asr", "fusion", "tables"):
        assert stage in proc.stderr
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["extractor_seconds"]["audio.moonshine"] > 0 and "fusion" in summary["stage_seconds"]
