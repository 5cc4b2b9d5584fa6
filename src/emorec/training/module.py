"""A LightningModule wrapping any emorec model and task."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch

__all__ = ["EmotionModule", "UnimodalModule"]


class EmotionModule(L.LightningModule):
    """Train ``model`` for ``task``; logs ``train/loss``, ``val/<metric>`` each epoch.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch of inputs to ``(batch, num_classes)`` logits.
    task : ClassificationTask
    lr, weight_decay : float
        Optimiser settings; by default AdamW with a cosine schedule over ``max_epochs`` (see ``optimizer``, ``schedule``).
        Only parameters with ``requires_grad`` are optimised (frozen encoders stay frozen).
    max_epochs : int
    head_lr : float or None
        A separate learning rate for ``model.head`` (fine-tuning a pretrained body
        slowly under a fresh head); None = one rate for all.
    optimizer : {"adamw", "adam"}
        ``adam`` applies ``weight_decay`` as an L2 term (torch's Adam), as papers that say "Adam" mean.
    schedule : str
        ``"cosine"`` over ``max_epochs`` (default), or ``"step:N:G"``: the rate × G every N epochs (e.g. the 004 paper's
        ``"step:30:0.1"``).

    Raises
    ------
    ValueError
        Unknown ``optimizer`` or ``schedule``.
    """

    def __init__(self, model: torch.nn.Module, task, lr: float = 1e-3, weight_decay: float = 1e-4, max_epochs: int = 30, head_lr: float | None = None,
                 optimizer: str = "adamw", schedule: str = "cosine"):
        super().__init__()
        if optimizer not in ("adamw", "adam"):
            raise ValueError(f"optimizer must be 'adamw' or 'adam', not {optimizer!r}")
        if schedule != "cosine" and not (schedule.startswith("step:") and len(schedule.split(":")) == 3):
            raise ValueError(f"schedule must be 'cosine' or 'step:EPOCHS:GAMMA' (e.g. 'step:30:0.1'), not {schedule!r}")
        self.model, self.task = model, task
        self.lr, self.weight_decay, self.max_epochs, self.head_lr = lr, weight_decay, max_epochs, head_lr
        self.optimizer_name, self.schedule = optimizer, schedule
        self._val: list[tuple[np.ndarray, np.ndarray]] = []
        self.class_loss = getattr(task, "class_loss", None)  # a submodule, so a stateful loss (FLDW) is checkpointed

    def on_train_epoch_end(self):
        end = getattr(self.class_loss, "end_epoch", None)
        if end is not None:
            end()  # FLDW: this epoch's confusion matrix weights the next epoch

    def forward(self, x):
        """``x`` is the model's input, or a tuple of its inputs (e.g. padded sequences and their lengths)."""
        return self.model(*x) if isinstance(x, (tuple, list)) else self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.task.loss(self(x), y)
        self.log("train/loss", loss, prog_bar=True, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
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
        trainable = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        if self.head_lr is None:
            groups = [{"params": [p for _, p in trainable], "lr": self.lr}]
        else:
            groups = [{"params": [p for n, p in trainable if not n.startswith("head.")], "lr": self.lr},
                      {"params": [p for n, p in trainable if n.startswith("head.")], "lr": self.head_lr}]
        opt = (torch.optim.AdamW if self.optimizer_name == "adamw" else torch.optim.Adam)(groups, weight_decay=self.weight_decay)
        if self.schedule == "cosine":
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, self.max_epochs))
        else:
            _, every, gamma = self.schedule.split(":")
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=int(every), gamma=float(gamma))
        return {"optimizer": opt, "lr_scheduler": sched}


class UnimodalModule(EmotionModule):
    """Train each modality's own head on the examples where that modality is present (the sum of the task's losses
    per modality) — for models with ``unimodal(x, mask) → (outputs, available)`` such as ``late_mean``, whose fused output
    is then a fixed (unlearned) rule over independently trained unimodal models."""

    def training_step(self, batch, batch_idx):
        (x, mask), y = batch
        outs, available = self.model.unimodal(x, mask)
        loss = None
        for m, out in outs.items():
            keep = available[m]
            if keep.any():
                part = self.task.loss(out[keep], {k: v[keep] for k, v in y.items() if torch.is_tensor(v) and len(v) == len(keep)})
                loss = part if loss is None else loss + part
        if loss is None:
            loss = sum(p.sum() * 0.0 for p in self.model.parameters())
        self.log("train/loss", loss, prog_bar=True, on_step=False, on_epoch=True)
        return loss
