"""The one training loop every emorec network goes through: settings shared by all
recipes, and :func:`fit` — Lightning trainer, seeds, early stopping, best and last
checkpoints, resume after interruption, CPU by default or an accelerator by flag.

Recipes (:mod:`emorec.training.face`, :mod:`emorec.training.text`) subclass
:class:`TrainConfig` with their own fields and call :func:`fit` with their
model, task and data loaders.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

__all__ = ["TrainConfig", "fit", "read_history"]


@dataclass
class TrainConfig:
    """Settings common to every training recipe (saved as ``run_dir/config.json``).

    Attributes
    ----------
    run_dir : str
        Checkpoints (``best.ckpt``, ``last.ckpt``; emorec's own files) and CSV logs.
        A rerun with the same ``run_dir`` resumes from ``last.ckpt``.
    epochs, batch_size, lr, weight_decay, patience, seed
        Optimisation: AdamW, cosine schedule over ``epochs``, early stopping after
        ``patience`` epochs without improvement of the monitored dev metric.
    accelerator : str
        ``"cpu"`` (default), ``"gpu"``, ``"mps"`` or ``"auto"``; ``devices`` > 1 trains data-parallel (DDP).
    limit : int or None
        Train on this many items only (tiny CI runs).
    out : str
        Exported weights (safetensors).
    results : str or None
        Evaluation output (JSON) read by ``emorec results``.
    """

    run_dir: str = "runs/model"
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 8
    seed: int = 0
    accelerator: str = "cpu"
    devices: int = 1
    limit: int | None = None
    out: str = "model.safetensors"
    results: str | None = None


def fit(module, train_loader, val_loader, cfg: TrainConfig, monitor: str | None, mode: str = "max"):
    """Train ``module`` (an :class:`~emorec.training.module.EmotionModule`) and load its best epoch.

    Parameters
    ----------
    module : EmotionModule
    train_loader, val_loader : torch.utils.data.DataLoader
        ``val_loader`` may be None when ``monitor`` is None.
    cfg : TrainConfig
    monitor : str or None
        Logged dev metric that selects the epoch, e.g. ``"val/ua"``, ``"val/pearson_valence"``;
        None = no selection: train all ``cfg.epochs`` and keep the last epoch (for
        recipes with a fixed schedule and no dev set).
    mode : {"max", "min"}

    Returns
    -------
    lightning.Trainer
        After training; ``module`` holds the best (or last) epoch's weights.
    """
    import lightning as L
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    L.seed_everything(cfg.seed, workers=True)
    run = Path(cfg.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text(json.dumps(asdict(cfg), indent=1))
    if monitor is None:
        best = ModelCheckpoint(dirpath=run, save_top_k=0, save_last=True)
        callbacks = [best]
    else:
        best = ModelCheckpoint(dirpath=run, filename="best", monitor=monitor, mode=mode, save_last=True)
        callbacks = [best, EarlyStopping(monitor=monitor, mode=mode, patience=cfg.patience)]
    trainer = L.Trainer(
        max_epochs=cfg.epochs, accelerator=cfg.accelerator, devices=cfg.devices, default_root_dir=run,
        logger=L.pytorch.loggers.CSVLogger(run, name="logs"), callbacks=callbacks,
        enable_progress_bar=True, deterministic=False, num_sanity_val_steps=0,
    )
    resume = run / "last.ckpt"
    trainer.fit(module, train_loader, val_loader, ckpt_path=str(resume) if resume.exists() else None)
    if monitor is not None and best.best_model_path:
        state = torch.load(best.best_model_path, map_location="cpu", weights_only=True)["state_dict"]  # emorec's own checkpoint
        module.load_state_dict(state)
    module.eval()
    return trainer


def read_history(trainer) -> list[dict]:
    """Per-epoch logged values (``train/loss``, ``val/...``) from the run's CSV log, one dict per epoch."""
    import pandas as pd

    path = Path(trainer.logger.log_dir) / "metrics.csv"
    if not path.exists():
        return []
    log = pd.read_csv(path)
    rows = log.groupby("epoch").agg(lambda s: s.dropna().iloc[-1] if s.notna().any() else None).drop(columns=["step"], errors="ignore")
    return [{"epoch": int(e), **{k: float(v) for k, v in r.items() if v is not None and v == v}} for e, r in rows.iterrows()]
