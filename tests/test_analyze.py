"""`emorec analyze` v0 on real clips: outputs, consistent times and ranges, gaps, bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from emorec.emotion_space import EMOTIONS
from emorec.pipelines.analyze import analyze

DATA = Path(__file__).parent / "data"

PROBS = [f"prob_{e}" for e in EMOTIONS]


def _check_timeline(tl: pd.DataFrame, duration: float, atol: float = 1e-5):
    assert abs(len(tl) - duration * 10) <= 1
    np.testing.assert_allclose(np.diff(tl["time"]), 0.1, atol=1e-6)
    present = tl[PROBS].notna().all(axis=1)
    np.testing.assert_allclose(tl.loc[present, PROBS].sum(axis=1), 1.0, atol=atol)
    for col in ("arousal", "valence"):
        v = tl[col].dropna()
        assert ((v >= -1) & (v <= 1)).all()
    return present


def test_talking_head_all_outputs(talking_head, session_store, tmp_path):
    result = analyze(talking_head, tmp_path / "out", store=session_store)
    for name in ("timeline.csv", "timeline.parquet", "segments.csv", "words.csv", "summary.json", "timeline.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0, name
    _check_timeline(pd.read_csv(tmp_path / "out" / "timeline.csv"), result.duration, atol=1e-3)  # 4 decimals in the CSV
    tl = pd.read_parquet(tmp_path / "out" / "timeline.parquet")
    present = _check_timeline(tl, result.duration)
    assert present.all()  # a face is in every frame
    assert tl.face_present.all() and tl.speech_active.any() and tl.word_spoken.any()
    # voice readings only where speech is active; text only where words are spoken
    assert tl.loc[~tl.speech_active, "voice_valence"].isna().all()
    assert tl.loc[~tl.word_spoken, "text_valence"].isna().all()
    seg = pd.read_csv(tmp_path / "out" / "segments.csv")
    assert len(seg) >= 1 and (seg.end > seg.start).all()
    assert "help" in " ".join(seg.transcript.fillna("")).lower()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["emotion"] in EMOTIONS and set(summary["models"]) == {"face", "voice", "words"}
    assert summary["gaps"] == []


def test_concurrent_branches_give_the_serial_outputs(data_dir):
    """The face and the voice/words read in two threads (the default) = one thread (within 1e-5), on a real clip with
    speech and a face (MEAD M030); and the audio's defects still become notes (MEAD's silent-audio clip: its header
    declares more audio than it holds)."""
    from emorec.pipelines.analyze import analyze

    clip = data_dir / "mead_M030_sad.mp4"
    serial = analyze(clip, concurrent=False)
    both = analyze(clip, concurrent=True)
    for name in ("timeline", "segments"):
        a, b = getattr(serial, name), getattr(both, name)
        assert list(a.columns) == list(b.columns) and len(a) == len(b) > 0
        num = a.select_dtypes("number").columns
        np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), atol=1e-5, equal_nan=True)
    assert list(serial.words.word) == list(both.words.word) and len(serial.words) > 0
    assert sorted(serial.summary["gaps"]) == sorted(both.summary["gaps"])
    assert serial.summary["emotion"] == both.summary["emotion"] and serial.summary["probabilities"] == both.summary["probabilities"]
    defect = [analyze(data_dir / "mead_sad_silent_audio.mp4", concurrent=c).summary["gaps"] for c in (False, True)]
    assert sorted(defect[0]) == sorted(defect[1]) and any("truncated" in g for g in defect[1])


def test_face_without_audio(data_dir, session_store):
    result = analyze(data_dir / "mead_happy_noaudio.mp4", None, store=session_store)
    tl = result.timeline
    _check_timeline(tl, result.duration)
    assert not tl.speech_active.any() and "voice_valence" not in tl
    assert any("no audio track" in g for g in result.summary["gaps"])
    # the MEAD actor poses "happy": the face reading must say so
    assert result.summary["emotion"] == "happy"
    assert result.summary["valence"] > 0


def test_audio_only(ravdess_clip, session_store):
    result = analyze(ravdess_clip, None, store=session_store)
    tl = result.timeline
    present = _check_timeline(tl, result.duration)
    assert not tl.face_present.any()
    assert (present == tl.speech_active).all()  # readings exactly where the voice is
    assert any("no video track" in g for g in result.summary["gaps"])
    lang = result.summary["language"]
    assert lang["words"] == "kept" and lang["mean_token_logprob"] > -0.45 and len(result.words) >= 4  # English: the words are read


def test_non_english_speech_drops_the_words_with_a_note(data_dir, session_store, tmp_path):
    """The English-only recogniser writes an English-looking transcript of German speech; its low confidence drops the
    words from the reading (summary, note, empty words.csv) unless --language en keeps them; --language de always drops."""
    german = data_dir / "emodb_03a02Ta.flac"
    result = analyze(german, tmp_path / "auto", store=session_store)
    lang = result.summary["language"]
    assert lang["words"] == "dropped" and lang["mean_token_logprob"] < -0.45, lang
    assert any("does not sound like English" in g for g in result.summary["gaps"])
    assert result.summary["transcript"] == "" and len(result.words) == 0 and result.summary["coverage"]["words"] == 0
    assert result.summary["coverage"]["speech"] > 0 and result.summary["emotion"] is not None  # the voice is still read
    kept = analyze(german, None, store=session_store, language="en")
    assert kept.summary["language"]["words"] == "kept" and len(kept.words) > 0
    english = analyze(data_dir / "03-01-05-02-01-01-01.flac", None, store=session_store, language="de")
    assert english.summary["language"]["words"] == "dropped" and any("--language de" in g for g in english.summary["gaps"])


@pytest.mark.parametrize("voice", ["voice_probe", "voice_tcn"])
def test_each_voice_model_reads_an_angry_clip(ravdess_clip, session_store, voice):
    """RAVDESS actor 1, angry, strong intensity (a training clip of both shipped models: a sanity check of the
    plumbing, not of generalisation): the voice reads angry and high arousal."""
    result = analyze(ravdess_clip, None, store=session_store, voice_model=voice)
    assert result.summary["models"]["voice"].startswith(f"emorec {voice} ")
    assert result.summary["model_names"]["voice"] == voice
    tl = result.timeline
    assert tl.loc[tl.speech_active, "voice_arousal"].mean() > 0.3
    assert set(result.segments.voice_emotion) == {"angry"}


@pytest.mark.parametrize(("option", "value"), [("--voice-model", "voice_nope"), ("--fusion", "fusion_nope"), ("--face-model", "face_nope"),
                                               ("--face-precision", "int4")])
def test_unknown_model_or_fusion_is_named(ravdess_clip, session_store, tmp_path, option, value):
    keyword = option.strip("-").replace("-", "_")
    with pytest.raises(ValueError, match=value):
        analyze(ravdess_clip, None, store=session_store, **{keyword: value})
    proc = subprocess.run([sys.executable, "-m", "emorec.cli", "analyze", str(ravdess_clip), "--out", str(tmp_path / "o"), option, value],
                          capture_output=True, text=True, timeout=120)
    valid = "int8 or float32" if option == "--face-precision" else "choose one of"
    assert proc.returncode == 2 and value in proc.stderr and valid in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_mead_sad_clip(data_dir, session_store):
    """MEAD M030 acts 'sad' (level 3): the face reading over the clip is sad and valence is negative."""
    result = analyze(data_dir / "mead_M030_sad.mp4", None, store=session_store)
    face_cols = [c for c in result.timeline if c.startswith("face_") and c not in ("face_present", "face_valence", "face_arousal")]
    face_mean = result.timeline[face_cols].mean()
    assert face_mean.idxmax() == "face_sad"
    assert result.timeline["face_valence"].mean() < 0


def test_a_users_face_weights_read_the_face(data_dir, session_store, tmp_path):
    """`--face-weights`: a user's face_cnn weights read the face (float32), their digest in the store key. The shipped
    distilled network given as a file reads exactly as `--face-model face_cnn_distilled` in float32; a file that is not
    face_cnn weights, a missing file, and a fusion family trained on the shipped embedding are refused before any work."""
    from emorec.models.weights import shipped_path

    clip = data_dir / "mead_happy_noaudio.mp4"
    own = tmp_path / "my_face.safetensors"
    own.write_bytes(shipped_path("face_cnn_distilled.safetensors").read_bytes())
    mine = analyze(clip, None, store=session_store, plot=False, face_weights=own)
    ref = analyze(clip, None, store=session_store, plot=False, face_model="face_cnn_distilled", face_precision="float32")
    default = analyze(clip, None, store=session_store, plot=False)
    cols = [c for c in ref.timeline if c.startswith("face_")]
    np.testing.assert_allclose(mine.timeline[cols].to_numpy(float), ref.timeline[cols].to_numpy(float), atol=1e-6)
    assert not np.allclose(mine.timeline[cols].to_numpy(float), default.timeline[cols].to_numpy(float), atol=1e-3)  # not the stored default
    for bad, message in ((data_dir / "talking_head.mp4", "not face_cnn weights"), (tmp_path / "none.safetensors", "no face_cnn weights")):
        with pytest.raises((ValueError, FileNotFoundError), match=message):
            analyze(clip, None, store=session_store, face_weights=bad)
    proc = subprocess.run([sys.executable, "-m", "emorec.cli", "analyze", str(clip), "--out", str(tmp_path / "o"), "--face-weights", str(own),
                           "--fusion", "tcn_gated"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "trained on the shipped face_cnn embedding" in proc.stderr and not (tmp_path / "o").exists()


def test_cli_batch_continues_past_corrupt_file(talking_head, damaged, session_store, tmp_path):
    cmd = [sys.executable, "-m", "emorec.cli", "analyze", str(damaged["random"]), str(damaged["noaudio"]), "--out", str(tmp_path), "--store", str(session_store.root), "-q"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1
    assert "random.mp4" in proc.stderr and "not an audio or video file" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "noaudio" / "timeline.csv").exists()


def test_cli_single_bad_file_exit_2(damaged, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "emorec.cli", "analyze", str(damaged["truncated"]), "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "truncated" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("sub", ["analyze", "extract", "extractors", "train", "train voice_probe", "train voice_tcn", "train text", "cv", "models", "fusions", "composite",
                                 "evaluate-av", "finetune", "plot adjacency", "plot confusion"])
def test_help(sub):
    proc = subprocess.run([sys.executable, "-m", "emorec.cli", *sub.split(), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "Usage" in proc.stdout


def test_cv_names_the_models_it_can_cross_validate(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "emorec.cli", "cv", "face_cnn", "--data", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "voice_probe" in proc.stderr and "official splits" in proc.stderr
    for model in ("voice_probe", "voice_tcn"):
        proc = subprocess.run([sys.executable, "-m", "emorec.cli", "cv", model, "--data", str(tmp_path / "missing"), "--store", str(tmp_path / "s")],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and "missing" in proc.stderr and "Traceback" not in proc.stderr


def test_report_renders_in_chromium(talking_head, session_store, tmp_path):
    """report.html is self-contained and renders its plot, segments table and faces in headless Chromium."""
    from emorec.report.browser import find_chromium, render

    out = tmp_path / "out"
    analyze(talking_head, out, store=session_store)
    page = (out / "report.html").read_text()
    assert "http://" not in page and "https://" not in page  # nothing fetched from the network
    if find_chromium() is None:
        pytest.skip("chromium is not installed (.ci/run installs it with apt-get)")
    dom = render(out / "report.html", tmp_path / "shot.png")
    assert 'id="segments"' in dom and dom.count("data:image/png") >= 2
    from PIL import Image

    shot = np.asarray(Image.open(tmp_path / "shot.png").convert("L"))
    assert shot.shape[0] > 1000 and shot.std() > 10  # not a blank page


def test_cli_json_summary(ravdess_clip, session_store, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "emorec.cli", "analyze", str(ravdess_clip), "--out", str(tmp_path), "--store", str(session_store.root), "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["file"] == str(ravdess_clip) and summary["coverage"]["face"] == 0.0
    assert (tmp_path / "report.html").exists()


def test_video_with_silent_audio_track(data_dir, session_store):
    """MEAD's sad.mp4 carries an all-zero audio track shorter than its header says: face-only analysis, both gaps stated."""
    result = analyze(data_dir / "mead_sad_silent_audio.mp4", None, store=session_store)
    _check_timeline(result.timeline, result.duration)
    assert abs(result.duration - 6.28) < 0.05  # the video's length, not the short audio's
    gaps = " ".join(result.summary["gaps"])
    assert "silence" in gaps and "truncated" in gaps
    assert result.timeline.face_present.mean() > 0.5 and not result.timeline.speech_active.any()
    assert "voice" not in result.summary["models"]


def test_video_without_a_face(tmp_path, session_store):
    """A video of plain frames (no face anywhere): no face readings, the gap is stated, nothing raised."""
    from fractions import Fraction

    import av

    path = tmp_path / "noface.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 160, "yuv420p"
        for i in range(50):
            img = np.full((160, 160, 3), 40 + i, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    result = analyze(path, tmp_path / "out", store=session_store)
    assert not result.timeline.face_present.any()
    assert result.timeline["arousal"].isna().all() and result.summary["emotion"] is None
    assert any("no face" in g for g in result.summary["gaps"])
    assert (tmp_path / "out" / "report.html").exists()


def test_photos_every_face_is_read(tmp_path):
    """A still image is read as a photo (issue 20, item 1): every face with its box, landmarks, 7 class probabilities and
    valence/arousal; faces.csv, annotated.png, summary.json, report.html; two people side by side give two faces; a
    folder mixing photos and a video reads both; an image without a face says so (exit 2)."""
    import cv2

    from emorec.io.media import iter_video_frames
    from emorec.pipelines.image import analyze_image

    a = next(iter_video_frames(DATA / "talking_head.mp4", max_side=None))[1]
    b = next(iter_video_frames(DATA / "mead_M030_sad.mp4", max_side=None))[1]
    b = cv2.resize(b[:, (b.shape[1] - b.shape[0]) // 2 :][:, : b.shape[0]], a.shape[:2][::-1])  # the MEAD frame's centre square
    pair = tmp_path / "two people.png"
    cv2.imwrite(str(pair), cv2.cvtColor(np.concatenate([a, b], axis=1), cv2.COLOR_RGB2BGR))
    result = analyze_image(pair, tmp_path / "out")
    faces = result.faces
    assert len(faces) == 2 and result.landmarks.shape == (2, 468, 2)
    centres = sorted(((faces.x0 + faces.x1) / 2).tolist())
    assert centres[0] < a.shape[1] < centres[1]  # one face on each side
    np.testing.assert_allclose(faces[[f"prob_{e}" for e in EMOTIONS]].sum(axis=1), 1.0, atol=1e-3)
    assert faces[["valence", "arousal"]].abs().max().max() <= 1
    for name in ("faces.csv", "annotated.png", "summary.json", "report.html", "landmarks.npz"):
        assert (tmp_path / "out" / name).is_file()
    # read as analyze reads the primary face: the int8 graph by default, float32 on request, the same classes
    assert result.summary["models"]["face"].startswith("face_cnn (int8")
    exact = analyze_image(pair, None, face_precision="float32")
    assert exact.summary["models"]["face"].startswith("face_cnn (float32") and list(exact.faces.emotion) == list(faces.emotion)
    with pytest.raises(ValueError, match="fer_mini_xception"):
        analyze_image(pair, None, face_model="fer_mini_xception")
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "pair.png").write_bytes(pair.read_bytes())
    (folder / "clip.mp4").write_bytes((DATA / "mead_happy_noaudio.mp4").read_bytes())
    proc = subprocess.run([sys.executable, "-m", "emorec.cli", "analyze", str(folder), "--out", str(tmp_path / "batch"), "--store", str(tmp_path / "s"), "--json"],
                          capture_output=True, text=True, timeout=600)
    objects = {Path(o["input"]).name: o for o in json.loads(proc.stdout)}
    assert proc.returncode == 0 and objects["pair.png"]["num_faces"] == 2 and objects["clip.mp4"]["emotion"] in EMOTIONS
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 128, np.uint8))
    proc = subprocess.run([sys.executable, "-m", "emorec.cli", "analyze", str(blank), "--out", str(tmp_path / "b")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "no face found in the image" in proc.stderr


def test_people_reuse_the_primary_faces_detections(tmp_path):
    """Issue 20 (cost per face): where face.track ran the detector, face.people takes its detections and its primary
    face's mesh and crop instead of computing them again — and finds the same people as when it detects every frame
    itself: same frames, boxes and class probabilities, mouth opening within the float16 rounding of the stored
    landmarks. ``extract_clip(given=...)`` uses a record as it is (analyze's second call computes no face.track)."""
    from bad_media import side_by_side

    from emorec.features.base import ClipInput
    from emorec.features.people import PeopleExtractor
    from emorec.clip import Record
    from emorec.pipelines.extract import ExtractReport, extract_clip

    video = side_by_side(DATA / "talking_head.mp4", DATA / "mead_M030_sad.mp4", tmp_path / "two.mp4")
    feats = extract_clip(video, None, ("face.track", "face.people"))
    track, reused = feats.records["face.track"], feats.records["face.people"]
    shared = track["detected"] & (track["primary"] >= 0)
    assert shared.sum() >= 0.25 * track["detected"].size and np.isfinite(track["all_scores"][shared]).sum(axis=1).min() == 2
    blind = Record(dict(track.arrays, detected=np.zeros_like(track["detected"])), track.meta)  # face.track's work not offered
    alone = PeopleExtractor().compute(ClipInput(video), {"face.track": blind})
    assert reused.meta["num_tracks"] == alone.meta["num_tracks"] == 2
    np.testing.assert_array_equal(reused["present"], alone["present"])
    np.testing.assert_allclose(reused["boxes"], alone["boxes"], atol=1e-5)
    np.testing.assert_allclose(reused["probs"], alone["probs"], atol=1e-5)
    np.testing.assert_allclose(reused["mouth"], alone["mouth"], atol=2e-3)
    report = ExtractReport()
    again = extract_clip(video, None, ("face.people",), given={"face.track": track}, report=report)
    assert report.reused[str(video)] == ["face.track"] and report.computed[str(video)] == ["face.people"]
    np.testing.assert_array_equal(again.records["face.people"]["probs"], reused["probs"])


@pytest.mark.parametrize("speaking", ["talking_head", "mead"])
def test_two_people_the_speaking_one_is_found(tmp_path, session_store, speaking):
    """Issue 20, items 2-3: two real talking heads side by side with one audio track (the left one's): both tracked with
    their own readings (faces.csv, summary people), and the speaking one — the left, in sync with the audio — holds
    ≥ 90 % of the speech frames (either clip on the left: no side is favoured)."""
    from bad_media import side_by_side

    left, right = (DATA / "talking_head.mp4", DATA / "mead_M030_sad.mp4") if speaking == "talking_head" else (DATA / "mead_M030_sad.mp4", DATA / "talking_head.mp4")
    video = side_by_side(left, right, tmp_path / "two.mp4")
    result = analyze(video, tmp_path / "out", store=session_store, plot=False)
    people, faces = result.summary["people"], result.tables["faces"]
    assert len(people) == 2 and (tmp_path / "out" / "faces.csv").is_file()
    side = faces.groupby("track").x0.mean()
    left_track = int(side.idxmin())
    speech = result.timeline.speech_active.to_numpy()
    assert speech.sum() >= 10
    share = np.mean(result.timeline.speaker_track.to_numpy()[speech] == left_track)
    assert share >= 0.9, f"the speaking (left) person holds {share:.0%} of the speech frames"
    for p in people:
        assert abs(sum(p["probabilities"].values()) - 1) < 1e-3 and p["seconds_visible"] > 3
    single = analyze(DATA / "talking_head.mp4", None, store=session_store, plot=False)
    assert "people" not in single.summary and "faces" not in single.tables  # one person: nothing more is run
    if speaking == "mead":  # face_baseline="clip": each person read relative to their own median face over the clip
        from emorec.emotion_space import EMOTIONS
        from emorec.person_baseline import NEUTRAL_SHARE

        calibrated = analyze(video, None, store=session_store, plot=False, face_baseline="clip").tables["faces"]
        reference = np.where(np.array(EMOTIONS) == "neutral", NEUTRAL_SHARE, (1 - NEUTRAL_SHARE) / 6)
        columns = [f"prob_{e}" for e in EMOTIONS]
        for track, lane in faces.groupby("track"):
            p = np.clip(lane[columns].to_numpy(float), 1e-6, 1)
            expected = p * reference / np.exp(np.median(np.log(p), axis=0))
            got = calibrated[calibrated.track == track][columns].to_numpy(float)
            np.testing.assert_allclose(got, expected / expected.sum(1, keepdims=True), atol=1e-4)
    if speaking == "talking_head":  # a user's face weights read every person too
        from emorec.models.weights import shipped_path

        own = tmp_path / "my_face.safetensors"
        own.write_bytes(shipped_path("face_cnn_distilled.safetensors").read_bytes())
        mine = analyze(video, None, store=session_store, plot=False, face_weights=own)
        assert len(mine.summary["people"]) == 2
        assert not np.allclose(mine.tables["faces"].filter(like="prob_").to_numpy(float), faces.filter(like="prob_").to_numpy(float), atol=1e-3)
