"""Cross-validation recipes by model name: what ``emorec cv MODEL`` runs.

Models with a protocol of their own (the voice models on RAVDESS / EMO-DB) register a recipe in
:data:`CV_RECIPES`; every other registered :class:`~emorec.models.sequence.SequenceModel` is
cross-validated by the generic recipe (:func:`emorec.training.sequence.train_sequence_model`) on a
composite corpus. All of them go through the one runner (:mod:`emorec.evaluation.runner`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emorec.registry import Registry

__all__ = ["CV_RECIPES", "CVOptions", "cross_validate_model"]


@dataclass
class CVOptions:
    """What the user gave ``emorec cv`` (each recipe reads what applies to it and rejects what does not).

    Attributes
    ----------
    data : corpus folder (voice recipes) or data root of the composite split (sequence models)
    corpus : ``ravdess``/``emodb`` (voice recipes) or the composite split file (sequence models)
    config : TOML/YAML settings file (sequence models)
    """

    data: Path | None = None
    corpus: str = "ravdess"
    config: Path | None = None
    store: Path | None = None
    results: Path | None = None
    seed: int = 0
    workers: int = 2
    speaker_norm: bool = False
    add_emodb: Path | None = None
    run_dir: Path | None = None
    epochs: int | None = None
    trust_pickle: bool = False
    test_band: int | None = None


CV_RECIPES: Registry = Registry("cross-validation recipe")
"""Model name → ``recipe(options) → result`` (a result document, or a result set for several models)."""


def _need_data(name: str, o: CVOptions) -> None:
    if o.data is None:
        raise ValueError(f"{name}: --data names the corpus folder (RAVDESS speech or EMO-DB)")


@CV_RECIPES.register("voice_probe")
def _voice_probe(o: CVOptions) -> dict:
    from emorec.training.voice_probe import train_voice_probe

    _need_data("voice_probe", o)
    return train_voice_probe(o.data, o.store, None, o.results, seed=o.seed, workers=o.workers, speaker_norm=o.speaker_norm, corpus=o.corpus, add_emodb=o.add_emodb,
                             test_band=o.test_band)


@CV_RECIPES.register("voice_tcn")
def _voice_tcn(o: CVOptions) -> dict:
    from emorec.training.voice_tcn import VoiceTCNConfig, train_voice_tcn

    _need_data("voice_tcn", o)
    if o.speaker_norm:
        raise ValueError("--speaker-norm applies to voice_probe only")
    cfg = VoiceTCNConfig(data=str(o.data), corpus=o.corpus, add_emodb=str(o.add_emodb) if o.add_emodb else None, store=str(o.store),
                         run_dir=str(o.run_dir or "runs/voice_tcn"), out=None, results=str(o.results) if o.results else None,
                         epochs=o.epochs or VoiceTCNConfig.epochs, seed=o.seed, workers=o.workers)
    return train_voice_tcn(cfg)


@CV_RECIPES.register("voice_baselines")
def _voice_baselines(o: CVOptions) -> dict:
    from emorec.training.voice_baselines import voice_baselines

    _need_data("voice_baselines", o)
    if o.speaker_norm or o.add_emodb:
        raise ValueError("--speaker-norm and --add-emodb do not apply to voice_baselines (the reference baselines of the issue's protocol)")
    return voice_baselines(o.data, o.store, o.corpus, o.results, seed=o.seed, workers=o.workers)


def cross_validate_model(name: str, options: CVOptions) -> dict:
    """Cross-validate model ``name``: its own recipe, or the generic sequence-model recipe.

    Returns
    -------
    dict
        A result document, or ``{"kind": "result_set", "results": [...]}``.

    Raises
    ------
    ValueError
        Unknown model, a model that is neither a sequence model nor has a recipe, or options that do not apply.
    """
    if name in CV_RECIPES:
        return CV_RECIPES.get(name)(options)
    from emorec.models import MODELS, model_info
    from emorec.models.sequence import SequenceModel
    from emorec.training.config import load_config
    from emorec.training.sequence import SequenceTrainConfig, train_sequence_model

    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS.names())}")
    factory = model_info(name).factory
    if not (isinstance(factory, type) and issubclass(factory, SequenceModel)):
        raise ValueError(f"no cross-validation protocol for {name!r}: it is not a sequence model and has no recipe of its own "
                         f"({', '.join(CV_RECIPES.names())} do; face_cnn and the text models use official splits: emorec train face_cnn|text)")
    o = options
    cfg = load_config(SequenceTrainConfig, o.config, model=name, corpus=None if o.corpus == "ravdess" else str(o.corpus), data=str(o.data) if o.data else None,
                      store=str(o.store) if o.store else None, results=str(o.results) if o.results else None, seed=o.seed, workers=o.workers,
                      run_dir=str(o.run_dir) if o.run_dir else f"runs/{name}", epochs=o.epochs, trust_pickle=o.trust_pickle or None)
    return train_sequence_model(cfg)
