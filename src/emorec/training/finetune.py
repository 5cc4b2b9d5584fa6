"""Fine-tuning masked-frame pretrained encoders (patent 001, ``masked_pretrain``) and the learning-curve protocol its claim
needs: the same encoder fine-tuned from its pretrained weights and from scratch, with 10 %, 25 % and 100 % of the
training labels, on the same speaker-independent folds (``emorec finetune``).

Honest pretraining: for each cross-validation fold the encoder is pretrained on the unlabelled shards *without that
fold's test clips* (:attr:`~emorec.training.pretrain.PretrainConfig.exclude`, matched by file stem), so no test speaker's
audio is heard before testing, labelled or not; the final model (``out``) starts from an encoder pretrained on all shards.
A fold's encoder file is reused when present (a rerun resumes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from emorec.evaluation.runner import write_result
from emorec.training.pretrain import PretrainConfig, ShardStream, pretrain
from emorec.training.sequence import SequenceTrainConfig, load_corpus, train_sequence_model

__all__ = ["FinetuneConfig", "finetune", "fold_encoders"]

MODALITY_KEYS = {"audio": "audio", "face": "video"}
"""Shard modality → the model's input key."""


@dataclass
class FinetuneConfig(SequenceTrainConfig):
    """Settings of :func:`finetune`: a :class:`~emorec.training.sequence.SequenceTrainConfig` (model, corpus, schedule of
    the fine-tuning) plus

    Attributes
    ----------
    shards : str
        Shard folder of the unlabelled pretraining data (``emorec shards``).
    pretrain : dict
        :class:`~emorec.training.pretrain.PretrainConfig` settings (``epochs``, ``ratio``, ``unit``, ``batch_size``, ``lr``,
        ...); the encoder's ``hidden``, ``layers`` and ``cell`` come from ``model_config`` so the weights fit the model.
    fractions : tuple of float
        Shares of each training fold's labels (class-stratified, seeded); the first is the main row.
    scratch : bool
        Also train the same model from random weights at every fraction (the comparison the claim needs).
    """

    model: str = "masked_pretrain"
    shards: str = ""
    pretrain: dict = field(default_factory=dict)
    fractions: tuple[float, ...] = (1.0, 0.25, 0.1)
    scratch: bool = True


def _pretrain_config(cfg: FinetuneConfig) -> PretrainConfig:
    known = {f.name for f in fields(PretrainConfig)}
    unknown = sorted(set(cfg.pretrain) - known)
    if unknown:
        raise ValueError(f"pretrain: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    mc = cfg.model_config
    encoder = {k: mc[k] for k in ("hidden", "layers", "cell") if k in mc}
    return replace(PretrainConfig(), **{**cfg.pretrain, **encoder, "shards": cfg.shards, "seed": cfg.seed})


def fold_encoders(cfg: FinetuneConfig, corpus) -> tuple[str, str, dict]:
    """Pretrain one encoder per fold without the fold's test clips (and one on everything when ``cfg.out`` is set).

    Returns
    -------
    modality : str
        The model input the encoders feed (``audio`` or ``video``).
    template : str
        Path of the fold encoders with ``{fold}`` for the fold index (``all``: the final model's).
    info : dict
        ``sequences`` in the shards, ``excluded`` per fold (test clips found in the shards).

    Raises
    ------
    DatasetError
        Not a shard folder.
    ValueError
        Unknown ``pretrain`` settings.

    A fold's test clips need not be in the shards (pretraining data from elsewhere); ``info["excluded"]`` says how many were.
    """
    pre = _pretrain_config(cfg)
    stream = ShardStream(cfg.shards)
    modality = MODALITY_KEYS[stream.manifest["modality"]]
    base = Path(cfg.run_dir) / "pretrain"
    template = str(base / "fold{fold}.safetensors")
    total = sum(stream.counts())
    info = {"sequences": total, "excluded": {}}
    jobs = [(k, [corpus.examples[i].id for i in test.nonzero()[0]]) for k, _, test in corpus.folds if cfg.folds_only is None or k in cfg.folds_only]
    if cfg.out:
        jobs.append(("all", []))
    for k, stems in jobs:
        out = Path(template.replace("{fold}", str(k)))
        info["excluded"][str(k)] = total - sum(ShardStream(cfg.shards, exclude=stems).counts())
        if not out.is_file():
            pretrain(replace(pre, out=str(out), run_dir=str(base / f"run_fold{k}"), exclude=tuple(stems)))
    return modality, template, info


def finetune(cfg: FinetuneConfig, corpus=None) -> dict:
    """Pretrain the fold encoders (:func:`fold_encoders`), then cross-validate ``cfg.model`` fine-tuned from them at each
    label fraction — and, with ``cfg.scratch``, from random weights — in one result set (the main row: pretrained, the
    first fraction). ``corpus``: an already loaded :class:`~emorec.training.multimodal.MultimodalCorpus` (else
    ``cfg.corpus`` is read). With ``cfg.out``, the final model is fine-tuned from the encoder pretrained on all shards with all labels.

    Returns
    -------
    dict
        ``{"kind": "result_set", "results": [...]}`` (:func:`~emorec.training.sequence.train_sequence_model`).

    Raises
    ------
    DatasetError, ValueError, KeyError
        Missing shards or corpus files, bad settings, unknown model.
    """
    if not cfg.shards:
        raise ValueError("finetune needs the pretraining shards (shards = 'FOLDER', written by `emorec shards`)")
    if not cfg.fractions:
        raise ValueError("fractions: give at least one share of the labels, e.g. [1.0, 0.25, 0.1]")
    corpus = corpus if corpus is not None else load_corpus(cfg)
    modality, template, info = fold_encoders(cfg, corpus)
    pretrained = {modality: template}

    def pct(f: float) -> str:
        return f"{100 * f:g} % labels"

    ablations = {f"pretrained, {pct(f)}": {"label_fraction": f, "init_weights": pretrained} for f in cfg.fractions[1:]}
    if cfg.scratch:
        ablations.update({f"scratch, {pct(f)}": {"label_fraction": f, "init_weights": {}} for f in cfg.fractions})
    excluded = sorted(set(info["excluded"].values()))
    label = (cfg.label + "; " if cfg.label else "") + (
        f"pretrained, {pct(cfg.fractions[0])}; encoder pretrained per fold on {info['sequences']} unlabelled sequences of {cfg.shards} "
        f"minus the fold's test clips ({'/'.join(map(str, excluded))} left out)")
    seq_fields = {f.name for f in fields(SequenceTrainConfig)}
    seq = SequenceTrainConfig(**{k: getattr(cfg, k) for k in seq_fields})
    seq = replace(seq, label=label, init_weights=pretrained, label_fraction=cfg.fractions[0], ablations={**ablations, **cfg.ablations}, results=None)
    result = train_sequence_model(seq, corpus)
    rows = [("pretrained", cfg.fractions[0]), *[("pretrained", f) for f in cfg.fractions[1:]], *[("scratch", f) for f in (cfg.fractions if cfg.scratch else ())]]
    for r, (init, f) in zip(result["results"], rows):
        r["learning_curve"] = {"init": init, "label_fraction": f, "group": cfg.label or cfg.corpus, "pretraining_sequences": info["sequences"],
                               "pretraining": {k: v for k, v in asdict(_pretrain_config(cfg)).items() if k not in ("exclude", "shards", "out", "run_dir")}}
    write_result(result, cfg.results)
    return result
