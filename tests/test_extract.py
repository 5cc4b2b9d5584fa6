"""Feature extraction on real clips: shapes, time alignment, masks, the store."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from emorec.features import DEFAULT_EXTRACTORS
from emorec.features.face import _face_cnn
from emorec.pipelines.extract import ExtractReport, extract_clip, extract_many
from emorec.store import FeatureStore


@pytest.fixture(scope="module")
def th_features(talking_head, session_store):
    report = ExtractReport()
    feats = extract_clip(talking_head, session_store, DEFAULT_EXTRACTORS, report=report)
    return feats, report


def test_all_modalities_with_shapes(th_features):
    feats, report = th_features
    t = feats.num_frames
    assert t == round(feats.duration * 10) == 61
    expected = {
        "audio.egemaps": 25, "audio.logmel": 104, "audio.moonshine": 416, "audio.vad": 1,
        "face.track": 4, "face.cnn": _face_cnn()[0].embed_dim, "text.asr": 1, "text.minilm": 384,
    }
    for name, dim in expected.items():
        assert feats.series[name].data.shape == (t, dim), name
        assert feats.series[name].mask.shape == (t,)
    assert feats.records["audio.egemaps"]["lld"].shape[1] == 25
    assert feats.records["audio.egemaps"]["functionals"].shape == (1, 88)
    assert feats.records["face.track"]["crops_grey"].shape == (t, 64, 64)
    assert feats.records["face.track"]["landmarks"].shape == (t, 468, 2)
    assert feats.series["face.track"].mask.mean() > 0.9  # one face, always in view
    assert feats.series["audio.vad"].mask.mean() > 0.5


def test_transcript_and_word_alignment(th_features):
    feats, _ = th_features
    text = " ".join(w.word for w in feats.words).lower()
    assert "weakness" in text and "help" in text
    starts = np.array([w.start for w in feats.words])
    assert (np.diff(starts) >= 0).all()
    assert all(0 <= w.start < w.end <= feats.duration + 0.2 for w in feats.words)
    # each word's embedding lies on exactly the frames whose centre is inside its span
    grid = feats.series["text.minilm"]
    emb = feats.records["text.minilm"]["word_embeddings"]
    for i, w in enumerate(feats.words):
        frames = np.flatnonzero(np.all(grid.data == emb[i], axis=1) & grid.mask)
        centres = (frames + 0.5) / 10
        assert frames.size >= 1
        assert (centres >= w.start - 0.05).all() and (centres <= w.end + 0.05).all(), w
    # no word => mask off and zero features
    off = ~grid.mask
    assert off.any() and (grid.data[off] == 0).all()


def test_second_run_computes_nothing(talking_head, session_store, th_features):
    report = ExtractReport()
    again = extract_clip(talking_head, session_store, DEFAULT_EXTRACTORS, report=report)
    assert report.computed[str(talking_head)] == []
    assert len(report.reused[str(talking_head)]) == len(DEFAULT_EXTRACTORS)
    np.testing.assert_array_equal(again.series["audio.moonshine"].data, th_features[0].series["audio.moonshine"].data)


def test_release_drops_raw_encoder_states_after_their_last_reader(talking_head, session_store, th_features, monkeypatch):
    """``release=True`` (what analyze uses): the encoder's raw states leave memory once the voice reading has read
    them; every 10 Hz series and the reading are those of a run that keeps everything, and the store keeps the states.
    On a long clip (here: the threshold set to 0 s) each step's models are unloaded after it, with the same readings."""
    import emorec.pipelines.extract as extract_module
    from emorec.features import moonshine

    steps = ("audio.vad", "audio.egemaps", "audio.moonshine", "audio.emotion", "text.asr")
    lean = extract_clip(talking_head, session_store, steps, release=True)
    kept = extract_clip(talking_head, session_store, steps)  # after the lean run: the store still holds the states
    assert "block_states" in kept.records["audio.moonshine"].arrays
    assert not {"states", "state_times", "block_states"} & set(lean.records["audio.moonshine"].arrays)
    for name in ("audio.moonshine", "audio.emotion", "audio.egemaps"):
        np.testing.assert_array_equal(lean.series[name].data, kept.series[name].data)
    monkeypatch.setattr(extract_module, "UNLOAD_AFTER", 0.0)
    from emorec.features.base import ClipInput

    clip = ClipInput(talking_head)
    fresh = extract_clip(talking_head, None, steps, release=True, clip=clip)  # computed, not loaded: the same readings
    assert "audio" not in vars(clip) and clip.audio.size > 0  # the waveform left memory after the last audio step; decoded again on use
    np.testing.assert_allclose(fresh.series["audio.emotion"].data, kept.series["audio.emotion"].data, atol=1e-5)
    assert [w.word for w in fresh.words] == [w.word for w in kept.words]
    assert "block_states" not in fresh.records["audio.moonshine"].arrays
    assert moonshine._decoder.cache_info().currsize == 0 and moonshine.encoder_session.cache_info().currsize == 0  # unloaded


def test_audio_only_file(ravdess_clip, session_store):
    feats = extract_clip(ravdess_clip, session_store)
    assert feats.modalities == ["audio", "text"]
    assert any("no video track" in n for n in feats.notes)
    assert feats.series["audio.moonshine"].data.shape == (feats.num_frames, 416)
    assert "talking" in " ".join(w.word for w in feats.words).lower()


def test_video_without_audio(damaged, session_store):
    feats = extract_clip(damaged["noaudio"], session_store)
    assert feats.modalities == ["face"]
    assert feats.series["face.cnn"].mask.mean() > 0.9


def test_store_index_and_no_pickle(session_store, th_features):
    df = session_store.write_index()
    assert set(DEFAULT_EXTRACTORS) <= set(df.extractor)
    assert (session_store.root / "index.parquet").exists()
    key = df.key.iloc[0]
    with np.load(session_store._paths(key)[0], allow_pickle=False) as data:  # would raise on pickled objects
        assert len(data.files) > 0


def test_store_reads_from_two_threads(tmp_path):
    """The two extractor threads read the store at once; on CPython 3.11 two concurrent numpy header parses can raise
    SystemError (AST recursion depth mismatch). Garbage with finalizers and a tiny switch interval make the threads
    interleave inside the parser: without the store's read lock this raised in about 1 % of reads (measured)."""
    import threading

    from emorec.clip import Record

    store = FeatureStore(tmp_path / "store")
    store.save("k", Record({f"a{i}": np.zeros((61, 4), np.float32) for i in range(30)}, {"x": 1}), {})
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)

    class Cycle:  # a reference cycle with a finalizer: collected by the GC inside the parser's allocations
        def __init__(self):
            self.me = self

        def __del__(self):
            sum(range(50))

    errors = []

    def read():
        for _ in range(1000):
            for _ in range(20):
                Cycle()
            try:
                assert store.load("k").meta == {"x": 1}
            except SystemError as exc:
                errors.append(exc)

    try:
        threads = [threading.Thread(target=read) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors[:3]


def test_failed_extractor_keeps_what_was_computed(talking_head, tmp_path, monkeypatch):
    from emorec.features.audio import MoonshineEncoderExtractor
    from emorec.pipelines.extract import ExtractionError

    store = FeatureStore(tmp_path / "s")

    def boom(self, clip, deps):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(MoonshineEncoderExtractor, "compute", boom)
    with pytest.raises(ExtractionError, match="audio.moonshine failed"):
        extract_clip(talking_head, store, ("audio.vad", "audio.egemaps", "audio.moonshine"))
    monkeypatch.undo()
    report = ExtractReport()
    extract_clip(talking_head, store, ("audio.vad", "audio.egemaps", "audio.moonshine"), report=report)
    assert report.reused[str(talking_head)] == ["audio.vad", "audio.egemaps"]
    assert report.computed[str(talking_head)] == ["audio.moonshine"]


def test_kill_9_then_resume(tmp_path, data_dir):
    """A real SIGKILL in the middle of a batch: the rerun reuses every complete entry and computes only the rest."""
    store = tmp_path / "s"
    files = [str(data_dir / "talking_head.mp4"), str(data_dir / "mead_M030_sad.mp4")]
    cmd = [sys.executable, "-m", "emorec.cli", "extract", *files, "--store", str(store), "--extractors", "audio.vad,audio.egemaps,audio.moonshine,face.track", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(FeatureStore(store).cards()) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(FeatureStore(store).cards())  # complete entries only; a killed write leaves a .tmp- file
    assert 2 <= done_before < 8, "kill landed outside the run"
    fs = FeatureStore(store)
    report = extract_many(files, fs, ("audio.vad", "audio.egemaps", "audio.moonshine", "face.track"), progress=False)
    reused = sum(len(v) for v in report.reused.values())
    computed = report.num_computed
    assert not report.failures
    assert reused == done_before and reused + computed == 8
    assert len(fs.cards()) == 8


def test_ray_backend_on_a_local_cluster(tmp_path, data_dir):
    """The Ray backend (extra `emorec[cluster]`, installed by CI) against a local cluster this test starts with `ray start
    --head`: `emorec extract --backend ray` (RAY_ADDRESS) fills the same store as the process backend, reports the bad
    file, and a second run recomputes nothing."""
    pytest.importorskip("ray", reason="Ray is the optional 'cluster' extra (pip install 'emorec[cluster]'; .ci/run installs it)")
    import os
    import subprocess
    import sys

    ray_cli = Path(sys.executable).with_name("ray")
    import secrets

    # token authentication (Ray ≥ 2.59 turns it on for clusters started with `ray start`): the same token on head and driver
    env = {**os.environ, "RAY_ADDRESS": "", "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    port = 6400 + os.getpid() % 500
    import tempfile

    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit in 107 characters
    start = subprocess.run([str(ray_cli), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                            f"--temp-dir={temp}"], env=env, capture_output=True, text=True, timeout=180)
    assert start.returncode == 0, start.stdout[-2000:] + start.stderr[-2000:]
    try:
        env["RAY_ADDRESS"] = f"127.0.0.1:{port}"
        store = tmp_path / "s"
        files = [data_dir / "talking_head.mp4", data_dir / "03-01-05-02-01-01-01.flac", tmp_path / "missing.mp4"]
        cmd = [str(Path(sys.executable).with_name("emorec")), "extract", *map(str, files), "--store", str(store), "--extractors", "audio.vad,audio.egemaps",
               "--backend", "ray", "--quiet"]
        first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert first.returncode == 1 and "missing.mp4" in first.stderr and "(4 records computed)" in first.stdout, first.stdout + first.stderr
        fs = FeatureStore(store)
        assert len(fs.cards()) == 4  # 2 files × 2 extractors, computed by the cluster's workers
        again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert "(0 records computed)" in again.stdout, again.stdout
        process = extract_many(files[:2], FeatureStore(tmp_path / "p"), ("audio.vad", "audio.egemaps"), progress=False)
        for path in files[:2]:
            a, b = extract_clip(path, fs, ("audio.egemaps",)), extract_clip(path, FeatureStore(tmp_path / "p"), ("audio.egemaps",))
            np.testing.assert_allclose(a.records["audio.egemaps"]["lld"], b.records["audio.egemaps"]["lld"])
        assert process.num_computed == 4
    finally:
        subprocess.run([str(ray_cli), "stop", "--force"], env=env, capture_output=True, timeout=120)  # the cluster this test started


def test_expand_paths_folders_and_globs(data_dir):
    from emorec.pipelines.extract import expand_paths

    media = expand_paths([data_dir])
    assert {p.name for p in media} == {"talking_head.mp4", "mead_M030_sad.mp4", "mead_happy_noaudio.mp4", "mead_sad_silent_audio.mp4", "03-01-05-02-01-01-01.flac", "emodb_03a02Ta.flac"}
    assert [p.name for p in expand_paths([str(data_dir / "mead_*.mp4")])] == ["mead_M030_sad.mp4", "mead_happy_noaudio.mp4", "mead_sad_silent_audio.mp4"]
    assert expand_paths([data_dir / "missing.mp4"]) == [data_dir / "missing.mp4"]  # kept, so the error names it


def test_user_transcript_is_force_aligned(ravdess_clip):
    from emorec.api import extract

    feats = extract(ravdess_clip, None, ("audio.vad", "text.asr"), transcript="Kids are talking by the door.")
    assert [w.word for w in feats.words] == ["Kids", "are", "talking", "by", "the", "door"]
    assert all(w.aligned for w in feats.words)
    vad = feats.records["audio.vad"]["segments"]
    assert feats.words[0].start >= vad[0, 0] - 0.15 and feats.words[-1].end <= vad[-1, 1] + 0.15
    assert feats.records["text.asr"].meta["asr"] == "user transcript"


def test_face_tracking_between_detections_matches_detecting_every_frame(data_dir):
    """face.track runs the detector every 3rd frame and follows the face with the mesh in between:
    same frames with a face, boxes within a few % of the frame, same expression readings."""
    from emorec.features.base import ClipInput
    from emorec.features.face import FaceExtractor, FerExtractor

    clip = ClipInput(data_dir / "mead_M030_sad.mp4")
    every = FaceExtractor(detect_every=1).compute(clip, {})
    tracked = FaceExtractor(detect_every=3).compute(clip, {})
    assert every["detected"].all() and tracked["detected"].sum() < every["detected"].sum() / 2
    assert (every["mask"] == tracked["mask"]).all() and tracked["mask"].sum() > 0.9 * clip.num_frames
    m = tracked["mask"]
    assert np.abs(every["box"][m] - tracked["box"][m]).max() < 0.05
    p_every = FerExtractor().compute(clip, {"face.track": every})["probs"][m]
    p_tracked = FerExtractor().compute(clip, {"face.track": tracked})["probs"][m]
    assert (p_every.argmax(1) == p_tracked.argmax(1)).mean() > 0.9


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_workers_exit_when_the_parent_is_killed(tmp_path, data_dir):
    """SIGKILL of `emorec extract --workers 2` leaves no worker process behind (parent-death signal)."""
    files = [str(data_dir / n) for n in ("talking_head.mp4", "mead_M030_sad.mp4", "03-01-05-02-01-01-01.flac", "mead_sad_silent_audio.mp4")]
    cmd = [sys.executable, "-m", "emorec.cli", "extract", *files, "--store", str(tmp_path / "s"), "--workers", "2", "--extractors", "audio.moonshine,face.track", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    workers: list[int] = []
    while time.time() < deadline and len(workers) < 2:
        workers = [c for c in _children(proc.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace")]
        time.sleep(0.2)
    assert len(workers) >= 2, "the workers never started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 30
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers), "orphaned workers"


def test_narrow_band_audio_is_noted(ravdess_clip, tmp_path):
    """Telephone-band (8 kHz) audio is analysed with a note that the models were trained on wide-band speech."""
    import soundfile as sf

    from emorec.io.media import load_audio

    audio = load_audio(ravdess_clip, 8000)
    sf.write(tmp_path / "phone.wav", audio, 8000)
    feats = extract_clip(tmp_path / "phone.wav", None, ("audio.vad",))
    assert any("narrow-band audio (8000 Hz)" in n for n in feats.notes)
    wide = extract_clip(ravdess_clip, None, ("audio.vad",))
    assert not any("narrow-band" in n for n in wide.notes)


def test_audio_gaps_are_masked_and_noted(damaged, tmp_path):
    """Issue 21, item 8: the grid frames of a timestamp gap carry no audio reading, and the summary's notes say why."""
    from emorec.store import FeatureStore

    feats = extract_clip(damaged["audio_gap"], FeatureStore(tmp_path / "store"), ("audio.vad", "audio.egemaps"))
    mask = feats.series["audio.egemaps"].mask
    assert feats.num_frames == 70
    assert mask[:18].all() and not mask[22:48].any() and mask[52:68].all()
    assert any("timestamp gap" in n for n in feats.notes)


def test_damaged_audio_is_noted_and_the_file_is_read(damaged, tmp_path):
    from emorec.store import FeatureStore

    feats = extract_clip(damaged["audio_bitflips"], FeatureStore(tmp_path / "store"), ("audio.vad", "audio.egemaps"))
    assert any("damaged audio packet" in n for n in feats.notes)
    mask = feats.series["audio.egemaps"].mask
    assert 0.3 < mask.mean() < 1.0  # damaged spans masked, the rest read


def _timed_steps(chain, same_modality, fail=None, started=None):
    """Run stub extractors through the two-thread scheduler; returns each step's (start, end) times (names appended
    to ``started`` as they start)."""
    import threading
    from types import SimpleNamespace

    from emorec.pipelines.extract import _run_two_threads

    steps = [SimpleNamespace(name=n, needs=needs, requires=req, seconds=sec) for n, needs, req, sec in chain]
    times, lock = {}, threading.Lock()

    def run(ext):
        start = time.perf_counter()
        if started is not None:
            started.append(ext.name)
        time.sleep(ext.seconds)
        if ext.name == fail:
            raise RuntimeError(f"{ext.name} failed")
        with lock:
            times[ext.name] = (start, time.perf_counter())

    finished = []
    _run_two_threads(steps, run, lambda ext: finished.append(ext.name), same_modality)
    assert sorted(finished) == sorted(times)
    return times


def test_two_thread_scheduler_balances_and_keeps_dependencies():
    """Dependencies start after their requirements end; the face starts with the voice; when the face side is done the
    voice steps use both threads (short clips), never two of one side at once on long clips; the first error is raised
    and its dependents never start."""
    chain = [("vad", "audio", (), 0.05), ("egemaps", "audio", (), 0.3), ("asr", "audio", ("vad",), 0.3),
             ("text", "audio", ("asr",), 0.05), ("track", "video", (), 0.1), ("cnn", "video", ("track",), 0.05)]

    def overlap(a, b):
        return min(a[1], b[1]) - max(a[0], b[0]) > 0.01

    t = _timed_steps(chain, same_modality=True)
    assert t["asr"][0] >= t["vad"][1] and t["text"][0] >= t["asr"][1] and t["cnn"][0] >= t["track"][1]
    assert t["track"][0] - t["vad"][0] < 0.03  # both sides from the start
    assert overlap(t["egemaps"], t["asr"])  # the face side done: two voice steps at once
    t = _timed_steps(chain, same_modality=False)
    audio = [t[n] for n in ("vad", "egemaps", "asr", "text")]
    assert not any(overlap(a, b) for i, a in enumerate(audio) for b in audio[i + 1:])
    started = []
    with pytest.raises(RuntimeError, match="vad failed"):
        _timed_steps(chain, same_modality=True, fail="vad", started=started)
    assert "vad" in started and "asr" not in started and "text" not in started


def test_models_are_loaded_ahead_for_the_steps_that_will_compute(talking_head, tmp_path):
    """On a short clip the models of steps that will compute are loaded ahead, in chain order, on a helper thread; steps
    whose records are in the store load nothing; no load outlives extract_clip (a thread killed inside a native loader at
    exit aborted `emorec evaluate-av` with status 134); the locked loaders load a model once when two threads ask at once."""
    import threading

    from emorec.clip import Record
    from emorec.features.base import ClipInput, Extractor, locked_cache
    from emorec.pipelines.extract import _warm_ahead

    warmed = []

    class Step(Extractor):
        needs = "audio"
        version = "1"

        def __init__(self, name, requires=()):
            self.name, self.requires = name, requires

        def params(self):
            return {}

        def warm(self):
            warmed.append(self.name)

    class Plain(Step):
        warm = Extractor.warm  # nothing to load

    clip = ClipInput(talking_head)
    chain = [Plain("vad"), Step("asr", ("vad",)), Step("text", ("asr",)), Step("voice", ("vad",))]
    store = FeatureStore(tmp_path / "store")
    key = chain[3].key(clip.media_hash, {"vad": chain[0].key(clip.media_hash, {})})
    store.save(key, Record({"x": np.zeros(1)}, {}), {})  # the voice step is stored: nothing to load for it
    _warm_ahead(chain, clip, store).join()
    assert warmed == ["asr", "text"]
    assert _warm_ahead(chain[:1], clip, None) is None

    loading = threading.Event()

    class Slow(Step):  # a load in progress when the clip is done (its step was skipped): finish() waits for it, starts no other
        def warm(self):
            loading.set()
            time.sleep(0.3)
            warmed.append(self.name)

    warmed.clear()
    warmer = _warm_ahead([Slow("asr"), Slow("text")], clip, None)
    assert loading.wait(10)
    warmer.finish()
    assert warmed == ["asr"] and not warmer.is_alive()

    loads = []

    @locked_cache()
    def load():
        loads.append(1)
        time.sleep(0.2)
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(load())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and got[0] is got[1]
    load.cache_clear()
    load()
    assert len(loads) == 2
