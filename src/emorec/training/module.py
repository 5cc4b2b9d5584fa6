"""A LightningModule wrapping any emorec model and task."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch

__all__ = ["EmotionModule"]


class EmotionModule(L.LightningModule):
    """Train ``model`` for ``task``; logs ``train/loss``, ``val/<metric>`` each epoch.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch of inputs to ``(batch, num_classes)`` logits.
    task : ClassificationTask
    lr, weight_decay : float
        AdamW settings; the learning rate follows a cosine schedule over ``max_epochs``.
    max_epochs : int
    """

    def __init__(self, model: torch.nn.Module, task, lr: float = 1e-3, weight_decay: float = 1e-4, max_epochs: int = 30):
        super().__init__()
        self.model, self.task = model, task
        self.lr, self.weight_decay, self.max_epochs = lr, weight_decay, max_epochs
        self._val: list[tuple[np.ndarray, np.ndarray]] = []

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.task.loss(self.model(x), y)
        self.log("train/loss", loss, prog_bar=True, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self.model(x)
        self.log("val/loss", self.task.loss(logits, y), prog_bar=False, on_epoch=True)
        self._val.append((logits.detach().cpu().numpy(), y.cpu().numpy()))

    def on_validation_epoch_end(self):
        if not self._val:
            return
        logits = np.concatenate([a for a, _ in self._val])
        target = np.concatenate([b for _, b in self._val])
        self._val.clear()
        for k, v in self.task.scores(logits, target).items():
            self.log(f"val/{k}", v, prog_bar=k in ("ua", "wa"))

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, self.max_epochs))
        return {"optimizer": opt, "lr_scheduler": sched}
