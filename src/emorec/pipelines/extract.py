"""Extract features of media files into a :class:`~emorec.store.FeatureStore`.

``extract_clip`` runs the requested extractors on one file, in dependency
order, loading what the store already has and saving each new record as soon
as it is computed (so a crash loses at most the extractor that was running).
``extract_many`` does the same for many files with worker processes or on a
Ray cluster, continues past bad files and reports them at the end.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emorec.clip import ClipFeatures
from emorec.errors import EmorecError, SilentAudioError
import emorec.readings  # noqa: F401  (registers the reading extractors)
from emorec.clip import Record
from emorec.features import DEFAULT_EXTRACTORS, EXTRACTORS, ClipInput, Extractor
from emorec.io.files import walk_files
from emorec.io.media import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, media_notes
from emorec.store import FeatureStore
from emorec.timeseries import span_to_frames

__all__ = ["BALANCE_BELOW", "SILENCE_PEAK", "UNLOAD_AFTER", "ExtractReport", "ExtractionError", "expand_paths", "extract_clip", "extract_many", "stored_clips"]

SILENCE_PEAK = 1e-4
"""An audio track whose absolute peak is below this (full scale = 1) is silence."""

NARROW_BAND_RATE = 16000
"""Audio recorded below this sample rate (Hz; telephone speech is 8000) gets a note: every audio model here was trained at 16 kHz."""

UNLOAD_AFTER = 600.0
"""Clip length (seconds) from which ``extract_clip(..., release=True)`` unloads each step's models after it: loading
them again costs a few seconds, under 3 % of such a clip's processing, and a 1-hour file then peaks at one step's
models plus its features (``benchmarks/memory.py``)."""
BALANCE_BELOW = UNLOAD_AFTER
"""Clip length (seconds) below which ``extract_clip(..., concurrent=True)`` may run two audio (or two video) steps at
once when the other side has nothing ready. Longer files run one step per side at a time: from :data:`UNLOAD_AFTER`
on each step unloads its models when it ends, which would take shared models (the Moonshine encoder) from under a step
of the same side still running, and peak memory stays flat (the 10-minute benchmark clip measured RTF 0.367 with two
voice steps at once and 0.354 without, on the same machine)."""
INDEX_EVERY = 10.0
"""Seconds between rewrites of the store's ``index.parquet`` during a long ``extract_many`` (and once at the end)."""


class ExtractionError(EmorecError):
    """An extractor failed on a file (the message names the extractor and the cause)."""


@dataclass
class ExtractReport:
    """What one call computed: per file, which extractors ran and which were reused."""

    computed: dict[str, list[str]] = field(default_factory=dict)
    reused: dict[str, list[str]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def num_computed(self) -> int:
        return sum(len(v) for v in self.computed.values())


def _resolve(names: Sequence[str], params: dict[str, dict] | None) -> list[Extractor]:
    """Instantiate extractors, adding missing dependencies, in dependency order.

    Dependencies are read from each instance (a reading's ``requires`` depends on its ``model``)."""
    params = params or {}
    ordered: list[Extractor] = []
    seen: set[str] = set()

    def visit(name: str):
        if name in seen:
            return
        seen.add(name)
        ext = EXTRACTORS.create(name, **params.get(name, {}))
        for dep in ext.requires:
            visit(dep)
        ordered.append(ext)

    for n in names:
        visit(n)
    return ordered


def extract_clip(
    path: str | Path,
    store: FeatureStore | None = None,
    extractors: Sequence[str] = DEFAULT_EXTRACTORS,
    params: dict[str, dict] | None = None,
    report: ExtractReport | None = None,
    hook: Callable[[str, float], None] | None = None,
    clip: ClipInput | None = None,
    release: bool = False,
    concurrent: bool = False,
    given: dict[str, Record] | None = None,
) -> ClipFeatures:
    """Compute (or load from the store) features of one media file.

    Parameters
    ----------
    path : str or Path
        Video (mp4, mkv, avi, mov, webm) or audio (wav, flac, mp3, ogg).
    store : FeatureStore or None
        Where records are looked up and saved; ``None`` computes everything in memory.
    extractors : sequence of str
        Registered extractor names; their dependencies are added.
    params : dict
        Keyword parameters per extractor name, e.g. ``{"text.asr": {"transcript": "..."}}``.
    report : ExtractReport or None
        Filled with what was computed and what was reused.
    hook : callable or None
        Progress: called as ``hook(extractor_name, fraction_done)`` when an
        extractor starts (0.0), as it goes (long inputs) and when it ends (1.0).
    clip : ClipInput or None
        An already opened input for ``path`` (its decoded audio is then shared with the caller).
    release : bool
        Drop each record's :attr:`~emorec.features.base.Extractor.transient` arrays from memory as soon as no later
        extractor needs them (the store keeps them), and on a clip of :data:`UNLOAD_AFTER` seconds or more unload
        each extractor's models once it has run (:meth:`~emorec.features.base.Extractor.unload`), so that peak
        memory is one step's models plus the clip's 10 Hz features, not every raw array and model at once (flat in
        the clip's length); the returned records then lack the transient arrays.
    concurrent : bool
        For a file with both tracks, run the extractors on two threads, each as soon as its dependencies are done: the
        face (video) and the voice/words (audio) start at once, and when one side is done the other's ready steps use
        both threads (below :data:`BALANCE_BELOW` seconds of media): both cores busy (the models release the GIL).
        The records are the same as in one thread (tested within 1e-5); ``hook`` is then called from both threads.
    given : dict of str → Record, or None
        Records of this clip that an earlier call computed with the same parameters (``analyze`` gives ``face.people``
        the ``face.track`` it already has): used as they are, neither loaded nor computed again; their keys are derived
        as usual, so the records that depend on them are stored under the right keys.

    Returns
    -------
    ClipFeatures

    Raises
    ------
    MediaError
        Missing, unreadable, corrupt, truncated or empty file.
    SilentAudioError
        An audio-only file whose audio is silence.
    ExtractionError
        An extractor failed; everything computed before it is kept in the store.
    """
    clip = clip if clip is not None else ClipInput(path)
    chain = _resolve(extractors, params)
    records: dict[str, Record] = {}
    keys: dict[str, str] = {}
    notes: list[str] = []
    computed, reused, done = [], [], set()
    audio_ok: bool | None = None  # checked lazily, once: decoding is skipped when the store has everything
    rate = clip.info.audio_sample_rate if clip.info.has_audio else None
    if rate and rate < NARROW_BAND_RATE:
        notes.append(f"narrow-band audio ({rate} Hz): the voice and speech models were trained on wide-band (16 kHz) speech, "
                     "so the voice reading and the transcript are less reliable")

    audio_lock = threading.Lock()

    def check_audio() -> None:
        """Decode the audio once; what it found wrong becomes notes; silence skips the audio extractors."""
        nonlocal audio_ok
        if audio_ok is not None:
            return
        clip.audio  # noqa: B018
        _add_media_notes(clip.audio_notes, notes)
        peak = float(np.abs(clip.audio).max()) if clip.audio.size else 0.0
        audio_ok = peak >= SILENCE_PEAK
        if not audio_ok:
            if not clip.info.has_video:
                raise SilentAudioError(clip.path, f"audio is silence (peak {peak:.1e}); nothing to analyse")
            notes.append("audio: track is silence; audio and text features skipped")

    def run(ext: Extractor) -> None:
        """Load or compute one extractor's record (its dependencies are done)."""
        if not ext.available(clip):
            note = f"no {ext.needs} track: " + ("audio and text features skipped" if ext.needs == "audio" else "face features skipped")
            if note not in notes:
                notes.append(note)
            return
        if any(dep not in keys for dep in ext.requires):
            return  # a dependency was skipped
        key = keys[ext.name] = _store_key(ext, clip, keys)
        if given and ext.name in given:
            records[ext.name] = given[ext.name]
            reused.append(ext.name)
            return
        if store is not None and store.has(key):
            records[ext.name] = store.load(key)
            reused.append(ext.name)
            return
        if ext.needs == "audio":
            with audio_lock:
                check_audio()
            if not audio_ok:
                keys.pop(ext.name)
                return
        if hook is not None:
            hook(ext.name, 0.0)
            clip.on_progress = lambda fraction, name=ext.name: hook(name, fraction)
        try:
            with media_notes() as caught:  # damage found while decoding becomes a note
                try:
                    record = ext.compute(clip, {d: records[d] for d in ext.requires})
                except SystemError as exc:
                    if "AST constructor recursion depth" not in str(exc):
                        raise
                    # CPython 3.11: two threads parsing Python ASTs at once (a library's ast.literal_eval or
                    # inspect.signature) can raise this spuriously (python/cpython#106905); extractors are pure, so
                    # the step is computed again
                    record = ext.compute(clip, {d: records[d] for d in ext.requires})
        except EmorecError:
            raise
        except Exception as exc:
            raise ExtractionError(clip.path, f"{ext.name} failed: {type(exc).__name__}: {exc}") from exc
        _add_media_notes(caught, notes)
        if ext.needs == "audio" and clip.audio_gaps:
            _mask_gaps(record, clip.audio_gaps, clip.num_frames)
        records[ext.name] = record
        computed.append(ext.name)
        if release and clip.duration >= UNLOAD_AFTER:
            ext.unload()
        if hook is not None:
            hook(ext.name, 1.0)
        if store is not None:
            store.save(
                key,
                record,
                {"media_hash": clip.media_hash, "path": str(clip.path), "extractor": ext.name, "version": ext.version, "params": ext.params(), "deps": {d: keys[d] for d in ext.requires}},
            )

    audio_steps = {ext.name for ext in chain if ext.needs == "audio"}

    def finish(ext: Extractor) -> None:
        done.add(ext.name)
        if release:
            _release(records, chain, done)
            if ext.name in audio_steps and audio_steps <= done and clip.duration >= UNLOAD_AFTER:
                clip.release_audio()  # every audio extractor has run: the waveform of a long file leaves memory

    if concurrent and clip.info.has_audio and clip.info.has_video:
        warmer = _warm_ahead(chain, clip, store) if clip.duration < BALANCE_BELOW else None
        try:
            clip.audio  # noqa: B018  (decoded before the threads start: clip.num_frames depends on it)
            # below BALANCE_BELOW seconds two steps of one modality may run at once (the cores stay busy when one branch
            # is done); longer files keep one audio and one video step at a time, so peak memory stays flat
            _run_two_threads(chain, run, finish, same_modality=clip.duration < BALANCE_BELOW)
        finally:
            if warmer is not None:
                warmer.finish()  # no load may outlive the call: a thread inside a native loader at exit aborts Python
    else:
        for ext in chain:
            run(ext)
            finish(ext)
    if report is not None:
        report.computed[str(clip.path)] = computed
        report.reused[str(clip.path)] = reused
    if "text.asr" in records and len(records["text.asr"]["words"]) == 0:
        notes.append("text: no words recognised")
    if "face.track" in records and not records["face.track"]["mask"].any():
        notes.append("face: no face found in any frame")
    return ClipFeatures.from_records(clip.path, clip.media_hash, clip.duration, clip.num_frames, records, notes)


def _store_key(ext: Extractor, clip: ClipInput, keys: dict[str, str]) -> str:
    """The feature-store key of ``ext``'s record for ``clip``, given its dependencies' keys (``keys``, by extractor name)."""
    return ext.key(clip.media_hash, {d: keys[d] for d in ext.requires})


class _Warmer(threading.Thread):
    """The helper thread of :func:`_warm_ahead`: loads the models of ``todo`` in order until :meth:`finish`."""

    def __init__(self, todo: list[Extractor]):
        super().__init__(name="emorec-warm", daemon=True)
        self.todo, self.stopped = todo, threading.Event()

    def run(self) -> None:
        for ext in self.todo:
            if self.stopped.is_set():
                return
            try:
                ext.warm()
            except Exception:  # noqa: BLE001  (the step raises it with the file's name)
                pass

    def finish(self) -> None:
        """Start no further load and wait for the one in progress (a step that was skipped, e.g. the speech recogniser on
        silence, may leave one running). A daemon thread still inside a native loader (an ONNX Runtime session being
        built) when the interpreter exits is killed there, and the C++ runtime aborts the process (exit status 134)."""
        self.stopped.set()
        self.join()


def _warm_ahead(chain: Sequence[Extractor], clip: ClipInput, store: FeatureStore | None) -> _Warmer | None:
    """Load, on a helper thread, the models of the extractors in ``chain`` that will compute on ``clip`` (not in the
    store), in chain order (:meth:`Extractor.warm`), so that the speech recogniser's and the text model's loading
    overlaps the first steps instead of waiting for them (6 s clip: ≈ 1.6 s less). The loaders are locked caches: a step
    that needs a model being loaded waits for it. Failures are left for the step itself to raise. Returns the started
    thread (None when nothing is to be loaded); the caller calls its ``finish()`` before returning."""
    keys: dict[str, str] = {}
    todo = []
    for ext in chain:
        if not ext.available(clip) or any(dep not in keys for dep in ext.requires):
            continue
        keys[ext.name] = _store_key(ext, clip, keys)
        if type(ext).warm is not Extractor.warm and (store is None or not store.has(keys[ext.name])):
            todo.append(ext)
    if not todo:
        return None
    warmer = _Warmer(todo)
    warmer.start()
    return warmer


def _release(records: dict[str, Record], chain: Sequence[Extractor], done: set[str]) -> None:
    """Drop the transient arrays of records whose every dependent extractor in ``chain`` is done."""
    for ext in chain:
        if ext.transient and ext.name in records and all(later.name in done for later in chain if ext.name in later.requires):
            for name in ext.transient:
                records[ext.name].arrays.pop(name, None)


def _modalities(chain: Sequence[Extractor]) -> dict[str, str]:
    """Each extractor's side: "audio" or "video" if it and its dependencies read only that track, else "joint"."""
    side: dict[str, str] = {}
    for ext in chain:
        sides = {ext.needs, *(side[d] for d in ext.requires if d in side)}
        side[ext.name] = sides.pop() if len(sides) == 1 else "joint"
    return side


def _run_two_threads(chain: Sequence[Extractor], run: Callable[[Extractor], None], finish: Callable[[Extractor], None],
                     same_modality: bool = True) -> None:
    """Run ``chain``'s extractors on two threads, each starting as soon as its dependencies are done (a list scheduler).

    A free thread takes the first ready extractor (chain order) of the side (audio/video) that is not running, so the
    face and the voice/words start at once; then, with ``same_modality``, whatever is ready, so that both cores stay
    busy when one side has finished; without it, at most one extractor per side at a time (and joint ones alone).
    ``finish`` is called in the calling thread as each one ends. The first error stops new starts and is raised
    once the running extractors have ended.
    """
    side = _modalities(chain)
    names = {ext.name for ext in chain}
    pending, running, ended = list(chain), {}, set()
    error: BaseException | None = None
    with ThreadPoolExecutor(2, thread_name_prefix="emorec-extract") as pool:
        while running or (pending and error is None):
            busy = {side[ext.name] for ext in running.values()}
            while error is None and len(running) < 2:
                ready = [ext for ext in pending if all(d in ended or d not in names for d in ext.requires)]
                if "joint" in busy:
                    ready = []
                elif not same_modality:
                    ready = [ext for ext in ready if side[ext.name] not in busy and not (busy and side[ext.name] == "joint")]
                if not ready:
                    break
                ext = next((e for e in ready if side[e.name] not in busy), ready[0])
                pending.remove(ext)
                running[pool.submit(run, ext)] = ext
                busy.add(side[ext.name])
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                ext = running.pop(future)
                if future.exception() is not None:
                    error = error or future.exception()
                    continue
                ended.add(ext.name)
                finish(ext)
    if error is not None:
        raise error


def expand_paths(paths: Iterable[str | Path], images: bool = False) -> list[Path]:
    """Files named, media files (by extension; still images too with ``images``) inside folders, and matches of quoted
    globs (``"clips/*.mp4"``), sorted."""
    import glob

    out: list[Path] = []
    for p in paths:
        if not Path(p).exists() and any(ch in str(p) for ch in "*?["):
            out += sorted(Path(q) for q in glob.glob(str(p), recursive=True) if Path(q).is_file())
            continue
        p = Path(p)
        if p.is_dir():
            out += walk_files(p, VIDEO_EXTENSIONS + AUDIO_EXTENSIONS + (IMAGE_EXTENSIONS if images else ()))  # symlinked folders followed
        else:
            out.append(p)
    return out


def _exit_with_parent(parent: int) -> None:
    """Make this worker process end when its parent dies, however it dies (SIGKILL included): Linux's parent-death
    signal (``prctl(PR_SET_PDEATHSIG, SIGTERM)``), and an immediate exit if the parent is already gone."""
    import signal
    import sys

    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
        except OSError:
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _init_worker(parent: int | None = None) -> None:
    """One compute thread per worker process (the processes are the parallelism); end with the parent."""
    if parent is not None:
        _exit_with_parent(parent)
    os.environ["EMOREC_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def _worker(path: str, store_root: str, extractors: Sequence[str], params: dict | None) -> tuple[str, list[str], list[str], str | None]:
    """Run in a worker process (or Ray task): extract one file, return only a summary."""
    report = ExtractReport()
    try:
        extract_clip(path, FeatureStore(store_root), extractors, params, report)
    except EmorecError as exc:
        return path, [], [], str(exc)
    except Exception as exc:  # keep the batch going; the message names the file
        return path, [], [], f"{path}: unexpected {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    return path, report.computed.get(path, []), report.reused.get(path, []), None


def _add_media_notes(caught: list[str], notes: list[str]) -> None:
    """Collected media defects (:func:`~emorec.io.media.media_notes`): each becomes a note, its text without the file
    name, once."""
    for message in caught:
        note = message.split(": ", 1)[-1]
        if note not in notes:
            notes.append(note)


def _mask_gaps(record: Record, gaps: list[tuple[float, float]], num_frames: int) -> None:
    """Mark the grid frames of audio timestamp gaps as unobserved in a record's 10 Hz ``mask`` (the silence that fills a
    gap is not a reading)."""
    mask = record.arrays.get("mask")
    if mask is None or mask.shape != (num_frames,):
        return
    for begin, end in gaps:
        mask[span_to_frames(begin, end, num_frames)] = False


def extract_many(
    paths: Iterable[str | Path],
    store: FeatureStore,
    extractors: Sequence[str] = DEFAULT_EXTRACTORS,
    params: dict[str, dict] | None = None,
    workers: int = 1,
    backend: str = "process",
    progress: bool = True,
) -> ExtractReport:
    """Extract features of many files into ``store``.

    Parameters
    ----------
    paths : iterable of str or Path
        Files or folders (searched recursively for media extensions).
    store : FeatureStore
    extractors, params : see :func:`extract_clip`
    workers : int
        Parallel worker processes (``backend="process"``); Ray schedules one task per free CPU.
    backend : {"process", "ray"}
        ``"ray"`` submits one task per file to the Ray cluster given by
        ``RAY_ADDRESS`` (or a local one); needs ``pip install emorec[cluster]``.
        Every node must see the files and the store at the same paths (shared
        file system).
    progress : bool
        Show a progress bar.

    Returns
    -------
    ExtractReport
        Failures are listed in ``report.failures`` (file → message); the other files are done.
    """
    from tqdm.auto import tqdm

    import time

    files = [str(p) for p in expand_paths(paths)]
    report = ExtractReport()
    bar = tqdm(total=len(files), unit="file", disable=not progress, desc="extract")
    last_index = [time.monotonic()]

    def collect(result):
        path, computed, reused, error = result
        if error is None:
            report.computed[path], report.reused[path] = computed, reused
        else:
            report.failures[path] = error
        bar.update(1)
        if computed and time.monotonic() - last_index[0] > INDEX_EVERY:  # what is done stays findable after a kill
            store.write_index()
            last_index[0] = time.monotonic()

    if backend == "ray":
        try:
            import ray
        except ImportError:
            raise EmorecError(None, "the Ray backend needs the 'cluster' extra: pip install 'emorec[cluster]'") from None
        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # emorec runs offline: Ray's usage report only times out
            ray.init(address=os.environ.get("RAY_ADDRESS"), ignore_reinit_error=True, log_to_driver=False)
        task = ray.remote(num_cpus=1)(_worker)
        pending = [task.remote(f, str(store.root), list(extractors), params) for f in files]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            collect(ray.get(done[0]))
    elif workers <= 1 or len(files) <= 1:
        for f in files:
            collect(_worker(f, str(store.root), extractors, params))
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_init_worker, initargs=(os.getpid(),)) as pool:
            futures = [pool.submit(_worker, f, str(store.root), list(extractors), params) for f in files]
            for fut in as_completed(futures):
                collect(fut.result())
    bar.close()
    store.write_index()
    return report


def stored_clips(paths: Sequence[str | Path], store: FeatureStore, extractors: Sequence[str], workers: int = 2,
                 params: dict[str, dict] | None = None) -> Iterator[tuple[str | Path, ClipFeatures]]:
    """Extract ``extractors`` for every file of a training set, then yield ``(path, features)`` in ``paths``' order.

    All files are extracted first (:func:`extract_many`, in parallel; whatever the
    store holds is reused), so one bad file stops the run before any training
    starts, and nothing already computed is lost. ``params``: per-extractor settings (e.g. ``{"face.track": {"rgb_size": 112}}``).

    Raises
    ------
    RuntimeError
        Feature extraction failed for some files (the first three are named).
    """
    paths = list(paths)
    report = extract_many(paths, store, extractors, params, workers=workers, progress=True)
    if report.failures:
        raise RuntimeError(f"feature extraction failed for {len(report.failures)} files: {list(report.failures.items())[:3]}")
    for path in paths:
        yield path, extract_clip(path, store, extractors, params)  # all reused from the store
