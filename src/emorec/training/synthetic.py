"""Controlled synthetic checks that a family's mechanism works (not accuracy claims about emotion).

- :func:`pointer_corpus` / :func:`check_amh` — ``amh``: the label is the class stored at the one video step whose key is
  named jointly by the audio (first half of the key) and the text (second half); nothing else in the inputs tells it.
  With hops ≥ 1 the attention of AMH-1 (context = audio + text last states) can find that step; without hopping the
  classifier reads only the GRUs' last states and should stay near chance.
- :func:`conflict_corpus` / :func:`check_tam_ulag` — ``tam_ulag``: audio and text carry evidence of the multimodal label;
  in a known subset of examples the video carries evidence of the *other* class. ULAG should move the generated video
  label of those examples toward the video's evidence, and leave the audio labels and the consistent examples alone.

Both train through the generic recipe (:func:`~emorec.training.sequence.train_sequence_model`) on two folds, so the
checks exercise the same code as the real runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emorec.training.multimodal import Example, MultimodalCorpus

__all__ = ["check_amh", "check_tam_ulag", "conflict_corpus", "pointer_corpus"]

POINTER_CLASSES = ("neutral", "happy", "sad", "angry")
CONFLICT_CLASSES = ("happy", "sad")


def pointer_corpus(n: int = 3000, steps: int = 8, halves: int = 4, noise: float = 0.3, seed: int = 0) -> MultimodalCorpus:
    """The ``amh`` pointer task: ``n`` examples, two folds.

    Each example has ``steps`` video steps; step i holds a key ``(a_i, t_i)`` (one-hot over ``halves`` each, all keys of
    an example distinct) and a class one-hot (4 classes) plus noise. The audio sequence ends with the one-hot of ``a*``,
    the text sequence with the one-hot of ``t*`` (earlier steps are noise); the label is the class at the step whose key
    is ``(a*, t*)``. Widths: audio ``halves`` + 4, text ``halves`` + 4, video ``2 halves + 4``.
    """
    rng = np.random.default_rng(seed)
    k = len(POINTER_CLASSES)
    examples = []
    for i in range(n):
        keys = rng.permutation(halves * halves)[:steps]
        classes = rng.integers(0, k, steps)
        target = int(rng.integers(0, steps))
        video = rng.normal(0, noise, (steps, 2 * halves + k)).astype(np.float32)
        video[np.arange(steps), keys // halves] += 1.0
        video[np.arange(steps), halves + keys % halves] += 1.0
        video[np.arange(steps), 2 * halves + classes] += 1.0
        audio = rng.normal(0, noise, (steps, halves + 4)).astype(np.float32)
        text = rng.normal(0, noise, (steps, halves + 4)).astype(np.float32)
        audio[-1, keys[target] // halves] += 2.0
        text[-1, keys[target] % halves] += 2.0
        x = {"audio": audio, "video": video, "text": text}
        examples.append(Example(f"pointer_{i:05d}", f"s{i % 2}", i % 2, int(classes[target]), x, {m: np.ones(steps, bool) for m in x}))
    return MultimodalCorpus(examples, POINTER_CLASSES, {m: v.shape[1] for m, v in examples[0].x.items()},
                            "synthetic pointer task (amh mechanism check)", "2 folds of synthetic examples; seed " + str(seed))


def conflict_corpus(n: int = 1200, steps: int = 8, dim: int = 8, conflict: float = 0.3, noise: float = 1.0, seed: int = 0) -> tuple[MultimodalCorpus, np.ndarray]:
    """The ``tam_ulag`` conflict task: ``n`` examples of 2 classes (happy / sad), two folds, and the (n,) bool mask of
    the examples whose video shows the other class.

    Every modality's frames are ``noise``-scaled Gaussian around a class prototype (one per class and modality): audio and
    text around the label's prototype, video around the label's in ``1 − conflict`` of the examples and the other
    class's in the rest.
    """
    rng = np.random.default_rng(seed)
    protos = {m: rng.normal(0, 1, (2, dim)) for m in ("audio", "video", "text")}
    labels = rng.integers(0, 2, n)
    conflicted = rng.random(n) < conflict
    examples = []
    for i in range(n):
        shown = {"audio": labels[i], "text": labels[i], "video": 1 - labels[i] if conflicted[i] else labels[i]}
        x = {m: (protos[m][shown[m]] + rng.normal(0, noise, (steps, dim))).astype(np.float32) for m in shown}
        examples.append(Example(f"conflict_{i:05d}", f"s{i % 2}", i % 2, int(labels[i]), x, {m: np.ones(steps, bool) for m in x}))
    corpus = MultimodalCorpus(examples, CONFLICT_CLASSES, {m: dim for m in protos}, "synthetic conflict task (ULAG mechanism check)",
                              f"2 folds of synthetic examples; video contradicts the label in {conflict:.0%}; seed {seed}")
    return corpus, conflicted


def check_amh(run_dir: str | Path, n: int = 3000, epochs: int = 25, hops: tuple[int, ...] = (0, 1, 3), seed: int = 0, results: str | None = None) -> dict:
    """Cross-validate ``amh`` on :func:`pointer_corpus` with each number of ``hops`` (same folds, same run) → a result set
    (UA / WA per variant; chance = 25 %)."""
    from emorec.training.sequence import SequenceTrainConfig, train_sequence_model

    corpus = pointer_corpus(n, seed=seed)
    base = {"dims": corpus.dims, "hidden": 32, "hops": hops[0], "dropout": 0.0, "num_classes": len(POINTER_CLASSES), "affect": False}
    cfg = SequenceTrainConfig(model="amh", label=f"N = {hops[0]}" + (": no hopping, last states only" if hops[0] == 0 else ""), model_config=base,
                              epochs=epochs, batch_size=32, lr=3e-3, seed=seed, run_dir=str(run_dir), out=None, results=results,
                              ablations={f"hops_{h}": {"hops": h} for h in hops[1:]})
    return train_sequence_model(cfg, corpus)


def check_tam_ulag(run_dir: str | Path, n: int = 1200, epochs: int = 12, seed: int = 0, results: str | None = None) -> dict:
    """Train ``tam_ulag`` (with ULAG) on :func:`conflict_corpus` and read the generated labels of the last epoch (fold 0's
    training set) → a result document whose ``metrics`` give, per modality and example group (``conflict`` = video
    contradicts the label, ``consistent``), the mean generated probability of the *video's* evidence class and the share of
    examples whose generated class differs from the multimodal label."""
    import pandas as pd

    from emorec.evaluation.results import git_commit
    from emorec.evaluation.runner import result_document, write_result
    from emorec.training.sequence import SequenceTrainConfig, train_sequence_model

    corpus, conflicted = conflict_corpus(n, seed=seed)
    cfg = SequenceTrainConfig(model="tam_ulag", model_config={"dims": corpus.dims, "hidden": 16, "shared": 16, "layers": 1, "dropout": 0.0, "num_classes": 2},
                              epochs=epochs, batch_size=32, lr=3e-3, seed=seed, run_dir=str(run_dir), out=None, results=None, folds_only=(0,))
    cv = train_sequence_model(cfg, corpus)
    last = sorted((Path(run_dir) / "fold0" / "ulag").glob("epoch_*.csv"))[-1]
    table = pd.read_csv(last)
    group = conflicted[table["index"].to_numpy()]
    label = table["multimodal_class"].to_numpy()
    evidence = np.where(group, 1 - label, label)  # the class the video shows
    metrics = {"epochs": epochs, "examples": int(len(table)), "conflict_examples": int(group.sum())}
    for m in ("audio", "video", "text"):
        p_label = table[f"{m}_prob"].to_numpy()  # probability of the generated argmax
        moved = table[f"{m}_class"].to_numpy() != label
        p_evidence = np.where(table[f"{m}_class"].to_numpy() == evidence, p_label, 1 - p_label)  # two classes
        for name, sel in (("conflict", group), ("consistent", ~group)):
            metrics[f"{m}_{name}_p_video_evidence"] = float(p_evidence[sel].mean())
            metrics[f"{m}_{name}_moved"] = float(moved[sel].mean())
        reg = table[f"{m}_reg0"].to_numpy()
        metrics[f"{m}_conflict_valence_shift"] = float(np.mean((reg - table["multimodal_reg0"].to_numpy())[group] * np.sign(table["multimodal_reg0"].to_numpy()[group])))
    doc = result_document("tam_ulag mechanism check (ULAG labels)", corpus.dataset, corpus.protocol + f"; labels of the last epoch ({last.name}), fold 0 training set",
                          [seed], {"ua_mean": cv["metrics"]["ua_mean"]}, [], commit=git_commit(), features="synthetic prototypes + Gaussian noise")
    doc["metrics"].update(metrics)
    write_result(doc, results)
    return doc
