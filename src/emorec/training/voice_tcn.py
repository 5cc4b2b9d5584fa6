"""Train and evaluate :class:`~emorec.models.voice_tcn.VoiceTCN` on RAVDESS (+ EMO-DB) or EMO-DB.

Protocol (:func:`emorec.data.speech.speech_corpus`, the same folds as the voice
probe): RAVDESS — EmoBox 6 actor-independent folds, 8 classes; EMO-DB —
leave-one-speaker-out. For each test fold a network is trained on the other
folds with a fixed schedule (no dev set, no epoch or setting chosen on any
fold's score: every setting of :class:`VoiceTCNConfig` was fixed before the
first run), then scored on the test fold: UA, WA, and the CCC of its valence
and arousal outputs against the classes' proxy coordinates. The saved model is
trained the same way on every speaker.

Features come from the feature store (``audio.moonshine`` block states,
``audio.egemaps`` LLDs), so a second run computes nothing; each fold's
Lightning run resumes from its ``last.ckpt``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import torch

from emorec.data.speech import speech_corpus
from emorec.emotion_space import valence_arousal_of
from emorec.evaluation.results import git_commit
from emorec.evaluation.runner import cross_validate, result_document, write_result
from emorec.models.speech_encoder import select_blocks
from emorec.models.voice_tcn import VoiceTCN, frame_inputs, pad_batch
from emorec.pipelines.extract import stored_clips
from emorec.store import FeatureStore
from emorec.training.harness import TrainConfig, fit

__all__ = ["VoiceTCNConfig", "clip_sequences", "train_voice_tcn"]

EXTRACTORS = ("audio.moonshine", "audio.egemaps")
STATES_PER_SECOND = 41.0  # Moonshine base-en encoder states per second (approximate, for crop lengths)


@dataclass
class VoiceTCNConfig(TrainConfig):
    """Settings of a voice_tcn run (common fields: :class:`~emorec.training.harness.TrainConfig`).

    Attributes
    ----------
    data, corpus, add_emodb, limit_actors
        Corpus (see :func:`emorec.data.speech.speech_corpus`).
    store : str
        Feature store.
    blocks : tuple of int
        Encoder blocks in the input (all that ``audio.moonshine`` stores; the network weighs them).
    hidden, dilations, dropout
        Network (:class:`~emorec.models.voice_tcn.VoiceTCN`).
    crop : float
        Training crops: a random span of at most this many seconds of each clip (full clips at test).
    affect_weight, label_smoothing
        Loss (:class:`~emorec.tasks.ClassAffectTask`); cross-entropy is class-balanced.
    folds_only : tuple of int or None
        Run these test folds only (smoke runs); None = all.
    """

    data: str = "../shared/data/ravdess_speech_16k"
    corpus: str = "ravdess"
    add_emodb: str | None = None
    limit_actors: tuple[int, ...] | None = None
    store: str = "runs/store_ravdess"
    run_dir: str = "runs/voice_tcn"
    blocks: tuple[int, ...] = (2, 3, 4, 5)
    hidden: int = 128
    dilations: tuple[int, ...] = (1, 2, 4)
    dropout: float = 0.3
    crop: float = 3.0
    affect_weight: float = 0.5
    label_smoothing: float = 0.1
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-2
    folds_only: tuple[int, ...] | None = None
    workers: int = 2
    out: str | None = "src/emorec/weights/voice_tcn.safetensors"
    results: str | None = "results/voice_tcn_ravdess.json"


def clip_sequences(paths, store: FeatureStore, blocks: tuple[int, ...], workers: int = 2) -> list[np.ndarray]:
    """Network input (num_states, len(blocks) × 416 + 25) of every clip (:func:`~emorec.models.voice_tcn.frame_inputs`).

    Raises
    ------
    RuntimeError
        Feature extraction failed for some files.
    ValueError
        A clip's features lack one of ``blocks``.
    """
    out = []
    for path, clip in stored_clips(paths, store, EXTRACTORS, workers):
        rec, lld = clip.records["audio.moonshine"], clip.records["audio.egemaps"]
        try:
            states = select_blocks(rec["block_states"], rec.meta["blocks"], blocks)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        out.append(frame_inputs(states, rec["state_times"], lld["lld"], lld["lld_times"]))
    return out


class _Clips(torch.utils.data.Dataset):
    """Sequences and labels; training items are random crops of at most ``crop_states`` states."""

    def __init__(self, seqs: list[np.ndarray], labels: np.ndarray, crop_states: int | None):
        self.seqs, self.labels, self.crop = seqs, labels, crop_states

    def __len__(self):
        return len(self.seqs)

    def __getitem__(self, i):
        s = self.seqs[i]
        if self.crop and len(s) > self.crop:
            start = np.random.randint(0, len(s) - self.crop + 1)
            s = s[start : start + self.crop]
        return s, int(self.labels[i])


def _collate(items):
    x, lengths = pad_batch([s for s, _ in items])
    return (x, lengths), torch.tensor([y for _, y in items])


def _train_one(cfg: VoiceTCNConfig, seqs, labels, classes, run_dir: str) -> VoiceTCN:
    from emorec.tasks import ClassAffectTask
    from emorec.training.module import EmotionModule

    torch.manual_seed(cfg.seed)
    model = VoiceTCN(classes, cfg.blocks, cfg.hidden, cfg.dilations, cfg.dropout)
    model.set_lld_normaliser(np.concatenate(seqs))
    counts = np.bincount(labels, minlength=len(classes)).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / (len(classes) * np.maximum(counts, 1)), 0.0)
    task = ClassAffectTask(classes, valence_arousal_of(classes), weights, cfg.affect_weight, cfg.label_smoothing)
    loader = torch.utils.data.DataLoader(_Clips(seqs, labels, int(cfg.crop * STATES_PER_SECOND)), batch_size=cfg.batch_size, shuffle=True, collate_fn=_collate)
    module = EmotionModule(model, task, cfg.lr, cfg.weight_decay, cfg.epochs)
    run_cfg = TrainConfig(**{k: getattr(cfg, k) for k in asdict(TrainConfig())})
    run_cfg.run_dir = run_dir
    fit(module, loader, None, run_cfg, monitor=None)
    return module.model.eval()


def _score(model: VoiceTCN, seqs, labels, classes) -> dict:
    import emorec.metrics as metrics

    probs, va = [], []
    for i in range(0, len(seqs), 64):
        p, a = model.predict(seqs[i : i + 64])
        probs.append(p)
        va.append(a)
    probs, va = np.concatenate(probs), np.concatenate(va)
    rep = metrics.classification_report(labels, probs.argmax(1), len(classes))
    proxy = valence_arousal_of(classes)[labels]
    rep["ccc_valence"], rep["ccc_arousal"] = metrics.ccc(proxy[:, 0], va[:, 0]), metrics.ccc(proxy[:, 1], va[:, 1])
    return rep


def train_voice_tcn(cfg: VoiceTCNConfig) -> dict:
    """Speaker-independent cross-validation, then (with ``cfg.out``) a final model on every speaker.

    Returns
    -------
    dict
        Per-fold UA / WA / CCC and their mean ± std, with dataset, protocol, settings, date and commit.

    Raises
    ------
    ValueError
        Unknown corpus, ``add_emodb`` with EMO-DB, features lacking the configured blocks.
    RuntimeError
        Feature extraction failed for some files.
    emorec.errors.DatasetError
        Missing corpus folder or malformed file names.
    """
    commit = git_commit()
    data = speech_corpus(cfg.data, cfg.corpus, cfg.add_emodb, cfg.limit_actors)
    seqs = clip_sequences(data.table.path, FeatureStore(cfg.store), cfg.blocks, cfg.workers)
    y, classes = data.labels, data.classes

    def score_fold(k: int, train: np.ndarray, test: np.ndarray) -> dict:
        train_idx, test_idx = np.flatnonzero(train), np.flatnonzero(test)
        model = _train_one(cfg, [seqs[i] for i in train_idx], y[train_idx], classes, f"{cfg.run_dir}/fold{k}")
        return _score(model, [seqs[i] for i in test_idx], y[test_idx], classes)

    folds, summary = cross_validate(data.folds, score_fold, cfg.folds_only)
    settings = {k: v for k, v in asdict(cfg).items() if k in ("blocks", "hidden", "dilations", "dropout", "crop", "affect_weight", "label_smoothing", "epochs", "batch_size", "lr", "weight_decay")}
    result = result_document(
        "voice_tcn", data.dataset,
        data.protocol + "; fixed schedule and settings (no dev set, nothing chosen on a fold's score); "
        "valence/arousal CCC against the classes' proxy coordinates (emorec.emotion_space, NRC-VAD)",
        [cfg.seed], summary, folds, commit=commit,
        features="Moonshine base-en encoder blocks (learned layer weights) + 25 eGeMAPSv02 LLDs per encoder state (≈41/s) → "
        f"TCN (dilations {list(cfg.dilations)}) → attentive statistics pooling → class head + valence/arousal head; "
        f"class-balanced cross-entropy + {cfg.affect_weight} × (1 − CCC); settings {json.dumps(settings)}",
    )
    if cfg.out:
        final = _train_one(cfg, seqs, y, classes, f"{cfg.run_dir}/all")
        final.save(cfg.out, {k: result[k] for k in ("dataset", "protocol", "features", "metrics", "date", "commit")})
    write_result(result, cfg.results)
    return result
