"""ULAG: unimodal labels generated during training from the similarity of each modality's features to the multimodal
ones (seed 002, methods.md §3), and the multi-task objective of ``tam_ulag`` that uses them.

The regression labels follow Self-MM's unimodal label generation module (Yu, Xu, Yuan & Wu, AAAI 2021, section 3.3, and
its MMSA implementation), per regression target r (valence, arousal; or a MOSI sentiment scaled to [-1, 1]):

- class centres of each representation (multimodal ``f``, each modality ``s``): the mean feature of the examples whose
  (generated) label is positive, ``C^p``, and negative, ``C^n`` (features kept per example, updated every batch);
- relative distance ``δ = (‖F − C^n‖ − ‖F − C^p‖) / (‖F − C^p‖ + ε)`` for the multimodal (``δ_f``) and the unimodal
  (``δ_s``) features;
- the shifted label ``ŷ_s = ½ (δ_s/δ_f) y_m + ½ (y_m + δ_s − δ_f)``, clipped to [−1, 1];
- momentum across epochs: ``y_s ← (n−1)/(n+1) y_s + 2/(n+1) ŷ_s`` at epoch n ≥ 2 (epoch 1 keeps ``y_s = y_m``).

For emotion classes (a categorical label, which Self-MM does not cover) emorec generalises the same idea: one centre
per class ``C^k`` (mean feature of the examples whose generated label's argmax is k), a class distribution from the
distances, ``q = softmax_k(−‖F − C^k‖² / 2σ²)`` with σ² the mean squared distance of the features to their own class
centre (the posterior of equal-prior Gaussian classes), and the shifted label ``ŷ_s = normalise(max(0, y_m + q_s − q_f))`` — the
multimodal one-hot label moved by how much closer the modality's features lie to other classes than the multimodal
features do — with the same momentum.

:class:`ULAGModule` trains :class:`~emorec.models.tam_ulag.TAMULAG`: the multimodal head on the annotated labels
(:class:`~emorec.tasks.SequenceTask`'s loss) and each unimodal head on its generated labels (soft cross-entropy + L1
of valence/arousal), summed; ``ulag=False`` (the ablation) trains the unimodal heads on the multimodal labels.
The generated labels are written per epoch to ``run_dir/ulag/epoch_NNN.csv`` for inspection.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from emorec.training.module import EmotionModule

__all__ = ["ULAGModule", "UnimodalLabelGenerator", "relative_distance", "shifted_regression_label"]

EPS = 1e-8


def relative_distance(f: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """Self-MM's relative distance ``(‖f − C^n‖ − ‖f − C^p‖) / (‖f − C^p‖ + ε)``: ``f`` (B, d), centres (d,) → (B,)."""
    d_p = torch.linalg.vector_norm(f - pos, dim=-1)
    d_n = torch.linalg.vector_norm(f - neg, dim=-1)
    return (d_n - d_p) / (d_p + EPS)


def shifted_regression_label(y_m: torch.Tensor, delta_s: torch.Tensor, delta_f: torch.Tensor, bound: float = 1.0) -> torch.Tensor:
    """Self-MM's unimodal label from the multimodal one: ``½ (δ_s/δ_f) y_m + ½ (y_m + δ_s − δ_f)`` clipped to ±``bound`` (all (B,))."""
    alpha = delta_s / (delta_f + EPS)
    return (0.5 * alpha * y_m + 0.5 * (y_m + delta_s - delta_f)).clamp(-bound, bound)


class UnimodalLabelGenerator(nn.Module):
    """The state of ULAG over one training set: per example and representation the latest features, and per modality the
    generated labels (buffers, so a checkpoint resumes them).

    Parameters
    ----------
    num_examples : int
        Size of the corpus (examples are addressed by their corpus index).
    dim : int
        Feature width (the heads' hidden features).
    modalities : tuple of str
    num_classes : int
        Classes of the categorical label (0 = none).
    num_regression : int
        Regression targets (valence, arousal = 2; 0 = none).

    Buffers: ``features_<rep>`` (N, dim) for ``multimodal`` and each modality, ``seen_<rep>`` (N,) bool,
    ``classes_<rep>`` (N, K) label distributions, ``regression_<rep>`` (N, R) labels (NaN = unrated) —
    ``<rep> = multimodal`` holds the annotated labels.
    """

    def __init__(self, num_examples: int, dim: int, modalities: tuple[str, ...], num_classes: int, num_regression: int):
        super().__init__()
        self.modalities, self.num_classes, self.num_regression = tuple(modalities), num_classes, num_regression
        for rep in ("multimodal", *self.modalities):
            self.register_buffer(f"features_{rep}", torch.zeros(num_examples, dim))
            self.register_buffer(f"seen_{rep}", torch.zeros(num_examples, dtype=torch.bool))
            self.register_buffer(f"classes_{rep}", torch.zeros(num_examples, num_classes))
            self.register_buffer(f"regression_{rep}", torch.full((num_examples, num_regression), float("nan")))
        self.register_buffer("labelled", torch.zeros(num_examples, dtype=torch.bool))

    def _get(self, kind: str, rep: str) -> torch.Tensor:
        return getattr(self, f"{kind}_{rep}")

    def set_targets(self, index: torch.Tensor, label: torch.Tensor, regression: torch.Tensor) -> None:
        """Record the annotated labels of a batch (the first time an example is seen, every unimodal label starts equal to
        them): ``index`` (B,), ``label`` (B,) class index (−1 = none), ``regression`` (B, R) (NaN = unrated)."""
        new = ~self.labelled[index]
        if not new.any():
            return
        idx = index[new]
        onehot = torch.zeros(len(idx), self.num_classes)
        has = label[new] >= 0
        if self.num_classes:
            onehot[has, label[new][has]] = 1.0
        for rep in ("multimodal", *self.modalities):
            self._get("classes", rep)[idx] = onehot
            self._get("regression", rep)[idx] = regression[new].float()
        self.labelled[idx] = True

    def update_features(self, index: torch.Tensor, features: dict[str, torch.Tensor], available: dict[str, torch.Tensor]) -> None:
        """Keep each representation's features (detached) of the examples where it is present."""
        for rep, f in features.items():
            ok = available.get(rep, torch.ones(len(index), dtype=torch.bool))
            self._get("features", rep)[index[ok]] = f.detach()[ok].float()
            self._get("seen", rep)[index[ok]] = True

    def _class_centres(self, rep: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Per-class centres (K, d) and the within-class mean squared distance σ² of ``rep``'s features."""
        seen = self._get("seen", rep) & self.labelled
        dist = self._get("classes", rep)[seen]
        if not len(dist) or not dist.sum(1).gt(0).any():
            return None
        has = dist.sum(1) > 0
        arg = dist[has].argmax(1)
        feats = self._get("features", rep)[seen][has]
        centres = torch.zeros(self.num_classes, feats.shape[1])
        counts = torch.bincount(arg, minlength=self.num_classes).float()
        centres.index_add_(0, arg, feats)
        if (counts == 0).any():
            return None  # a class without examples: no centre to compare with yet
        centres = centres / counts[:, None]
        sigma2 = ((feats - centres[arg]) ** 2).sum(1).mean().clamp(min=EPS)
        return centres, sigma2

    @staticmethod
    def _posterior(f: torch.Tensor, centres: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        c, sigma2 = centres
        return torch.softmax(-torch.cdist(f, c) ** 2 / (2 * sigma2), dim=1)

    def _regression_centres(self, rep: str, r: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        seen = self._get("seen", rep) & self.labelled
        y = self._get("regression", rep)[seen, r]
        f = self._get("features", rep)[seen]
        pos, neg = y > 0, y < 0
        if not pos.any() or not neg.any():
            return None
        return f[pos].mean(0), f[neg].mean(0)

    def generate(self, index: torch.Tensor, features: dict[str, torch.Tensor], available: dict[str, torch.Tensor], epoch: int) -> None:
        """Update the generated unimodal labels of a batch from its features (epoch ≥ 2, 1-based; momentum ``(n−1)/(n+1)``)."""
        if epoch < 2:
            return
        keep, new = (epoch - 1) / (epoch + 1), 2 / (epoch + 1)
        f_m = features["multimodal"].detach().float()
        if self.num_classes:
            c_m = self._class_centres("multimodal")
            y_m = self.classes_multimodal[index]
            has = y_m.sum(1) > 0
            for s in self.modalities:
                c_s = self._class_centres(s)
                if c_m is None or c_s is None:
                    continue
                ok = available[s] & has
                q_m = self._posterior(f_m, c_m)
                q_s = self._posterior(features[s].detach().float(), c_s)
                shifted = (y_m + q_s - q_m).clamp(min=0)
                shifted = shifted / shifted.sum(1, keepdim=True).clamp(min=EPS)
                labels = self._get("classes", s)
                labels[index[ok]] = keep * labels[index[ok]] + new * shifted[ok]
        for r in range(self.num_regression):
            cm = self._regression_centres("multimodal", r)
            if cm is None:
                continue
            y_m = self.regression_multimodal[index, r]
            delta_f = relative_distance(f_m, *cm)
            for s in self.modalities:
                cs = self._regression_centres(s, r)
                if cs is None:
                    continue
                ok = available[s] & torch.isfinite(y_m)
                delta_s = relative_distance(features[s].detach().float(), *cs)
                labels = self._get("regression", s)
                labels[index[ok], r] = keep * labels[index[ok], r] + new * shifted_regression_label(y_m, delta_s, delta_f)[ok]

    def labels(self, rep: str, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The (generated, for a modality) class distributions (B, K) and regression labels (B, R) of a batch."""
        return self._get("classes", rep)[index], self._get("regression", rep)[index]

    def table(self, ids: list[str] | None = None):
        """Every labelled example's generated labels as a DataFrame: id, multimodal class, per modality the argmax class,
        its probability, and the regression labels (for ``run_dir/ulag/epoch_NNN.csv``)."""
        import pandas as pd

        idx = torch.nonzero(self.labelled).squeeze(1)
        cols: dict = {"index": idx.numpy()}
        if ids is not None:
            cols["id"] = [ids[i] for i in idx.tolist()]
        for rep in ("multimodal", *self.modalities):
            if self.num_classes:
                dist = self._get("classes", rep)[idx]
                cols[f"{rep}_class"] = np.where(dist.sum(1).numpy() > 0, dist.argmax(1).numpy(), -1)
                cols[f"{rep}_prob"] = dist.max(1).values.numpy().round(4)
            for r in range(self.num_regression):
                cols[f"{rep}_reg{r}"] = self._get("regression", rep)[idx, r].numpy().round(4)
            if rep != "multimodal":
                cols[f"{rep}_seen"] = self._get("seen", rep)[idx].numpy()
        return pd.DataFrame(cols)


class ULAGModule(EmotionModule):
    """Lightning module of the ``tam_ulag`` multi-task training (see the module docstring).

    Parameters
    ----------
    model : TAMULAG
    task : SequenceTask
        The multimodal task (utterance level).
    num_examples : int
        Corpus size (the batch targets carry each example's corpus ``index``).
    ids : list of str or None
        Example ids for the per-epoch label files.
    ulag : bool
        Generate unimodal labels (False: the ablation, unimodal heads learn the multimodal labels).
    unimodal_weight : float
        Weight of each unimodal loss.
    label_dir : str or None
        Where the per-epoch label tables go (None = not written).
    lr, weight_decay, max_epochs : as :class:`~emorec.training.module.EmotionModule`
    """

    def __init__(self, model, task, num_examples: int, ids: list[str] | None = None, ulag: bool = True, unimodal_weight: float = 1.0,
                 label_dir: str | None = None, lr: float = 1e-3, weight_decay: float = 1e-4, max_epochs: int = 30):
        super().__init__(model, task, lr, weight_decay, max_epochs)
        k = model.num_classes
        self.generator = UnimodalLabelGenerator(num_examples, model.head.out.in_features, model.modalities, k, 2 if model.affect else 0)
        self.ids, self.ulag, self.unimodal_weight, self.label_dir = ids, ulag, unimodal_weight, label_dir

    def training_step(self, batch, batch_idx):
        (x, mask), y = batch
        index = y["index"]
        k = self.model.num_classes
        regression = torch.where((y["label"] >= 0)[:, None], y["va"], torch.nan)  # utterance targets: the class's valence/arousal
        self.generator.set_targets(index, y["label"], regression[:, : self.generator.num_regression])
        out = self.model.forward_all(x, mask)
        epoch = self.current_epoch + 1
        if self.ulag:
            self.generator.generate(index, out["features"], out["available"], epoch)
        loss = self.task.loss(out["outputs"]["multimodal"], y)
        for m in self.model.modalities:
            ok = out["available"][m]
            if not ok.any():
                continue
            dist, reg = self.generator.labels(m if self.ulag else "multimodal", index)
            o = out["outputs"][m][ok]
            if k:
                has = dist[ok].sum(1) > 0
                if has.any():
                    loss = loss + self.unimodal_weight * -(dist[ok][has] * torch.log_softmax(o[has, :k], dim=1)).sum(1).mean()
            if self.generator.num_regression:
                rated = torch.isfinite(reg[ok]).all(1)
                if rated.any():
                    loss = loss + self.unimodal_weight * self.task.affect_weight * (o[rated, k : k + 2] - reg[ok][rated]).abs().mean()
        self.generator.update_features(index, out["features"], {"multimodal": torch.ones_like(index, dtype=torch.bool), **out["available"]})
        self.log("train/loss", loss, prog_bar=True, on_step=False, on_epoch=True)
        return loss

    def on_train_epoch_end(self):
        if self.label_dir is None:
            return
        table = self.generator.table(self.ids)
        for m in self.model.modalities:
            if f"{m}_class" in table:
                seen = table[f"{m}_seen"]
                if seen.any():
                    self.log(f"ulag/{m}_moved", float((table[f"{m}_class"][seen] != table["multimodal_class"][seen]).mean()))
        path = Path(self.label_dir)
        path.mkdir(parents=True, exist_ok=True)
        table.to_csv(path / f"epoch_{self.current_epoch + 1:03d}.csv", index=False)
