"""Train and evaluate emorec's text models on EmoBank (V/A/D regression) and MELD (7-class, single utterance).

Protocols: official splits — fit on train, select the epoch on dev, report
test. Baselines measured in the same run: frozen MiniLM sentence embeddings +
ridge (EmoBank) / logistic regression (MELD).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from emorec.data.text import MELD_CLASSES, load_emobank, load_meld
from emorec.evaluation.results import git_commit
from emorec.evaluation.runner import result_document, write_result
from emorec.training.harness import TrainConfig, fit, read_history

__all__ = ["TextTrainConfig", "frozen_embeddings", "train_text"]


@dataclass
class TextTrainConfig(TrainConfig):
    """Settings of one text-model run (common fields: :class:`~emorec.training.harness.TrainConfig`)."""

    corpus: str = "emobank"  # or "meld"
    data: str = "../shared/data/emobank"
    run_dir: str = "runs/text_emobank"
    trainable_layers: int = 3
    epochs: int = 6
    batch_size: int = 32
    lr: float = 5e-5
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    patience: int = 3
    max_length: int = 64
    out: str = "src/emorec/weights/text_emobank.safetensors"
    results: str | None = "results/text_emobank.json"


class _Texts(torch.utils.data.Dataset):
    def __init__(self, texts: list[str], targets: np.ndarray):
        self.texts, self.targets = texts, targets

    def __len__(self):
        return len(self.texts)

    def __getitem__(self, i):
        return self.texts[i], self.targets[i]


def _collate(model, max_length: int, regression: bool):
    def collate(items):
        texts, y = zip(*items)
        return model.encode(list(texts), max_length), torch.tensor(np.stack(y), dtype=torch.float32 if regression else torch.long)

    return collate


def _splits(cfg: TextTrainConfig):
    if cfg.corpus == "emobank":
        df = load_emobank(cfg.data)
        y = ((df[["V", "A", "D"]].to_numpy(np.float32)) - 3.0)
        split = df.split.to_numpy()
    elif cfg.corpus == "meld":
        df = load_meld(cfg.data)
        y = df.label.to_numpy()
        split = df.split.to_numpy()
    else:
        raise ValueError(f"unknown text corpus {cfg.corpus!r} (emobank or meld)")
    out = {}
    for s in ("train", "dev", "test"):
        idx = np.flatnonzero(split == s)
        if cfg.limit:
            idx = idx[: cfg.limit if s == "train" else max(cfg.limit // 4, 8)]
        out[s] = (df.text.iloc[idx].tolist(), y[idx])
    return out


@torch.inference_mode()
def frozen_embeddings(texts: list[str], batch_size: int = 128, max_length: int = 64) -> np.ndarray:
    """Mean-pooled MiniLM sentence embeddings ``(num_texts, 384)`` (frozen encoder)."""
    from emorec.models.text_emotion import TextEmotionModel

    model = TextEmotionModel(1, 0).eval()
    return np.concatenate([model.forward_features(model.encode(texts[i : i + batch_size], max_length)).numpy() for i in range(0, len(texts), batch_size)])


def train_text(cfg: TextTrainConfig) -> dict:
    """Fine-tune through :func:`~emorec.training.harness.fit`, keep the best dev epoch, export the trainable weights,
    score test; plus the frozen-probe baseline in the same run."""
    from sklearn.linear_model import LogisticRegression, Ridge

    from emorec.models.text_emotion import TextEmotionModel, save_text_model
    from emorec.tasks import ClassificationTask, RegressionTask
    from emorec.training.module import EmotionModule

    commit = git_commit()  # the code that trains, not whatever HEAD is when training ends
    torch.manual_seed(cfg.seed)
    data = _splits(cfg)
    regression = cfg.corpus == "emobank"
    task = RegressionTask(("valence", "arousal", "dominance")) if regression else ClassificationTask(MELD_CLASSES)
    num_out = 3 if regression else len(MELD_CLASSES)

    # baseline in the same run: frozen embeddings + linear model
    emb = {s: frozen_embeddings(data[s][0], max_length=cfg.max_length) for s in data}
    if regression:
        probe = Ridge(alpha=10.0).fit(emb["train"], data["train"][1])
        baseline = task.scores(probe.predict(emb["test"]), data["test"][1])
    else:
        probe = LogisticRegression(C=1.0, max_iter=3000).fit(emb["train"], data["train"][1])
        baseline = task.scores(probe.predict_proba(emb["test"]), data["test"][1])

    model = TextEmotionModel(num_out, cfg.trainable_layers)
    collate = _collate(model, cfg.max_length, regression)
    loaders = {s: torch.utils.data.DataLoader(_Texts(*data[s]), batch_size=cfg.batch_size if s == "train" else 128, shuffle=s == "train", collate_fn=collate)
               for s in ("train", "dev")}
    module = EmotionModule(model, task, cfg.lr, cfg.weight_decay, cfg.epochs, head_lr=cfg.head_lr)
    trainer = fit(module, loaders["train"], loaders["dev"], cfg, monitor="val/pearson_valence" if regression else "val/f1_weighted")
    model = module.model.eval()

    with torch.inference_mode():
        texts = data["test"][0]
        pred = np.concatenate([model(model.encode(texts[i : i + 128], cfg.max_length)).numpy() for i in range(0, len(texts), 128)])
    test = task.scores(pred, data["test"][1])
    info = {"corpus": cfg.corpus, "outputs": list(task.names) if regression else list(MELD_CLASSES), "trainable_layers": cfg.trainable_layers, "target": "V/A/D - 3 (1-5 scale)" if regression else "class"}
    save_text_model(model, cfg.out, info)
    name = "text_emobank" if regression else "text_meld"
    result = result_document(
        name, "EmoBank (10,061 sentences with text)" if regression else "MELD transcripts (13,708 utterances), single utterance",
        "official split: train / select on dev / test" + (f"; trained on {cfg.limit} items only" if cfg.limit else ""),
        [cfg.seed], test, commit=commit, kind="regression" if regression else "classification",
        features=f"all-MiniLM-L6-v2, top {cfg.trainable_layers} layers fine-tuned + linear head, {trainer.current_epoch} epochs (best on dev kept)",
        baseline_frozen_probe=baseline, history=read_history(trainer),
    )
    write_result(result, cfg.results)
    return result
