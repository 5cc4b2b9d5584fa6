"""Composite (label-paired) tri-modal corpora: the documented stand-in for a labelled corpus with speech, face and words.

No labelled corpus with all three modalities can be obtained here (IEMOCAP, MOSI,
RAVDESS video, MELD media are not available; ``../shared/data/README.md``). The
seed model families therefore train on *composites*: each example pairs, **within
one emotion class**, a voice clip, a face item and an utterance's words drawn from
different corpora:

- voice: a RAVDESS speech clip (24 actors; ``calm`` → neutral by :func:`~emorec.emotion_space.to_common`);
- face: a CK+ sequence (its three peak frames; 118 subjects, no neutral) with probability
  ``ckplus_rate`` where CK+ has the class, else a FER2013 *Training* image (no identities);
  the face is shown for the whole clip, with small random shifts per frame (the dataset adds them);
- words: a MELD utterance of the same class (``text="meld"``), or the RAVDESS clip's own statement
  (``text="ravdess"``: lexically neutral, so the words carry no emotion — a control).

**Folds** follow RAVDESS's EmoBox 6 actor-independent folds; CK+ subjects are dealt into
6 folds (round-robin over sorted subject ids), FER2013 images and MELD dialogues by a hash of their
id — an example only pairs items of its own fold, so a test fold shares no RAVDESS actor, no
CK+ subject, no FER2013 image and no MELD dialogue with training. (FER2013 has no identity labels and
MELD's speakers are the same sitcom cast in every dialogue: for these two, disjointness holds for
items, not people; results say so.)

**Missing modalities** are simulated: each modality is dropped with its rate (``drop_*``), never all
three, so that the models' masks are exercised.

**Frame-level composites** (``sequences``): the examples of one fold are shuffled and concatenated
``segments_per_sequence`` at a time into longer sequences whose per-frame targets follow the
segments' classes (class → valence/arousal by :mod:`emorec.emotion_space`).

Everything is deterministic from ``seed`` and written as split files (CSV) with paths relative to
the data root. Results on composites are labelled "composite (label-paired)" and are never mixed
with results on real audio-visual clips.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emorec.data.images import load_ckplus, load_fer2013, subject_folds
from emorec.data.ravdess import fold_of_actor, load_ravdess
from emorec.data.text import load_meld
from emorec.emotion_space import EMOTIONS, to_common
from emorec.errors import DatasetError

__all__ = ["COMPOSITE_LABEL", "CompositeConfig", "build_composite", "read_composite", "write_composite"]

COMPOSITE_LABEL = "composite (label-paired)"
"""How every result on a composite corpus is labelled."""

NUM_FOLDS = 6
RAVDESS_STATEMENTS = {1: "Kids are talking by the door", 2: "Dogs are sitting by the door"}


@dataclass
class CompositeConfig:
    """Settings of a composite corpus (one set of defaults; stored in the split file's sidecar JSON).

    Attributes
    ----------
    seed : int
    text : {"meld", "ravdess"}
        Where the words come from (see the module docstring).
    ckplus_rate : float
        Probability of a CK+ sequence as the face where CK+ has the class (else FER2013).
    drop_audio, drop_video, drop_text : float
        Probability of dropping each modality from an example.
    segments_per_sequence : int
        Examples concatenated into one frame-level sequence.
    actors : tuple of int or None
        RAVDESS actors to use (None = all 24; fewer for smoke runs).
    """

    seed: int = 0
    text: str = "meld"
    ckplus_rate: float = 0.5
    drop_audio: float = 0.1
    drop_video: float = 0.2
    drop_text: float = 0.2
    segments_per_sequence: int = 4
    actors: tuple[int, ...] | None = None


def _hash_fold(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % NUM_FOLDS


def _relative(path: str, root: Path) -> str:
    return Path(path).resolve().relative_to(root.resolve()).as_posix()


def build_composite(data: str | Path, config: CompositeConfig | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build a composite corpus from the corpora under ``data`` (e.g. ``../shared/data``).

    Returns
    -------
    examples : DataFrame
        One row per example: id, fold, emotion (common class), label (index in EMOTIONS), voice_path, voice_speaker,
        face_kind (``ckplus`` or ``fer2013``), face_id, face_subject, face_paths (";"-joined), text_source, text_id,
        text, has_audio, has_video, has_text. Paths are relative to ``data``.
    sequences : DataFrame
        One row per frame-level sequence: sequence, fold, examples (";"-joined example ids, in order).

    Raises
    ------
    DatasetError
        A source corpus is missing, or a (class, fold) has no item to pair with.
    ValueError
        Bad settings.
    """
    cfg = config or CompositeConfig()
    if cfg.text not in ("meld", "ravdess"):
        raise ValueError(f"composite text source must be 'meld' or 'ravdess', not {cfg.text!r}")
    for name in ("drop_audio", "drop_video", "drop_text", "ckplus_rate"):
        if not 0.0 <= getattr(cfg, name) <= 1.0:
            raise ValueError(f"composite {name} must be in [0, 1], not {getattr(cfg, name)}")
    root = Path(data)
    rng = np.random.default_rng(cfg.seed)
    voice = load_ravdess(root / "ravdess_speech_16k")
    if cfg.actors is not None:
        voice = voice[voice.actor.isin(cfg.actors)]
    voice = voice.assign(common=[to_common(e) for e in voice.emotion], fold=[fold_of_actor(a) for a in voice.actor]).reset_index(drop=True)

    ck = load_ckplus(root / "ckplus48")
    ck["fold"] = subject_folds(ck.subject, NUM_FOLDS)
    ck_seq = ck.groupby("sequence").agg(subject=("subject", "first"), emotion=("emotion", "first"), fold=("fold", "first"), paths=("path", lambda p: ";".join(sorted(p)))).reset_index()
    ck_seq["common"] = [to_common(e) for e in ck_seq.emotion]
    ck_seq = ck_seq[ck_seq.emotion != "contempt"]  # contempt has no common class of its own
    fer = load_fer2013(root / "fer2013")
    fer = fer[fer.split == "train"].copy()
    fer["common"] = [to_common(e) for e in fer.emotion]
    fer["fold"] = [_hash_fold(Path(p).name) for p in fer.path]
    if cfg.text == "meld":
        meld = load_meld(root / "meld")
        meld = meld[meld.text.str.split().str.len() >= 3].copy()  # at least three words
        meld["common"] = [to_common(e) for e in meld.emotion]
        meld["fold"] = [_hash_fold(f"{s}/{d}") for s, d in zip(meld.split, meld.dialogue)]
        meld["id"] = [f"{s}/{d}_{u}" for s, d, u in zip(meld.split, meld.dialogue, meld.utterance)]

    def pools(table: pd.DataFrame) -> dict[tuple[str, int], list[int]]:
        out: dict[tuple[str, int], list[int]] = {}
        for i, (c, f) in enumerate(zip(table.common, table.fold)):
            out.setdefault((c, f), []).append(i)
        return {k: list(rng.permutation(v)) for k, v in out.items()}

    def draw(pool: dict, key, used: dict) -> int | None:
        items = pool.get(key)
        if not items:
            return None
        k = used.get(key, 0)
        used[key] = k + 1
        return items[k % len(items)]  # each item once before any repeats

    ck_pool, fer_pool = pools(ck_seq.reset_index(drop=True)), pools(fer.reset_index(drop=True))
    ck_seq, fer = ck_seq.reset_index(drop=True), fer.reset_index(drop=True)
    meld_pool = pools(meld.reset_index(drop=True)) if cfg.text == "meld" else {}
    if cfg.text == "meld":
        meld = meld.reset_index(drop=True)
    used: dict = {"ck": {}, "fer": {}, "meld": {}}
    rows = []
    for i, v in voice.iterrows():
        key = (v.common, int(v.fold))
        use_ck = key in ck_pool and rng.random() < cfg.ckplus_rate
        if use_ck:
            j = draw(ck_pool, key, used["ck"])
            face = ("ckplus", ck_seq.sequence[j], ck_seq.subject[j], ";".join(_relative(p, root) for p in ck_seq.paths[j].split(";")))
        else:
            j = draw(fer_pool, key, used["fer"])
            if j is None:
                raise DatasetError(root / "fer2013", f"no FER2013 training image of class {v.common} in fold {key[1]} to pair with")
            face = ("fer2013", Path(fer.path[j]).stem, "", _relative(fer.path[j], root))
        if cfg.text == "meld":
            j = draw(meld_pool, key, used["meld"])
            if j is None:
                raise DatasetError(root / "meld", f"no MELD utterance of class {v.common} in fold {key[1]} to pair with")
            text = ("meld", meld.id[j], meld.text[j])
        else:
            statement = int(Path(v.path).stem.split("-")[4])
            text = ("ravdess", f"statement{statement}", RAVDESS_STATEMENTS[statement])
        keep = rng.random(3) >= np.array([cfg.drop_audio, cfg.drop_video, cfg.drop_text])
        if not keep.any():
            keep[rng.integers(3)] = True
        rows.append({
            "id": f"c{cfg.seed}_{i:05d}", "fold": int(v.fold), "emotion": v.common, "label": EMOTIONS.index(v.common),
            "voice_path": _relative(v.path, root), "voice_speaker": f"ravdess_{int(v.actor):02d}",
            "face_kind": face[0], "face_id": face[1], "face_subject": face[2], "face_paths": face[3],
            "text_source": text[0], "text_id": text[1], "text": text[2],
            "has_audio": bool(keep[0]), "has_video": bool(keep[1]), "has_text": bool(keep[2]),
        })
    examples = pd.DataFrame(rows)
    seq_rows = []
    for fold in sorted(examples.fold.unique()):
        ids = list(rng.permutation(examples.id[examples.fold == fold].to_numpy()))
        n = cfg.segments_per_sequence
        for k in range(0, len(ids), n):
            seq_rows.append({"sequence": f"s{cfg.seed}_{fold}_{k // n:04d}", "fold": int(fold), "examples": ";".join(ids[k : k + n])})
    return examples, pd.DataFrame(seq_rows)


def write_composite(examples: pd.DataFrame, sequences: pd.DataFrame, config: CompositeConfig, out: str | Path) -> list[Path]:
    """Write ``<out>.csv`` (examples), ``<out>_sequences.csv`` and ``<out>.json`` (the config) — the split files."""
    import json

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    base = out.with_suffix("")
    paths = [base.with_suffix(".csv"), base.parent / f"{base.name}_sequences.csv", base.with_suffix(".json")]
    examples.to_csv(paths[0], index=False)
    sequences.to_csv(paths[1], index=False)
    paths[2].write_text(json.dumps({"kind": COMPOSITE_LABEL, "config": asdict(config)}, indent=1))
    return paths


def read_composite(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, CompositeConfig]:
    """Read the split files :func:`write_composite` wrote (``path`` = the examples CSV).

    Raises
    ------
    DatasetError
        Missing file or not a composite split file.
    """
    import json

    path = Path(path)
    base = path.with_suffix("")
    files = [base.with_suffix(".csv"), base.parent / f"{base.name}_sequences.csv", base.with_suffix(".json")]
    for f in files:
        if not f.is_file():
            raise DatasetError(f, "composite split file not found (write it with `emorec composite`)")
    examples = pd.read_csv(files[0], keep_default_na=False)
    need = {"id", "fold", "label", "voice_path", "face_paths", "text", "has_audio", "has_video", "has_text"}
    if need - set(examples.columns):
        raise DatasetError(files[0], f"not a composite split file (missing columns {sorted(need - set(examples.columns))})")
    meta = json.loads(files[2].read_text())
    cfg = meta.get("config", {})
    if cfg.get("actors") is not None:
        cfg["actors"] = tuple(cfg["actors"])
    return examples, pd.read_csv(files[1]), CompositeConfig(**cfg)
