"""Train and cross-validate any registered multimodal sequence model (:class:`~emorec.models.sequence.SequenceModel`)
on a :class:`~emorec.training.multimodal.MultimodalCorpus` — the recipe ``emorec cv MODEL`` runs for every family
that has no recipe of its own.

Per speaker-independent fold: build the model by name (:func:`emorec.models.create_model` with
``model_config``), train it through the one training loop (:func:`emorec.training.harness.fit`; fixed
schedule, nothing chosen on the test fold), score the test fold (utterance level: one prediction per
example; frame level: every real frame), then summarise with the one evaluation runner
(:func:`emorec.evaluation.runner.cross_validate`). With ``out``, a final model on all folds is saved.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from emorec.evaluation.runner import cross_validate, result_document, write_result
from emorec.paths import default_store
from emorec.tasks import SequenceTask
from emorec.training.harness import TrainConfig, fit
from emorec.training.multimodal import MultimodalCorpus, MultimodalDataModule, av_corpus, collate, iemocap_corpus, lld_corpus, meld_text_corpus, sentiment_corpus, text_examples, trace_corpus

__all__ = ["SequenceTrainConfig", "load_corpus", "predict", "score_predictions", "train_sequence_model"]


@dataclass
class SequenceTrainConfig(TrainConfig):
    """Settings of :func:`train_sequence_model` (TOML/YAML via :func:`emorec.training.config.load_config`).

    Attributes
    ----------
    model : str
        Registered model name (``emorec models``).
    label : str or None
        Added to the model's name in the results (e.g. ``"RAVDESS speech + statement, face masked"``).
    model_config : dict
        Keyword arguments of the model's constructor.
    corpus : str
        Composite split file (``emorec composite`` writes one).
    data : str
        Root the split file's paths are relative to.
    store : str
        Feature store.
    level : {"utterance", "frame"}
    crop : int or None
        Training items are random crops of at most this many frames (frame level).
    affect_weight : float
        Weight of the valence/arousal term (models with ``affect``).
    limit_per_fold : int or None
        Keep this many examples per fold (smoke runs).
    folds_only : tuple of int or None
    workers : int
    text_corpus : str or None
        An EmoBank folder: its training sentences (rated valence/arousal, ``(x − 3) / 2``) join every training set as
        text-only examples (:func:`~emorec.training.multimodal.text_examples`) — never a test set.
    text_limit : int or None
        Use this many EmoBank training sentences (seeded sample); None = all.
    exclude_speakers : tuple of str
        Speakers (e.g. ``ravdess_07``) left out of every training and test set and of the final model, so a person can be
        scored by a model that has never heard or seen them.
    loss : {"ce", "focal", "fldw"}
        The class loss (utterance level): class-weighted cross-entropy, focal loss, or the 004 paper's FLDW (focal loss
        with dynamic weights from the previous epoch's confusion matrix, :class:`emorec.losses.FLDW`); ``focal_gamma`` γ.
    optimizer, schedule : str
        ``adamw`` (default) or ``adam``; ``cosine`` (default) or ``step:N:G`` (the rate × G every N epochs) — see
        :class:`~emorec.training.module.EmotionModule`.
    inputs : {"embeddings", "pixels", "pixels_rgb"}
        What the corpus gives the model: the stored 10 Hz embeddings (every model but one), or face-crop pixels and MFCCs
        (:mod:`emorec.training.pixels`, for ``amcm_cmtam``; ``frames`` and ``image`` from ``model_config``) — grey crops,
        or the tracked face's RGB crops of a real audio-visual corpus.
    folds : {"speaker", "random5"}
        Folds of a real audio-visual corpus (``<av corpus>:<folder>``): speaker-independent (default) or the 004 paper's
        random 5-fold over clips (not speaker-independent; the result's protocol says so).
    label_fraction : float
        Train on this share of each training fold's labelled examples (a class-stratified, seeded sample) — for learning
        curves such as ``masked_pretrain``'s 10 % / 25 % / 100 % of the labels.
    init_weights : dict of str → str
        Pretrained encoders to start from, modality → file (``emorec pretrain``'s output), for models with ``encoders``;
        ``{fold}`` in a path is replaced by the fold index (``all`` for the final model), for encoders pretrained without
        each fold's test speakers (:func:`emorec.training.finetune.finetune`).
    trust_pickle : bool
        Allow reading a pickled MMSA feature file (``mosi:``/``mosei:``/``sims:`` corpora): only for files from a trusted source.
    objective : dict
        Keyword arguments of the model's own training objective, for models that have one (:data:`OBJECTIVES`; e.g.
        ``tam_ulag``: ``ulag``, ``unimodal_weight``).
    ablations : dict of str → dict
        Variants cross-validated in the same run on the same folds: name → ``model_config`` overrides
        (e.g. ``{"concat": {"fusion": "concat"}}``), plus ``objective`` overrides under the key ``objective`` and
        replacements of ``label_fraction``, ``init_weights``, ``loss``, ``optimizer``, ``schedule``, ``lr`` and ``epochs`` under those keys; the result is then a result set,
        the full model first.
    """

    model: str = ""
    label: str | None = None
    model_config: dict = field(default_factory=dict)
    corpus: str = "splits/composite_ravdess_ckplus_meld.csv"
    data: str = "../shared/data"
    store: str = str(default_store())
    level: str = "utterance"
    crop: int | None = None
    affect_weight: float = 0.5
    limit_per_fold: int | None = None
    folds_only: tuple[int, ...] | None = None
    workers: int = 2
    text_corpus: str | None = None
    text_limit: int | None = None
    exclude_speakers: tuple[str, ...] = ()
    objective: dict = field(default_factory=dict)
    trust_pickle: bool = False
    loss: str = "ce"
    focal_gamma: float = 2.0
    optimizer: str = "adamw"
    schedule: str = "cosine"
    inputs: str = "embeddings"
    folds: str = "speaker"
    label_fraction: float = 1.0
    init_weights: dict = field(default_factory=dict)
    ablations: dict = field(default_factory=dict)
    epochs: int = 20
    batch_size: int = 16
    lr: float = 1e-3
    out: str | None = None
    results: str | None = None


def load_corpus(cfg: SequenceTrainConfig) -> MultimodalCorpus:
    """The corpus ``cfg`` names — a composite split file (``.csv``), a folder of media with rated traces
    (:func:`~emorec.training.multimodal.trace_corpus`, frame level), or ``<av corpus>:<folder>`` for a labelled real
    audio-visual corpus (:func:`~emorec.training.multimodal.av_corpus`, e.g. ``ravdess_video:/data/RAVDESS``), or
    ``meld_text:<folder>`` for MELD's text on its official split (:func:`~emorec.training.multimodal.meld_text_corpus`), or
    ``mosi:<path>`` / ``mosei:<path>`` / ``sims:<path>`` for a user's sentiment corpus — a folder of CMU SDK ``.csd`` files or an
    MMSA feature pickle (with ``trust_pickle``) on its official split (:func:`~emorec.training.multimodal.sentiment_corpus`), or
    ``iemocap:<folder>`` / ``iemocap7:<folder>`` for a user's IEMOCAP (4 or 7 classes, leave-one-session-out) — without
    ``cfg.exclude_speakers``, at ``cfg.level`` (frame level concatenates a composite's sequences).

    Raises
    ------
    ValueError
        An excluded speaker is not in the corpus (a typo would otherwise exclude nobody).
    """
    name, _, folder = cfg.corpus.partition(":")
    from emorec.data.av_clips import AV_CORPORA

    if cfg.inputs != "embeddings":
        return _pixel_corpus(cfg, name, folder)

    if name in ("mosi", "mosei", "sims") and folder:
        from emorec.data.sentiment import load_csd_folder, load_mmsa_pickle

        if cfg.level != "utterance":
            raise ValueError(f"{name}: opinion segments are utterance-level; set level = 'utterance'")
        path = Path(folder)
        if path.is_dir():
            if name == "sims":
                raise ValueError("sims: CH-SIMS is read from its MMSA feature file (unaligned_39.pkl), not a folder")
            sset = load_csd_folder(path, name)
        else:
            sset = load_mmsa_pickle(path, cfg.trust_pickle, name)
        return sentiment_corpus(sset)
    if name in ("ravdess_lld", "emodb_lld") and folder:
        return lld_corpus(folder, cfg.store, name.split("_")[0], cfg.workers)
    if name in ("iemocap", "iemocap7") and folder:
        if cfg.level != "utterance":
            raise ValueError(f"{name}: IEMOCAP turns are utterance-level; set level = 'utterance'")
        corpus = iemocap_corpus(folder, cfg.store, "7" if name == "iemocap7" else "4", cfg.workers)
        return corpus.without_speakers(cfg.exclude_speakers) if cfg.exclude_speakers else corpus
    if name == "meld_text" and folder:
        if cfg.level != "utterance":
            raise ValueError("meld_text: MELD text-only examples are utterance-level; set level = 'utterance'")
        return meld_text_corpus(folder, cfg.store, limit=cfg.limit_per_fold, seed=cfg.seed)

    if folder and name in AV_CORPORA:
        corpus = av_corpus(name, folder, cfg.store, cfg.workers, folds=cfg.folds, seed=cfg.seed)
        corpus = corpus.without_speakers(cfg.exclude_speakers) if cfg.exclude_speakers else corpus
        return corpus.frame_level() if cfg.level == "frame" else corpus
    if Path(cfg.corpus).is_dir():
        if cfg.level != "frame":
            raise ValueError(f"{cfg.corpus}: rated traces are frame-level; set level = 'frame'")
        corpus = trace_corpus(cfg.corpus, cfg.store, cfg.workers)
        return corpus.without_speakers(cfg.exclude_speakers) if cfg.exclude_speakers else corpus
    corpus = MultimodalCorpus.from_composite(cfg.corpus, cfg.data, cfg.store, cfg.workers, cfg.limit_per_fold, cfg.seed)
    if cfg.exclude_speakers:
        corpus = corpus.without_speakers(cfg.exclude_speakers)
    if cfg.text_corpus:
        from emorec.data.text import load_emobank

        bank = load_emobank(cfg.text_corpus)
        bank = bank[bank.split == "train"]
        if cfg.text_limit is not None and cfg.text_limit < len(bank):
            bank = bank.sample(cfg.text_limit, random_state=cfg.seed)
        extra = text_examples(list(bank.text), ((bank.V - 3) / 2).to_numpy(), ((bank.A - 3) / 2).to_numpy(), cfg.store, ids=list(bank.id))
        corpus = corpus.with_training_only(extra, f"{len(extra)} EmoBank training sentences, text only")
    return corpus.frame_level() if cfg.level == "frame" else corpus


def _pixel_corpus(cfg: SequenceTrainConfig, name: str, folder: str) -> MultimodalCorpus:
    """Face pixels + MFCCs (``cfg.inputs`` ``pixels`` / ``pixels_rgb``) of a composite split file or a real audio-visual corpus."""
    from emorec.data.av_clips import AV_CORPORA
    from emorec.training.pixels import av_pixel_corpus, composite_pixel_corpus

    if cfg.inputs not in ("pixels", "pixels_rgb"):
        raise ValueError(f"inputs must be 'embeddings', 'pixels' or 'pixels_rgb', not {cfg.inputs!r}")
    if cfg.level != "utterance":
        raise ValueError("pixel corpora are utterance-level (one example per clip); set level = 'utterance'")
    frames, image = int(cfg.model_config.get("frames", 16)), int(cfg.model_config.get("image", 112))
    if folder and name in AV_CORPORA:
        corpus = av_pixel_corpus(name, folder, cfg.store, frames, image, grey=cfg.inputs == "pixels", folds=cfg.folds, workers=cfg.workers, seed=cfg.seed)
        return corpus.without_speakers(cfg.exclude_speakers) if cfg.exclude_speakers else corpus
    if cfg.inputs == "pixels_rgb":
        raise ValueError("pixels_rgb needs a real audio-visual corpus (<name>:<folder>); composite faces are grey still images")
    corpus = composite_pixel_corpus(cfg.corpus, cfg.data, cfg.store, frames, image, cfg.workers, cfg.seed, cfg.limit_per_fold)
    return corpus.without_speakers(cfg.exclude_speakers) if cfg.exclude_speakers else corpus


def predict(model, corpus: MultimodalCorpus, indices, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Model outputs for ``corpus.examples[indices]``, flattened: (N, K[+2]) outputs, (N,) labels, (N, 2) valence/arousal
    targets (NaN where unrated) and (N,) segment ids — one row per example (utterance level) or per real frame (frame level; the id names the
    concatenated example the frame belongs to, so segment-level classes can be read from frame outputs)."""
    model.eval()
    outs, labels, vas, groups = [], [], [], []
    items = [corpus.examples[i] for i in indices]
    with torch.inference_mode():
        for b in range(0, len(items), batch_size):
            (x, mask), y = collate(items[b : b + batch_size], corpus.classes)
            out = model(x, mask)
            if model.level == "frame":
                keep = y["frames"]
                item = (torch.arange(len(out))[:, None] + b).expand_as(keep)
                outs.append(out[keep].numpy())
                labels.append(y["frame_label"][keep].numpy())
                vas.append(np.where(y["rated"][keep].numpy()[:, None], y["frame_va"][keep].numpy(), np.nan))
                groups.append((item[keep] * 1000 + y["frame_segment"][keep]).numpy())
            else:
                outs.append(out.numpy())
                labels.append(y["label"].numpy())
                vas.append(np.where(y["va_rated"].numpy(), y["va"].numpy(), np.nan))
                groups.append(np.arange(b, b + len(out)) * 1000)
    return np.concatenate(outs), np.concatenate(labels), np.concatenate(vas), np.concatenate(groups)


def score_predictions(task: SequenceTask, out: np.ndarray, labels: np.ndarray, va: np.ndarray, groups: np.ndarray, sentiment_scale: float | None = None) -> dict:
    """The task's scores per row (frames or utterances) and, at frame level, per segment: ``segment_ua``/``segment_wa``/
    ``segment_f1_weighted`` from the mean class logits over each segment's frames. With ``sentiment_scale`` (sentiment
    corpora), the MOSI table of the valence output × scale against the annotated scores (:func:`emorec.metrics.sentiment_report`)."""
    import emorec.metrics as metrics

    res = task.scores(out, labels, va)
    if sentiment_scale is not None:
        k = len(task.classes)
        rated = np.isfinite(va[:, 0])
        res.update(metrics.sentiment_report(va[rated, 0] * sentiment_scale, out[rated, k] * sentiment_scale))
    if task.level == "frame" and (labels >= 0).any():
        k = len(task.classes)
        ids, inverse = np.unique(groups, return_inverse=True)
        mean = np.zeros((len(ids), out.shape[1]))
        np.add.at(mean, inverse, out)
        mean /= np.bincount(inverse)[:, None]
        seg_label = np.zeros(len(ids), int)
        seg_label[inverse] = labels
        rep = metrics.classification_report(seg_label, mean[:, :k].argmax(1), k)
        res.update({"segment_ua": rep["ua"], "segment_wa": rep["wa"], "segment_f1_weighted": rep["f1_weighted"], "num_segments": len(ids)})
    return res


def _ulag_module(model, task, cfg: SequenceTrainConfig, corpus: MultimodalCorpus, run_dir: str):
    from emorec.training.ulag import ULAGModule

    return ULAGModule(model, task, len(corpus), [e.id for e in corpus.examples], label_dir=f"{run_dir}/ulag", lr=cfg.lr,
                      weight_decay=cfg.weight_decay, max_epochs=cfg.epochs, **cfg.objective)


def _unimodal_module(model, task, cfg: SequenceTrainConfig, corpus: MultimodalCorpus, run_dir: str):
    from emorec.training.module import UnimodalModule

    return UnimodalModule(model, task, cfg.lr, cfg.weight_decay, cfg.epochs)


OBJECTIVES = {"tam_ulag": _ulag_module, "late_mean": _unimodal_module}
"""Models trained by an objective of their own (multi-task heads, generated labels): name → ``build(model, task, cfg, corpus,
run_dir)`` → a Lightning module; every other model trains with :class:`~emorec.training.module.EmotionModule` and the task's loss."""


def _label_subset(corpus: MultimodalCorpus, train_idx: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """``fraction`` of the labelled training examples, the same share of every class (at least one each), seeded;
    unlabelled (training-only) examples are kept. ``fraction`` 1 returns ``train_idx``."""
    if fraction >= 1.0:
        return train_idx
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"label_fraction must be in (0, 1], not {fraction}")
    rng = np.random.default_rng(seed)
    labels = corpus.labels[train_idx]
    keep = [train_idx[labels < 0]]
    for c in np.unique(labels[labels >= 0]):
        members = train_idx[labels == c]
        keep.append(rng.choice(members, max(1, int(round(fraction * len(members)))), replace=False))
    return np.sort(np.concatenate(keep))


def _load_encoder(model, modality: str, path: str) -> None:
    """Load a pretrained encoder (``emorec pretrain``'s file) into ``model.encoders[modality]`` and its feature
    standardisation into ``model.input_norm[modality]``.

    Raises
    ------
    ValueError
        The model has no such encoder, or the file's encoder does not fit it.
    """
    from emorec.models.weights import read_weights

    encoders = getattr(model, "encoders", None)
    if encoders is None or modality not in encoders:
        raise ValueError(f"init_weights: the model has no {modality!r} encoder to initialise")
    state, meta = read_weights(path)
    try:
        encoders[modality].load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{path}: the pretrained encoder does not fit the model's {modality} encoder ({str(exc).splitlines()[0]})") from None
    norms = getattr(model, "input_norm", None)
    if norms is not None and "mean" in meta:
        norms[modality].mean.copy_(torch.as_tensor(meta["mean"], dtype=torch.float32))
        norms[modality].std.copy_(torch.as_tensor(meta["std"], dtype=torch.float32))


def _fit_input_norms(model, corpus: MultimodalCorpus, train_idx: np.ndarray, max_frames: int = 200_000, seed: int = 0) -> None:
    """Fit the model's input standardisation (:func:`emorec.models.blocks.fit_input_norms`) on the observed frames of the
    training examples only (a sample of at most ``max_frames`` per modality)."""
    from emorec.models.blocks import fit_input_norms

    if getattr(model, "input_norm", None) is None:
        return
    rng = np.random.default_rng(seed)
    frames = {}
    for m in (m for m in corpus.dims if m in model.input_norm):
        parts = [corpus.examples[i].x[m][corpus.examples[i].mask[m]] for i in train_idx if m in corpus.examples[i].x]
        parts = [p for p in parts if len(p)]
        if parts:
            allf = np.concatenate(parts)
            frames[m] = allf[rng.choice(len(allf), max_frames, replace=False)] if len(allf) > max_frames else allf
    fit_input_norms(model, frames)


def _class_loss(cfg: SequenceTrainConfig, num_examples: int, num_classes: int, weights: np.ndarray | None):
    """The class loss module ``cfg.loss`` names (None: cross-entropy in :class:`~emorec.tasks.SequenceTask`)."""
    from emorec.losses import FLDW, FocalLoss

    if cfg.loss not in ("ce", "focal", "fldw"):
        raise ValueError(f"loss must be 'ce', 'focal' or 'fldw', not {cfg.loss!r}")
    if cfg.loss != "ce" and cfg.level != "utterance":
        raise ValueError(f"loss {cfg.loss!r} is for utterance-level models")
    w = torch.as_tensor(weights, dtype=torch.float32) if weights is not None else None
    if cfg.loss == "focal":
        return FocalLoss(cfg.focal_gamma, w)
    return FLDW(num_classes, num_examples, cfg.focal_gamma, w) if cfg.loss == "fldw" else None


def _train(cfg: SequenceTrainConfig, corpus: MultimodalCorpus, train_idx: np.ndarray, run_dir: str, fold: int | str = "all"):
    import inspect

    from emorec.models import create_model, model_info
    from emorec.training.module import EmotionModule

    torch.manual_seed(cfg.seed)
    config = dict(cfg.model_config)
    if "dims" not in config and "dims" in inspect.signature(model_info(cfg.model).factory).parameters:
        config["dims"] = dict(corpus.dims)  # the corpus's feature widths (e.g. a user's MOSI features)
    train_idx = _label_subset(corpus, train_idx, cfg.label_fraction, cfg.seed)
    model = create_model(cfg.model, **config)
    _fit_input_norms(model, corpus, train_idx)
    for m, path in cfg.init_weights.items():
        _load_encoder(model, m, str(path).replace("{fold}", str(fold)))
    if getattr(model, "level", cfg.level) != cfg.level:
        raise ValueError(f"model {cfg.model} is {model.level}-level; set level = {model.level!r}")
    labels = corpus.labels[train_idx]
    labels = labels[labels >= 0]
    counts = np.bincount(labels, minlength=len(corpus.classes)).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / (len(corpus.classes) * np.maximum(counts, 1)), 0.0) if len(labels) else None
    task = SequenceTask(corpus.classes, cfg.level, weights, cfg.affect_weight, _class_loss(cfg, len(corpus), len(corpus.classes), weights))
    dm = MultimodalDataModule(corpus, fold=-1, batch_size=cfg.batch_size, crop=cfg.crop, seed=cfg.seed)
    dm.splits = {"train": train_idx, "val": np.array([], int), "test": np.array([], int)}
    run_cfg = TrainConfig(**{k: getattr(cfg, k) for k in asdict(TrainConfig()) if hasattr(cfg, k)})
    run_cfg.run_dir, run_cfg.out = run_dir, ""
    if cfg.model in OBJECTIVES:
        module = OBJECTIVES[cfg.model](model, task, cfg, corpus, run_dir)
    elif cfg.objective:
        raise ValueError(f"model {cfg.model} has no objective of its own; 'objective' settings apply to {', '.join(OBJECTIVES)}")
    else:
        module = EmotionModule(model, task, cfg.lr, cfg.weight_decay, cfg.epochs, optimizer=cfg.optimizer, schedule=cfg.schedule)
    fit(module, dm.train_dataloader(), None, run_cfg, monitor=None)
    return module.model.eval()


def train_sequence_model(cfg: SequenceTrainConfig, corpus: MultimodalCorpus | None = None) -> dict:
    """Speaker-independent cross-validation of ``cfg.model`` on ``cfg.corpus``, then (with ``cfg.out``) a model on every fold.

    Returns
    -------
    dict
        The result document (per-fold WA / UA / F1 [/ CCC], mean ± std, dataset, protocol, settings); with ablations a
        result set (``{"kind": "result_set", "results": [full model, *variants]}``).

    Raises
    ------
    KeyError
        Unknown model name.
    ValueError
        The model's level differs from ``cfg.level``; bad settings.
    DatasetError, RuntimeError
        Missing split or source files; feature extraction failures.
    """
    from emorec.evaluation.results import git_commit
    from emorec.models import model_info

    info = model_info(cfg.model)  # unknown names fail before any data is read
    commit = git_commit()
    corpus = corpus if corpus is not None else load_corpus(cfg)
    task = SequenceTask(corpus.classes, cfg.level)

    def run(name: str, run_cfg: SequenceTrainConfig) -> dict:
        def score_fold(k: int, train: np.ndarray, test: np.ndarray) -> dict:
            model = _train(run_cfg, corpus, np.flatnonzero(train), f"{run_cfg.run_dir}/fold{k}", fold=k)
            return score_predictions(task, *predict(model, corpus, np.flatnonzero(test)), sentiment_scale=corpus.sentiment_scale)

        folds, summary = cross_validate(corpus.folds, score_fold, run_cfg.folds_only)
        settings = {k: v for k, v in asdict(run_cfg).items() if k in ("model_config", "objective", "level", "crop", "affect_weight", "epochs", "batch_size", "lr", "weight_decay",
                                                                   "limit_per_fold", "label_fraction", "init_weights", "loss", "inputs", "folds", "optimizer", "schedule")}
        return {**result_document(
            name, corpus.dataset, corpus.protocol + f"; {run_cfg.level} level; fixed schedule, nothing chosen on a test fold",
            [run_cfg.seed], summary, folds, commit=commit,
            features=f"{info.inputs} → {info.outputs}; settings {json.dumps(settings)}",
        ), "classes": list(corpus.classes)}

    result = run(cfg.model + (" + EmoBank text" if cfg.text_corpus else "") + (f" ({cfg.label})" if cfg.label else ""), cfg)
    variants = []
    for name, overrides in cfg.ablations.items():
        overrides = dict(overrides)
        objective = {**cfg.objective, **overrides.pop("objective", {})}
        fields = {k: overrides.pop(k) for k in ("label_fraction", "init_weights", "loss", "optimizer", "schedule", "lr", "epochs") if k in overrides}
        variant = replace(cfg, model_config={**cfg.model_config, **overrides}, objective=objective, run_dir=f"{cfg.run_dir}/ablation_{name}", ablations={}, **fields)
        variants.append(run(f"{cfg.model} ablation: {name}", variant))
    if cfg.out:
        final = _train(cfg, corpus, np.arange(len(corpus)), f"{cfg.run_dir}/all")
        Path(cfg.out).parent.mkdir(parents=True, exist_ok=True)
        final.save(cfg.out, {k: result[k] for k in ("dataset", "protocol", "features", "metrics", "date", "commit")})
    if variants:
        result = {"kind": "result_set", "results": [result, *variants]}
    write_result(result, cfg.results)
    return result
