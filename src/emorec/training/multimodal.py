"""Multimodal data over the feature store: per example each modality's ``(T, D)`` sequence on the 10 Hz grid
and its mask, the labels and the speaker, at utterance level and at frame level, with speaker-independent folds.

- :class:`MultimodalCorpus` — examples in memory (features read from the store, computed once) and folds;
  :meth:`MultimodalCorpus.from_composite` builds one from a composite split file
  (:mod:`emorec.data.composite`).
- :class:`MultimodalDataset` + :func:`collate` — padded batches in the sequence-model contract
  (:mod:`emorec.models.sequence`): ``x`` dict of (B, T, D_m), ``mask`` dict of (B, T), targets.
- :class:`MultimodalDataModule` — Lightning's data module for one fold (train / val / test loaders).

Modality features (defaults; the widths are in :attr:`MultimodalCorpus.dims`):

- ``audio``: ``audio.moonshine`` (416, Moonshine base-en encoder states pooled per 0.1 s) ‖ ``audio.egemaps`` (25 LLDs pooled per 0.1 s);
- ``video``: emorec's ``face_cnn`` expression embedding (768: 3 networks × 256) per frame;
- ``text``: MiniLM word embeddings (384), each word's vector on the frames the word spans.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import lightning as L
import numpy as np
import torch

from emorec.clip import Record
from emorec.data.composite import COMPOSITE_LABEL, read_composite
from emorec.emotion_space import EMOTIONS, valence_arousal_of
from emorec.models.sequence import FRAME_DIMS, MODALITIES
from emorec.store import FeatureStore

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AUDIO_FEATURES", "Example", "MultimodalCorpus", "MultimodalDataModule", "MultimodalDataset", "av_corpus", "collate", "iemocap_corpus", "lld_corpus", "meld_text_corpus", "sentiment_corpus", "text_examples", "trace_corpus"]

AUDIO_FEATURES = ("audio.moonshine", "audio.egemaps")
"""Stored 10 Hz series concatenated into the audio input."""
FACE_JITTERS = ((0, 0), (2, 0), (-2, 0), (0, 2), (0, -2))
"""Pixel shifts (dx, dy) of a still face image; each frame of a composite shows one, chosen at random."""
_CACHE_VERSION = "1"


@dataclass
class Example:
    """One labelled example: per-modality sequences on the 10 Hz grid.

    Attributes
    ----------
    id, speaker : str
    fold : int
    label : int
        Class index in ``classes`` (per-frame ``frame_labels`` for a frame-level example).
    x : dict of str → (T, D_m) float32
    mask : dict of str → (T,) bool
    frame_labels : (T,) int or None
        Frame-level examples: the class of each frame (-1 where none).
    frame_segments : (T,) int or None
        Frame-level examples: the segment (concatenated example) each frame belongs to.
    frame_va : (T, 2) float or None
        Rated (valence, arousal) per frame (trace corpora; NaN where unrated); None = the class's coordinates.
    index : int
        Position in the corpus (set by :class:`MultimodalDataset`; objectives that keep per-example state use it).
    va : (2,) float or None
        Rated utterance-level (valence, arousal) (NaN where unrated, e.g. a sentiment score as valence only); None = the
        class's coordinates.
    """

    id: str
    speaker: str
    fold: int
    label: int
    x: dict[str, np.ndarray]
    mask: dict[str, np.ndarray]
    frame_labels: np.ndarray | None = None
    frame_segments: np.ndarray | None = None
    frame_va: np.ndarray | None = None
    index: int = -1
    va: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return next(iter(self.x.values())).shape[0]


def _cache_key(kind: str, content: str) -> str:
    return hashlib.sha256(f"{kind}/{_CACHE_VERSION}/{content}".encode()).hexdigest()[:40]


def _cached(store: FeatureStore | None, kind: str, content: str, compute) -> Record:
    """A record computed once and kept in the store (when given) under a key of ``kind`` + ``content``."""
    key = _cache_key(kind, content)
    if store is not None and store.has(key):
        return store.load(key)
    record = compute()
    if store is not None:
        store.save(key, record, {"extractor": kind, "path": content[:200], "params": {}, "deps": {}})
    return record


def _face_embeddings(paths: list[Path], weights_digest: str, store: FeatureStore | None) -> np.ndarray:
    """(num_images, len(FACE_JITTERS), D) face_cnn embeddings of still grey images under each shift."""
    import cv2

    from emorec.features.face import face_cnn_outputs

    def compute() -> Record:
        crops = []
        for p in paths:
            img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
            if img is None:
                from emorec.errors import DatasetError

                raise DatasetError(p, "unreadable face image")
            img = cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA) if img.shape != (48, 48) else img
            for dx, dy in FACE_JITTERS:
                crops.append(cv2.warpAffine(img, np.float32([[1, 0, dx], [0, 1, dy]]), (48, 48), borderMode=cv2.BORDER_REPLICATE))
        emb, _, _ = face_cnn_outputs(np.stack(crops))
        return Record({"embeddings": emb.reshape(len(paths), len(FACE_JITTERS), -1)})

    return _cached(store, "composite.face_cnn", weights_digest + ";" + ";".join(str(p) for p in paths), compute)["embeddings"]


def _word_embeddings(text: str, store: FeatureStore | None) -> tuple[list[str], np.ndarray]:
    from emorec.features.text import normalise_words, word_embeddings

    words = normalise_words(text)
    return words, _cached(store, "composite.minilm", text, lambda: Record({"embeddings": word_embeddings(words)}))["embeddings"]


class MultimodalCorpus:
    """Examples of one corpus with their speaker-independent folds.

    Attributes
    ----------
    examples : list of Example
    classes : tuple of str
    dims : dict of str → int
        Width of each modality's features.
    folds : list of (fold number, test speakers, (N,) bool test mask)
    dataset, protocol : str
        For result files (``composite (label-paired)`` is in ``dataset`` for composites).
    sequences : list of list of int
        Frame-level composites: indices of the examples concatenated into each sequence.
    """

    def __init__(self, examples: list[Example], classes: tuple[str, ...], dims: dict[str, int], dataset: str, protocol: str,
                 sequences: list[list[int]] | None = None):
        self.examples, self.classes, self.dims = examples, tuple(classes), dims
        self.dataset, self.protocol = dataset, protocol
        self.sentiment_scale: float | None = None
        """Sentiment corpora: the score range (3 for MOSI/MOSEI) — valence × scale is the annotated score."""
        self.sequences = sequences or []
        folds = np.array([e.fold for e in examples])
        # a frame-level sequence's speaker is its segments' speakers joined by "+": a fold lists each person once;
        # fold -1 marks training-only examples (e.g. EmoBank sentences for the text branch), never tested on
        self.folds = [(int(k), sorted({str(s) for e in examples if e.fold == k for s in e.speaker.split("+")}), folds == k)
                      for k in sorted(set(folds)) if k >= 0]

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def labels(self) -> np.ndarray:
        return np.array([e.label for e in self.examples])

    def without_speakers(self, speakers) -> MultimodalCorpus:
        """The corpus without the examples of ``speakers`` (frame-level sequences that held one are dropped).

        Raises
        ------
        ValueError
            A speaker that is not in the corpus.
        """
        speakers = set(speakers)
        unknown = speakers - {e.speaker for e in self.examples}
        if unknown:
            raise ValueError(f"speakers not in {self.dataset}: {sorted(unknown)}")
        keep = [i for i, e in enumerate(self.examples) if e.speaker not in speakers]
        index = {old: new for new, old in enumerate(keep)}
        seqs = [[index[i] for i in s] for s in self.sequences if all(i in index for i in s)]
        return MultimodalCorpus([self.examples[i] for i in keep], self.classes, self.dims, self.dataset + f" without speakers {sorted(speakers)}",
                                self.protocol, seqs)

    def frame_level(self) -> MultimodalCorpus:
        """The frame-level corpus: each sequence concatenates its examples; ``frame_labels`` follow the segments.

        Raises
        ------
        ValueError
            The corpus has no sequences (only composites define them), or a sequence crosses folds.
        """
        if not self.sequences:
            raise ValueError(f"{self.dataset}: no frame-level sequences defined")
        out = []
        in_sequences = {i for s in self.sequences for i in s}
        extra = [e for i, e in enumerate(self.examples) if i not in in_sequences and e.fold < 0]  # training-only examples stay as they are
        for k, idx in enumerate(self.sequences):
            parts = [self.examples[i] for i in idx]
            if len({p.fold for p in parts}) != 1:
                raise ValueError(f"sequence {k} mixes folds")
            x = {m: np.concatenate([p.x[m] for p in parts]) for m in parts[0].x}
            mask = {m: np.concatenate([p.mask[m] for p in parts]) for m in parts[0].mask}
            frame_labels = np.concatenate([np.full(p.num_frames, p.label) for p in parts])
            segments = np.concatenate([np.full(p.num_frames, j) for j, p in enumerate(parts)])
            speaker = "+".join(sorted({p.speaker for p in parts}))
            out.append(Example(f"seq{k}", speaker, parts[0].fold, parts[0].label, x, mask, frame_labels, segments))
        corpus = MultimodalCorpus(out + extra, self.classes, self.dims, self.dataset + ", frame-level sequences", self.protocol)
        return corpus

    def with_training_only(self, examples: list[Example], what: str) -> MultimodalCorpus:
        """This corpus plus ``examples`` that join every training set and no test set (their ``fold`` is set to −1)."""
        for e in examples:
            e.fold = -1
        seqs = [list(s) for s in self.sequences]
        return MultimodalCorpus(self.examples + examples, self.classes, self.dims, f"{self.dataset} + {what} (training only)", self.protocol, seqs)

    @classmethod
    def from_composite(cls, split: str | Path, data: str | Path, store: str | Path | FeatureStore | None, workers: int = 2, limit: int | None = None,
                       seed: int = 0) -> MultimodalCorpus:
        """Examples of a composite split file (:func:`emorec.data.composite.write_composite`), features from the store.

        Parameters
        ----------
        split : path of the examples CSV
        data : the data root the split file's paths are relative to (``../shared/data``)
        store : feature store (voice features are extracted into it; face and word embeddings cached in it)
        workers : extraction processes
        limit : keep about this many examples per fold (whole frame-level sequences; smoke runs)
        seed : frame jitter choice

        Raises
        ------
        DatasetError
            Missing split file or source file.
        RuntimeError
            Feature extraction failed for some voice clips.
        """
        from emorec.pipelines.extract import stored_clips
        from emorec.models.weights import weights_digest

        table, sequences, cfg = read_composite(split)
        if limit is not None:  # whole frame-level sequences (already shuffled) of each fold until ``limit`` examples
            keep_ids, kept = set(), []
            for fold in sorted(sequences.fold.unique()):
                n = 0
                for seq in sequences[sequences.fold == fold].itertuples():
                    if n >= limit:
                        break
                    ids = seq.examples.split(";")
                    keep_ids.update(ids)
                    kept.append(seq.Index)
                    n += len(ids)
            table = table[table.id.isin(keep_ids)].reset_index(drop=True)
            sequences = sequences.loc[kept].reset_index(drop=True)
        root = Path(data)
        store = store if store is None or isinstance(store, FeatureStore) else FeatureStore(store)
        rng = np.random.default_rng(seed)
        from emorec.models import model_info

        digest = weights_digest(str(model_info("face_cnn").weights_path))
        voices = dict(stored_clips([root / p for p in table.voice_path], store, (*AUDIO_FEATURES, "audio.vad"), workers))
        examples, dims = [], {}
        for r in table.itertuples():
            clip = voices[root / r.voice_path]
            t = clip.num_frames
            audio = np.concatenate([clip.series[n].data for n in AUDIO_FEATURES], axis=1).astype(np.float32)
            audio_mask = clip.series[AUDIO_FEATURES[0]].mask.copy()
            faces = _face_embeddings([root / p for p in r.face_paths.split(";")], digest, store)
            which = np.minimum(np.arange(t) * len(faces) // t, len(faces) - 1)
            video = faces[which, rng.integers(len(FACE_JITTERS), size=t)].astype(np.float32)
            _, wemb = _word_embeddings(r.text, store)
            text, text_mask = _spread_words(wemb, t, clip.series["audio.vad"].mask if "audio.vad" in clip.series else None)
            x = {"audio": audio, "video": video, "text": text}
            mask = {"audio": audio_mask & bool(r.has_audio), "video": np.full(t, bool(r.has_video)), "text": text_mask & bool(r.has_text)}
            for m in MODALITIES:
                x[m][~mask[m]] = 0.0
            dims = {m: x[m].shape[1] for m in MODALITIES}
            examples.append(Example(r.id, r.voice_speaker, int(r.fold), int(r.label), x, mask))
        index = {e.id: i for i, e in enumerate(examples)}
        seqs = [[index[i] for i in s.split(";")] for s in sequences.examples]
        dataset = (f"{COMPOSITE_LABEL}: {len(examples)} examples (RAVDESS voice × {'CK+/FER2013'} face × "
                   f"{'MELD' if cfg.text == 'meld' else 'RAVDESS statement'} words, seed {cfg.seed}; {Path(split).name})")
        protocol = "C6: composite 6 folds, disjoint in RAVDESS actors, CK+ subjects, FER2013 images and MELD dialogues"
        return cls(examples, EMOTIONS, dims, dataset, protocol, seqs)


def _clip_inputs(clip, dims: dict[str, int]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A clip's stored series as sequence-model inputs: the same conversion the ``tcn_gated`` fusion applies in ``analyze``."""
    from emorec.fusion.tcn_gated import sequence_inputs

    return sequence_inputs(clip, dims)


_MEDIA_FEATURES = (*AUDIO_FEATURES, "audio.vad", "face.cnn", "text.minilm")
_DIMS = FRAME_DIMS


def trace_corpus(root: str | Path, store: str | Path | FeatureStore | None, workers: int = 2, num_folds: int = 5) -> MultimodalCorpus:
    """A frame-level corpus from media with continuous arousal/valence traces (:mod:`emorec.data.traces`: RECOLA, SEWA,
    AVEC-style), features extracted from the media into the store (audio, face, transcribed and aligned words).

    Each recording is one example and one speaker; speakers are dealt round-robin into ``num_folds`` folds
    (speaker-independent). Frames without a rating have no target; there are no classes (labels -1).

    Raises
    ------
    DatasetError
        Missing folder, no media with traces, or a malformed trace.
    RuntimeError
        Feature extraction failed for some files.
    """
    from emorec.data.traces import load_trace_corpus, read_trace, trace_on_grid
    from emorec.pipelines.extract import stored_clips

    table = load_trace_corpus(root)
    store = store if store is None or isinstance(store, FeatureStore) else FeatureStore(store)
    clips = dict(stored_clips(list(table.path), store, _MEDIA_FEATURES, workers))
    examples = []
    speakers = sorted(table.id)
    for r in table.itertuples():
        clip = clips[r.path]
        t = clip.num_frames
        if r.layout == "csv":
            va = trace_on_grid(*read_trace(r.traces), t)[:, [1, 0]]  # (valence, arousal)
        else:
            arousal, valence = r.traces.split(";")
            va = np.concatenate([trace_on_grid(*read_trace(valence), t), trace_on_grid(*read_trace(arousal), t)], axis=1)
        x, mask = _clip_inputs(clip, _DIMS)
        fold = speakers.index(r.id) % min(num_folds, len(speakers))
        examples.append(Example(r.id, r.id, fold, -1, x, mask, np.full(t, -1), np.zeros(t, int), va.astype(np.float32)))
    return MultimodalCorpus(examples, EMOTIONS, dict(_DIMS), f"rated traces: {len(examples)} recordings ({Path(root).name})",
                            f"T{min(num_folds, len(speakers))}: recordings dealt into speaker-independent folds; frame-level rated arousal/valence")


def text_examples(texts: list[str], valence: np.ndarray, arousal: np.ndarray, store: str | Path | FeatureStore | None, frames_per_word: int = 3,
                  ids: list[str] | None = None) -> list[Example]:
    """Text-only frame-level examples with rated targets (e.g. EmoBank sentences): each word's MiniLM vector on
    ``frames_per_word`` frames, audio and video absent, (valence, arousal) in [-1, 1] on every word frame, no class.
    They train a model's text branch (patent 000's text features) on rated dimensions; fold −1 (training only)."""
    store = store if store is None or isinstance(store, FeatureStore) else FeatureStore(store)
    out = []
    for i, (text, v, a) in enumerate(zip(texts, valence, arousal)):
        x, mask = _text_only_inputs(text, store, frames_per_word)
        if x is None:
            continue
        t = len(mask["text"])
        va = np.tile(np.array([[v, a]], np.float32), (t, 1))
        out.append(Example(ids[i] if ids else f"text{i}", "text", -1, -1, x, mask, np.full(t, -1), np.zeros(t, int), va))
    return out


def _text_only_inputs(text: str, store: FeatureStore | None, frames_per_word: int) -> tuple[dict | None, dict | None]:
    """A sentence as sequence-model inputs: each word's MiniLM vector on ``frames_per_word`` frames, audio and video absent
    (None, None for a sentence without a word)."""
    words, wemb = _word_embeddings(text, store)
    if not words:
        return None, None
    t = len(words) * frames_per_word
    x = {"audio": np.zeros((t, _DIMS["audio"]), np.float32), "video": np.zeros((t, _DIMS["video"]), np.float32),
         "text": np.repeat(wemb, frames_per_word, axis=0).astype(np.float32)}
    return x, {"audio": np.zeros(t, bool), "video": np.zeros(t, bool), "text": np.ones(t, bool)}


def meld_text_corpus(root: str | Path, store: str | Path | FeatureStore | None, frames_per_word: int = 3, limit: int | None = None, seed: int = 0) -> MultimodalCorpus:
    """MELD (Poria et al., ACL 2019) as text-only utterance examples on its official split: the training utterances train
    (fold −1), the test utterances are the one test fold (fold 0); the dev split is not used (fixed schedules select
    nothing). Classes: MELD's seven mapped onto :data:`~emorec.emotion_space.EMOTIONS` (joy → happy, …). Audio and video are
    absent (all-False masks). ``limit``: keep this many utterances per split (seeded sample; smoke runs).

    Raises
    ------
    DatasetError
        Missing or malformed MELD CSV files.
    """
    import pandas as pd

    from emorec.data.text import load_meld
    from emorec.emotion_space import to_common

    table = load_meld(root)
    table = table[table.split != "dev"]
    if limit is not None:
        table = pd.concat([g.sample(min(limit, len(g)), random_state=seed) for _, g in table.groupby("split", sort=False)])
    store = store if store is None or isinstance(store, FeatureStore) else FeatureStore(store)
    examples = []
    for r in table.itertuples():
        x, mask = _text_only_inputs(r.text, store, frames_per_word)
        if x is None:
            continue
        examples.append(Example(f"{r.split}/{r.dialogue}_{r.utterance}", f"{r.split}/dialogue{r.dialogue}", 0 if r.split == "test" else -1,
                                EMOTIONS.index(to_common(r.emotion)), x, mask))
    n_test = sum(e.fold == 0 for e in examples)
    return MultimodalCorpus(examples, EMOTIONS, dict(_DIMS), f"MELD text only: {len(examples) - n_test} training + {n_test} test utterances ({Path(root).name})",
                            "MELD official split: train → test (dev unused); text only, audio and video absent")


def sentiment_corpus(sentiment_set, splits: tuple[str, ...] = ("train", "test")) -> MultimodalCorpus:
    """A :class:`~emorec.data.sentiment.SentimentSet` (CMU-MOSI/MOSEI ``.csd`` or MMSA features) as utterance-level examples
    on its official split: ``train`` utterances train (fold −1), ``test`` utterances are the one test fold (fold 0); ``valid``
    is unused (fixed schedules select nothing). Targets: the sentiment score / ``scale`` as valence in [-1, 1], arousal
    unrated, no class (``classes`` is empty: models for it have ``num_classes=0``). Each modality keeps its own sequence length (masks mark the observed steps; the utterance-level models
    encode each modality separately). The corpus gets ``sentiment_scale`` so scores are reported on the original scale
    (:func:`emorec.metrics.sentiment_report`).

    Raises
    ------
    ValueError
        No utterance in a training or test split.
    """
    utts = [u for u in sentiment_set.utterances if u.split in splits]
    dims = {}
    for u in utts:
        for m, v in u.x.items():
            dims.setdefault(m, v.shape[1])
    if not any(u.split == "test" for u in utts) or not any(u.split == "train" for u in utts):
        raise ValueError(f"{sentiment_set.name}: needs utterances in both the train and the test split")
    examples = []
    for u in utts:
        t = max([1, *(len(v) for v in u.x.values())])
        x, mask = {}, {}
        for m, d in dims.items():
            v = u.x.get(m, np.zeros((0, d), np.float32))
            x[m] = np.zeros((t, d), np.float32)
            x[m][: len(v)] = v
            mask[m] = np.arange(t) < len(v)
        examples.append(Example(u.id, u.video, 0 if u.split == "test" else -1, -1, x, mask, va=np.array([u.score / sentiment_set.scale, np.nan], np.float32)))
    n_test = sum(e.fold == 0 for e in examples)
    corpus = MultimodalCorpus(examples, (), dims, f"{sentiment_set.name}: {len(examples) - n_test} training + {n_test} test utterances ({sentiment_set.source})",
                              f"{sentiment_set.name} official split: train → test (valid unused); sentiment regression")
    corpus.sentiment_scale = sentiment_set.scale
    return corpus


def _spread_words(wemb: np.ndarray, t: int, speech: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Word vectors (n, D) spread evenly over the speech frames of a ``t``-frame clip (all frames without speech activity):
    (t, D) text features and their (t,) mask — for corpora with a transcript but no word timings."""
    text = np.zeros((t, wemb.shape[1]), np.float32)
    mask = np.zeros(t, bool)
    active = np.flatnonzero(speech) if speech is not None else np.array([], int)
    first, last = (active[0], active[-1] + 1) if active.size else (0, t)
    if len(wemb):
        bounds = np.linspace(first, last, len(wemb) + 1).astype(int)
        for w in range(len(wemb)):
            span = slice(bounds[w], max(bounds[w + 1], bounds[w] + 1))
            text[span], mask[span] = wemb[w], True
    return text, mask


def lld_corpus(root: str | Path, store: str | Path | FeatureStore | None, corpus: str = "ravdess", workers: int = 2,
               limit_actors: tuple[int, ...] | None = None) -> MultimodalCorpus:
    """A speech emotion corpus (:func:`emorec.data.speech.speech_corpus`: RAVDESS on the EmoBox actor folds, or EMO-DB
    leave-one-speaker-out) as utterance-level examples of frame-level eGeMAPS LLDs: ``x["audio"]`` (T, 25) at 100 Hz from
    the store's ``audio.egemaps`` — the acoustic branch of ``masked_pretrain``; video and text absent. ``limit_actors``:
    RAVDESS actors to keep (smoke runs).

    Raises
    ------
    DatasetError, ValueError
        See :func:`~emorec.data.speech.speech_corpus`.
    RuntimeError
        Feature extraction failed for some files.
    """
    from emorec.data.speech import speech_corpus
    from emorec.pipelines.extract import stored_clips

    sc = speech_corpus(root, corpus, limit_actors=limit_actors)
    store = store if store is None or isinstance(store, FeatureStore) else FeatureStore(store)
    clips = dict(stored_clips(list(sc.table.path), store, ("audio.egemaps",), workers))
    fold_of = np.full(len(sc.table), -1)
    for k, _, test in sc.folds:
        fold_of[test] = k
    examples = []
    for i, path in enumerate(sc.table.path):
        lld = clips[path].records["audio.egemaps"]["lld"].astype(np.float32)
        t = max(len(lld), 1)
        x = {"audio": lld if len(lld) else np.zeros((1, lld.shape[1]), np.float32)}
        examples.append(Example(Path(path).stem, str(sc.speakers[i]), int(fold_of[i]), int(sc.labels[i]), x, {"audio": np.arange(t) < len(lld)}))
    return MultimodalCorpus(examples, sc.classes, {"audio": 25}, sc.dataset + "; eGeMAPS LLDs, 100 Hz", sc.protocol)


def iemocap_corpus(root: str | Path, store: str | Path | FeatureStore | None, classes: str = "4", workers: int = 2) -> MultimodalCorpus:
    """IEMOCAP turns (:func:`emorec.data.iemocap.load_iemocap`) as utterance-level examples: audio features of each turn's
    wav from the store, its transcript's MiniLM word vectors spread over the speech frames; video absent (IEMOCAP's
    split-screen dialog videos are not read yet). Five leave-one-session-out folds; ``classes`` ``"4"`` or ``"7"``.

    Raises
    ------
    DatasetError, ValueError
        See :func:`~emorec.data.iemocap.load_iemocap`.
    RuntimeError
        Feature extraction failed for some wav files.
    """
    from emorec.data.iemocap import CLASS_SETS, load_iemocap
    from emorec.pipelines.extract import stored_clips

    table = load_iemocap(root, classes)
    store = store if store is None or isinstance(store, FeatureStore) else FeatureStore(store)
    clips = dict(stored_clips(list(table.wav), store, (*AUDIO_FEATURES, "audio.vad"), workers))
    examples = []
    for r in table.itertuples():
        clip = clips[r.wav]
        t = clip.num_frames
        audio = np.concatenate([clip.series[n].data for n in AUDIO_FEATURES], axis=1).astype(np.float32)
        audio_mask = clip.series[AUDIO_FEATURES[0]].mask.copy()
        _, wemb = _word_embeddings(r.text, store)
        text, text_mask = _spread_words(wemb, t, clip.series["audio.vad"].mask if "audio.vad" in clip.series else None)
        x = {"audio": audio * audio_mask[:, None], "video": np.zeros((t, _DIMS["video"]), np.float32), "text": text}
        mask = {"audio": audio_mask, "video": np.zeros(t, bool), "text": text_mask}
        examples.append(Example(r.id, r.speaker, int(r.fold), int(r.label), x, mask))
    return MultimodalCorpus(examples, CLASS_SETS[classes], dict(_DIMS), f"IEMOCAP {classes}-class: {len(examples)} turns, audio + transcript ({Path(root).name})",
                            "leave-one-session-out (5 folds, speaker-independent)")


def av_corpus(name: str, root: str | Path, store: str | Path | FeatureStore | None, workers: int = 2, num_folds: int = 6,
              folds: str = "speaker", seed: int = 0) -> MultimodalCorpus:
    """A labelled real audio-visual corpus (:data:`emorec.data.av_clips.AV_CORPORA`, e.g. a user's RAVDESS audio-video copy)
    with features extracted from the media into the store; each clip one example of its common class, frame targets from
    the class. Folds (:func:`av_folds`): ``speaker`` — RAVDESS's EmoBox actor folds, other corpora's speakers dealt
    round-robin into ``num_folds``; ``random5`` — clips dealt into 5 class-stratified random folds (seeded; the protocol of
    the 004 paper on RAVDESS and eNTERFACE'05; *not* speaker-independent, and the results say so).

    Raises
    ------
    DatasetError, ValueError
        Missing folder, unknown corpus, no labelled clip.
    RuntimeError
        Feature extraction failed for some files.
    """
    from emorec.data.av_clips import load_av_corpus
    from emorec.pipelines.extract import stored_clips

    table = load_av_corpus(name, root)
    table = table[table.label.notna()].reset_index(drop=True)
    store = store if store is None or isinstance(store, FeatureStore) else FeatureStore(store)
    clips = dict(stored_clips(list(table.path), store, _MEDIA_FEATURES, workers))
    fold, protocol = av_folds(name, table, folds, num_folds, seed)
    examples = []
    for r, k in zip(table.itertuples(), fold):
        clip = clips[r.path]
        x, mask = _clip_inputs(clip, _DIMS)
        label = EMOTIONS.index(r.label)
        examples.append(Example(r.id, r.speaker, int(k), label, x, mask, np.full(clip.num_frames, label), np.zeros(clip.num_frames, int)))
    return MultimodalCorpus(examples, EMOTIONS, dict(_DIMS), f"{name}: {len(examples)} real audio-visual clips ({Path(root).name})", protocol,
                            [[i] for i in range(len(examples))])


def av_folds(name: str, table: pd.DataFrame, folds: str = "speaker", num_folds: int = 6, seed: int = 0) -> tuple[np.ndarray, str]:
    """Fold of each clip of an audio-visual corpus table (columns speaker, label) and the protocol text.

    ``speaker``: RAVDESS (``ravdess_video*``) on the EmoBox actor folds, other corpora's speakers dealt round-robin into
    ``num_folds`` (speaker-independent); ``random5``: 5 class-stratified random folds of clips, seeded (speakers recur
    across folds — the 004 paper's protocol, reported as such).

    Raises
    ------
    ValueError
        Unknown ``folds``.
    """
    if folds == "random5":
        from sklearn.model_selection import StratifiedKFold

        fold = np.zeros(len(table), int)
        for k, (_, test) in enumerate(StratifiedKFold(5, shuffle=True, random_state=seed).split(np.zeros(len(table)), table.label.astype(str))):
            fold[test] = k
        return fold, f"random 5-fold (class-stratified, seed {seed}) over clips: NOT speaker-independent (the 004 paper's protocol)"
    if folds != "speaker":
        raise ValueError(f"folds must be 'speaker' (speaker-independent) or 'random5' (the 004 paper's random 5-fold), not {folds!r}")
    speakers = sorted(table.speaker.unique())
    if name.startswith("ravdess_video"):
        from emorec.data.ravdess import fold_of_actor

        fold_of = {s: fold_of_actor(int(s.split("_")[1])) for s in speakers}
        protocol = "R6-AV: RAVDESS audio-video, EmoBox 6 actor-independent folds"
    else:
        fold_of = {s: i % min(num_folds, len(speakers)) for i, s in enumerate(speakers)}
        protocol = f"speakers dealt into {min(num_folds, len(speakers))} speaker-independent folds"
    return np.array([fold_of[s] for s in table.speaker]), protocol


class MultimodalDataset(torch.utils.data.Dataset):
    """Examples of a corpus (a subset by index) as tensors; ``crop`` frames at most per training item (random crop)."""

    def __init__(self, corpus: MultimodalCorpus, indices: Sequence[int], crop: int | None = None, seed: int = 0):
        self.corpus, self.indices, self.crop = corpus, list(indices), crop
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> Example:
        e = replace(self.corpus.examples[self.indices[i]], index=self.indices[i])
        if self.crop and e.num_frames > self.crop:
            s = int(self.rng.integers(0, e.num_frames - self.crop + 1))
            cut = slice(s, s + self.crop)
            fl = e.frame_labels[cut] if e.frame_labels is not None else None
            fs = e.frame_segments[cut] if e.frame_segments is not None else None
            fv = e.frame_va[cut] if e.frame_va is not None else None
            return Example(e.id, e.speaker, e.fold, e.label, {m: v[cut] for m, v in e.x.items()}, {m: v[cut] for m, v in e.mask.items()}, fl, fs, fv, e.index, e.va)
        return e


def collate(items: list[Example], classes: tuple[str, ...] = EMOTIONS) -> tuple[tuple[dict, dict], dict]:
    """Pad examples into ``((x, mask), targets)``.

    Returns
    -------
    x : dict of str → (B, T_max_m, D_m) float32 (T_max_m: the longest of modality m; the same for every modality except in pixel corpora)
    mask : dict of str → (B, T_max) bool (False on padding)
    targets : dict
        ``label`` (B,) int64, ``va`` (B, 2) float32 (the example's rated valence/arousal, else its class's), ``va_rated`` (B, 2)
        bool (utterance targets present per column), ``frames`` (B, T_max) bool (real frames),
        ``frame_label`` (B, T_max) int64 (-1 on padding or without a class), ``frame_va`` (B, T_max, 2) (rated traces where
        the example has them, else the class's coordinates), ``rated`` (B, T_max) bool (frames with a valence/arousal target),
        ``frame_segment`` (B, T_max) int64 (the segment of each frame in a frame-level sequence, 0 for an utterance, -1 on padding),
        ``index`` (B,) int64 (each example's position in its corpus, -1 if not from a :class:`MultimodalDataset`).
    """
    t = max(e.num_frames for e in items)
    b = len(items)
    va_of = torch.from_numpy(valence_arousal_of(classes)) if classes else torch.zeros(1, 2)  # no classes: regression corpora
    t_of = {m: max(e.x[m].shape[0] for e in items) for m in items[0].x}  # the same for every modality, except pixel corpora
    x = {m: torch.zeros(b, t_of[m], items[0].x[m].shape[1]) for m in items[0].x}
    mask = {m: torch.zeros(b, t_of[m], dtype=torch.bool) for m in items[0].x}
    frames = torch.zeros(b, t, dtype=torch.bool)
    frame_label = torch.full((b, t), -1, dtype=torch.long)
    frame_segment = torch.full((b, t), -1, dtype=torch.long)
    for i, e in enumerate(items):
        n = e.num_frames
        for m in e.x:
            x[m][i, : len(e.x[m])] = torch.from_numpy(e.x[m])
            mask[m][i, : len(e.x[m])] = torch.from_numpy(e.mask[m])
        frames[i, :n] = True
        frame_label[i, :n] = torch.from_numpy(e.frame_labels) if e.frame_labels is not None else e.label
        frame_segment[i, :n] = torch.from_numpy(e.frame_segments) if e.frame_segments is not None else 0
    label = torch.tensor([e.label for e in items])
    frame_va = va_of[frame_label.clamp(min=0)] * frames[..., None]
    rated = frames.clone()  # frames with a valence/arousal target
    for i, e in enumerate(items):
        if e.frame_va is not None:
            n = e.num_frames
            va = torch.from_numpy(np.asarray(e.frame_va, np.float32))
            ok = torch.isfinite(va).all(dim=1)
            frame_va[i, :n] = torch.nan_to_num(va) * ok[:, None]
            rated[i, :n] = ok
    utterance_va = va_of[label.clamp(min=0)]
    va_rated = (label >= 0)[:, None].expand(-1, 2).clone()  # (B, 2): utterance targets per column
    for i, e in enumerate(items):
        if e.va is not None:
            v = torch.as_tensor(np.asarray(e.va, np.float32))
            va_rated[i] = torch.isfinite(v)
            utterance_va[i] = torch.nan_to_num(v)
    return (x, mask), {"label": label, "va": utterance_va, "va_rated": va_rated, "frames": frames, "frame_label": frame_label, "frame_va": frame_va, "frame_segment": frame_segment,
                       "rated": rated, "index": torch.tensor([e.index for e in items])}


class MultimodalDataModule(L.LightningDataModule):
    """Train / val / test loaders of one speaker-independent fold, as a Lightning ``LightningDataModule``.

    The test fold is ``fold``; with ``validate`` the next fold in order is held out for validation (its speakers
    are in neither of the others), the rest train.

    Parameters
    ----------
    corpus : MultimodalCorpus
    fold : int
    batch_size : int
    crop : int or None
        Training items are random crops of at most this many frames.
    validate : bool
        Hold out a validation fold (else ``val_dataloader`` returns None).
    seed : int
    """

    def __init__(self, corpus: MultimodalCorpus, fold: int, batch_size: int = 16, crop: int | None = None, validate: bool = False, seed: int = 0):
        super().__init__()
        self.corpus, self.fold, self.batch_size, self.crop, self.validate, self.seed = corpus, fold, batch_size, crop, validate, seed
        self.splits: dict[str, np.ndarray] = {}

    def setup(self, stage: str | None = None) -> None:
        masks = {k: m for k, _, m in self.corpus.folds}
        order = list(masks)
        test = masks[self.fold]
        val = masks[order[(order.index(self.fold) + 1) % len(order)]] if self.validate else np.zeros_like(test)
        self.splits = {"train": np.flatnonzero(~test & ~val), "val": np.flatnonzero(val), "test": np.flatnonzero(test)}

    def _loader(self, part: str, shuffle: bool, crop: int | None):
        if not self.splits:
            self.setup()
        ds = MultimodalDataset(self.corpus, self.splits[part], crop, self.seed)
        return torch.utils.data.DataLoader(ds, batch_size=self.batch_size, shuffle=shuffle, collate_fn=partial(collate, classes=self.corpus.classes))

    def train_dataloader(self):
        return self._loader("train", True, self.crop)

    def val_dataloader(self):
        return self._loader("val", False, None) if self.validate else None

    def test_dataloader(self):
        return self._loader("test", False, None)
