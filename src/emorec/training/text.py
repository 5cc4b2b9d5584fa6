"""Train and evaluate emorec's text models on EmoBank (V/A/D regression) and MELD (7-class, single utterance).

Protocols: official splits — fit on train, select the epoch on dev, report
test. Baselines measured in the same run: frozen MiniLM sentence embeddings +
ridge (EmoBank) / logistic regression (MELD).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from emorec import metrics
from emorec.data.text import MELD_CLASSES, load_emobank, load_meld
from emorec.evaluation.results import git_commit

__all__ = ["TextTrainConfig", "train_text", "frozen_embeddings"]


@dataclass
class TextTrainConfig:
    """Settings of one text-model training run."""

    corpus: str = "emobank"  # or "meld"
    data: str = "../shared/data/emobank"
    run_dir: str = "runs/text_emobank"
    trainable_layers: int = 2
    epochs: int = 4
    batch_size: int = 32
    lr: float = 5e-5
    head_lr: float = 1e-3
    max_length: int = 64
    seed: int = 0
    limit: int | None = None
    out: str = "src/emorec/weights/text_emobank.safetensors"
    results: str | None = "results/text_emobank.json"


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


def _score(cfg, task, pred, y) -> dict:
    if cfg.corpus == "emobank":
        return task.scores(pred, y)
    p = pred.argmax(1)
    return {"wa": metrics.wa(y, p), "ua": metrics.ua(y, p, 7), "f1_weighted": metrics.f1_weighted(y, p, 7), "f1_macro": metrics.f1_macro(y, p, 7)}


def train_text(cfg: TextTrainConfig) -> dict:
    """Fine-tune, keep the best dev epoch, export the trainable weights, score test; plus the frozen probe baseline."""
    from safetensors.torch import save_file
    from sklearn.linear_model import LogisticRegression, Ridge

    from emorec.models.text_emotion import TextEmotionModel
    from emorec.tasks import ClassificationTask, RegressionTask

    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    run = Path(cfg.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text(json.dumps(asdict(cfg), indent=1))
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
        baseline = _score(cfg, task, probe.predict_proba(emb["test"]), data["test"][1])

    model = TextEmotionModel(num_out, cfg.trainable_layers)
    head = list(model.head.parameters())
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head.")]
    opt = torch.optim.AdamW([{"params": body, "lr": cfg.lr}, {"params": head, "lr": cfg.head_lr}], weight_decay=0.01)
    texts, y = data["train"]
    steps = cfg.epochs * int(np.ceil(len(texts) / cfg.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[cfg.lr, cfg.head_lr], total_steps=max(steps, 1), pct_start=0.1)
    target = torch.tensor(y, dtype=torch.float32 if regression else torch.long)

    def predict(texts_: list[str]) -> np.ndarray:
        model.eval()
        with torch.inference_mode():
            return np.concatenate([model(model.encode(texts_[i : i + 128], cfg.max_length)).numpy() for i in range(0, len(texts_), 128)])

    key = "pearson_valence" if regression else "f1_weighted"
    best, best_state, history = -np.inf, None, []
    for epoch in range(cfg.epochs):
        model.train()
        order = np.random.permutation(len(texts))
        losses = []
        t0 = time.time()
        for b in range(0, len(order), cfg.batch_size):
            idx = order[b : b + cfg.batch_size]
            loss = task.loss(model(model.encode([texts[i] for i in idx], cfg.max_length)), target[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        dev = _score(cfg, task, predict(data["dev"][0]), data["dev"][1])
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "seconds": time.time() - t0, **{f"dev_{k}": v for k, v in dev.items()}})
        print(json.dumps(history[-1]), flush=True)
        if dev[key] > best:
            best, best_state = dev[key], {k: v.clone() for k, v in model.trainable_state_dict().items()}
    model.load_state_dict(best_state, strict=False)
    test = _score(cfg, task, predict(data["test"][0]), data["test"][1])
    Path(cfg.out).parent.mkdir(parents=True, exist_ok=True)
    info = {"corpus": cfg.corpus, "outputs": list(task.names) if regression else list(MELD_CLASSES), "trainable_layers": cfg.trainable_layers, "target": "V/A/D - 3 (1-5 scale)" if regression else "class"}
    save_file({k: v.contiguous().half() for k, v in model.trainable_state_dict().items()}, cfg.out, metadata={"info": json.dumps(info)})
    name = "text_emobank" if regression else "text_meld"
    result = {
        "kind": "regression" if regression else "classification",
        "model": name,
        "dataset": "EmoBank (10,061 sentences with text)" if regression else "MELD transcripts (13,708 utterances), single utterance",
        "protocol": "official split: train / select on dev / test" + (f"; trained on {cfg.limit} items only" if cfg.limit else ""),
        "seeds": [cfg.seed],
        "features": f"all-MiniLM-L6-v2, top {cfg.trainable_layers} layers fine-tuned + linear head, {cfg.epochs} epochs",
        "metrics": test,
        "baseline_frozen_probe": baseline,
        "history": history,
        "date": time.strftime("%Y-%m-%d"),
        "commit": git_commit(),
    }
    if cfg.results:
        Path(cfg.results).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.results).write_text(json.dumps(result, indent=1))
    return result
