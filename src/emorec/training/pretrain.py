"""Masked-frame pretraining (patent 001, ``masked_pretrain``) streamed from shards.

- :class:`ShardStream` — a ``torch.utils.data.IterableDataset`` over a shard folder (:mod:`emorec.data.shards`): each
  consumer (DDP rank × dataloader worker) reads only its shards (:func:`~emorec.data.shards.assign_shards`), one row group
  at a time, so memory does not grow with the corpus and no sample is read twice or skipped in an epoch.
- :func:`collate_crops` — random crops of at most ``max_frames`` frames, padded, with their valid mask.
- :class:`PretrainModule` — Lightning module: :func:`~emorec.models.masked_pretrain.mask_frames` (10 % by default) →
  :class:`~emorec.models.masked_pretrain.MaskedEncoder` → :func:`~emorec.models.masked_pretrain.reconstruction_loss`;
  logs ``train/loss_masked`` (the objective) and ``train/loss_all``.
- :func:`pretrain` — one run (``emorec pretrain``): the same code in one process or data-parallel (``devices`` > 1:
  Lightning's DDP strategy; gloo on CPU, nccl on GPU); writes the encoder as safetensors.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lightning as L
import numpy as np
import torch

from emorec.data.shards import assign_shards, iter_shard, read_manifest, shard_ids
from emorec.models.masked_pretrain import MaskedEncoder, mask_frames, reconstruction_loss

__all__ = ["PretrainConfig", "PretrainModule", "ShardStream", "collate_crops", "pretrain"]


class ShardStream(torch.utils.data.IterableDataset):
    """Stream ``(id, (T, D) float32)`` from a shard folder.

    Parameters
    ----------
    folder : str or Path
    rank, world : int or None
        DDP rank and world size (None: from ``torch.distributed`` when initialised, else 0 and 1).
    shuffle : bool
        Shuffle this consumer's shard order and the rows within each row group, anew each epoch.
    seed : int
    epochs : int or None
        Passes over the data in one iteration: 1 (an epoch per iteration, e.g. for a finite dataloader), or None
        (endless: epoch after epoch — for training by optimiser steps, where a resumed run skips what it consumed).
    exclude : collection of str
        Sequences left out, by the file stem of their id (e.g. a cross-validation fold's test clips, so a fold's encoder
        never hears its test speakers).

    Attributes
    ----------
    skip : int
        Samples to skip at the start (a run resumed by steps: the order is fixed by seed, epoch, rank and worker, so
        skipping what the killed run consumed puts the stream where it stopped).
    """

    def __init__(self, folder: str | Path, rank: int | None = None, world: int | None = None, shuffle: bool = True, seed: int = 0, epochs: int | None = 1,
                 exclude: Collection[str] = ()):
        super().__init__()
        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder)
        self.rank, self.world, self.shuffle, self.seed, self.epochs = rank, world, shuffle, seed, epochs
        self.exclude = frozenset(exclude)
        self.epoch, self.skip = 0, 0

    def counts(self) -> list[int]:
        """Sequences per shard after ``exclude``."""
        if not self.exclude:
            return [s["count"] for s in self.manifest["shards"]]
        return [sum(not _excluded(i, self.exclude) for i in shard_ids(self.folder / s["file"])) for s in self.manifest["shards"]]

    def set_epoch(self, epoch: int) -> None:
        """The first epoch of the next iteration (its shuffle order)."""
        self.epoch = epoch

    def consumer(self) -> tuple[int, int, int, int]:
        """(rank, world, worker, workers) of the calling process."""
        rank, world = self.rank, self.world
        if rank is None or world is None:
            dist = torch.distributed
            ready = dist.is_available() and dist.is_initialized()
            rank, world = (dist.get_rank(), dist.get_world_size()) if ready else (0, 1)
        info = torch.utils.data.get_worker_info()
        return rank, world, (info.id if info else 0), (info.num_workers if info else 1)

    def samples_per_rank(self, world: int) -> int:
        """The fewest samples any of ``world`` ranks reads per epoch (ranks must take the same number of steps)."""
        counts = self.counts()
        return min(sum(counts[i] for i in assign_shards(len(counts), r, world)) for r in range(world))

    def __iter__(self):
        import itertools

        rank, world, worker, workers = self.consumer()
        if self.skip and workers > 1:
            raise ValueError("resuming needs workers = 0 (the interleaving of several workers is not replayed)")
        skip = self.skip
        epochs = itertools.count(self.epoch) if self.epochs is None else range(self.epoch, self.epoch + self.epochs)
        for epoch in epochs:
            mine = assign_shards(len(self.manifest["shards"]), rank, world, worker, workers)
            rng = np.random.default_rng((self.seed, epoch, rank, worker))
            if self.shuffle:
                rng.shuffle(mine)
            for i in mine:
                for item in iter_shard(self.folder / self.manifest["shards"][i]["file"], self.manifest["dim"], rng if self.shuffle else None):
                    if self.exclude and _excluded(item[0], self.exclude):
                        continue
                    if skip:
                        skip -= 1
                        continue
                    yield item


def _excluded(sid: str, stems: frozenset[str]) -> bool:
    """Whether a shard sequence comes from one of the files ``stems`` names (a window ``<file>#<k>`` of it included)."""
    return Path(sid.split("#")[0]).stem in stems


def collate_crops(items: list[tuple[str, np.ndarray]], max_frames: int = 400, rng: np.random.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad a batch of sequences, each cut to a random window of at most ``max_frames``: (B, T, D) float32 and (B, T) bool."""
    rng = rng or np.random.default_rng()
    crops = []
    for _, seq in items:
        if len(seq) > max_frames:
            s = int(rng.integers(0, len(seq) - max_frames + 1))
            seq = seq[s : s + max_frames]
        crops.append(seq)
    t = max(1, max(len(c) for c in crops))
    x = torch.zeros(len(crops), t, crops[0].shape[1])
    valid = torch.zeros(len(crops), t, dtype=torch.bool)
    for i, c in enumerate(crops):
        x[i, : len(c)] = torch.from_numpy(np.array(c))
        valid[i, : len(c)] = True
    return x, valid


class PretrainModule(L.LightningModule):
    """Masked-frame reconstruction of one modality's features (see the module docstring).

    Parameters
    ----------
    encoder : MaskedEncoder
    ratio : float
        Share of valid frames zeroed per sequence (0.1).
    unit : {"frames", "spans"}
    lr, weight_decay : float
    mean, std : (D,) arrays or None
        Feature standardisation (from the shards); the loss is computed on standardised features.
    window : int
        Steps averaged in ``train/loss_masked_window`` (an epoch's worth in :func:`pretrain`).
    """

    def __init__(self, encoder: MaskedEncoder, ratio: float = 0.1, unit: str = "frames", lr: float = 1e-3, weight_decay: float = 1e-4, mean=None, std=None,
                 window: int = 50):
        super().__init__()
        self.encoder, self.ratio, self.unit, self.lr, self.weight_decay = encoder, ratio, unit, lr, weight_decay
        self.recent: list[float] = []  # the last ``window`` steps' masked losses (logged as their mean)
        self.window = window
        d = encoder.in_dim
        self.register_buffer("mean", torch.as_tensor(mean if mean is not None else np.zeros(d), dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std if std is not None else np.ones(d), dtype=torch.float32))

    def step(self, batch) -> dict[str, torch.Tensor]:
        x, valid = batch
        target = (x - self.mean) / self.std * valid.unsqueeze(-1)
        masked, chosen = mask_frames(target, valid, self.ratio, self.unit)
        return reconstruction_loss(self.encoder.reconstruct(masked, valid), target, chosen, valid)

    def training_step(self, batch, batch_idx):
        losses = self.step(batch)
        self.recent = (self.recent + [float(losses["masked"].detach())])[-self.window :]
        self.log("train/loss_masked_window", float(np.mean(self.recent)), on_step=True, on_epoch=False, batch_size=len(batch[0]))
        self.log("train/steps", float(self.global_step + 1), on_step=True, on_epoch=False, batch_size=len(batch[0]))  # survives ddp_spawn
        self.log("train/loss_masked", losses["masked"], prog_bar=True, on_step=True, on_epoch=True, sync_dist=True, batch_size=len(batch[0]))
        self.log("train/loss_all", losses["all"], on_step=False, on_epoch=True, sync_dist=True, batch_size=len(batch[0]))
        return losses["masked"]

    def configure_optimizers(self):
        return torch.optim.AdamW(self.encoder.parameters(), lr=self.lr, weight_decay=self.weight_decay)

    def on_train_start(self):
        """A resumed run: the (endless) shard stream skips the samples the interrupted run consumed — ``global_step`` batches."""
        loader = self.trainer.train_dataloader
        stream = loader.dataset if loader is not None else None
        if isinstance(stream, ShardStream):
            stream.skip = self.trainer.global_step * loader.batch_size


@dataclass
class PretrainConfig:
    """Settings of :func:`pretrain` (``emorec pretrain``).

    Attributes
    ----------
    shards : str
        Shard folder (``emorec shards``).
    out : str
        Encoder weights (safetensors).
    run_dir : str
    hidden, layers : int
    cell : {"gru", "lstm"}
    ratio : float
        Masked share of frames (0.1 = the patent's 10 %).
    unit : {"frames", "spans"}
    max_frames : int
        Random crop length of each training sequence.
    epochs : int
        Passes over the data (``epochs × samples per rank // batch_size`` optimiser steps).
    batch_size, workers, seed : int
    lr : float
    devices : int
        Processes (> 1: DDP, gloo on CPU).
    strategy : str
        Lightning strategy when ``devices`` > 1: ``ddp`` (re-launches the command per rank; the CLI's) or ``ddp_spawn``
        (spawns the ranks from this process; for notebooks and tests).
    accelerator : str
    max_steps : int or None
        Stop after this many optimiser steps (smoke runs).
    checkpoint_every : int
        Write ``run_dir/last.ckpt`` every this many optimiser steps; a rerun with the same ``run_dir`` resumes from it, in
        the middle of an epoch included (the stream skips what the killed run consumed; ``workers`` must be 0 then).
    exclude : tuple of str
        File stems of sequences left out (:class:`ShardStream`), e.g. a fold's test clips.
    """

    shards: str = ""
    out: str = "masked_encoder.safetensors"
    run_dir: str = "runs/pretrain"
    hidden: int = 128
    layers: int = 2
    cell: str = "gru"
    ratio: float = 0.1
    unit: str = "frames"
    max_frames: int = 400
    epochs: int = 5
    batch_size: int = 32
    workers: int = 0
    seed: int = 0
    lr: float = 1e-3
    devices: int = 1
    strategy: str = "ddp"
    accelerator: str = "cpu"
    max_steps: int | None = None
    checkpoint_every: int = 50
    exclude: tuple[str, ...] = field(default=(), repr=False)


def _feature_stats(folder: Path, manifest: dict, limit: int = 200, exclude: frozenset[str] = frozenset()) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation over the first ``limit`` sequences not excluded (standardisation for the loss)."""
    seqs = []
    for s in manifest["shards"]:
        for sid, seq in iter_shard(folder / s["file"], manifest["dim"]):
            if _excluded(sid, exclude):
                continue
            seqs.append(seq)
            if len(seqs) >= limit:
                break
        if len(seqs) >= limit:
            break
    frames = np.concatenate(seqs)
    return frames.mean(0), frames.std(0) + 1e-6


def pretrain(cfg: PretrainConfig, callbacks: list | None = None) -> dict:
    """Masked-frame pretraining of one modality's encoder from a shard folder; writes ``cfg.out`` (safetensors with the
    encoder's configuration and the feature statistics) and returns the last epoch's losses and ``global_step``.
    ``callbacks``: extra Lightning callbacks.

    Raises
    ------
    DatasetError
        Not a shard folder, or shards missing.
    """
    from functools import partial

    from emorec.models.weights import save_weights

    folder = Path(cfg.shards)
    manifest = read_manifest(folder)
    L.seed_everything(cfg.seed, workers=True)
    mean, std = _feature_stats(folder, manifest, exclude=frozenset(cfg.exclude))
    encoder = MaskedEncoder(manifest["dim"], cfg.hidden, cfg.layers, cfg.cell)
    stream = ShardStream(folder, seed=cfg.seed, epochs=None, exclude=cfg.exclude)  # endless: training is counted in optimiser steps
    steps_per_epoch = max(1, stream.samples_per_rank(cfg.devices) // cfg.batch_size)
    module = PretrainModule(encoder, cfg.ratio, cfg.unit, cfg.lr, mean=mean, std=std, window=steps_per_epoch)
    max_steps = cfg.max_steps or cfg.epochs * steps_per_epoch
    loader = torch.utils.data.DataLoader(stream, batch_size=cfg.batch_size, num_workers=cfg.workers,
                                         collate_fn=partial(collate_crops, max_frames=cfg.max_frames, rng=np.random.default_rng(cfg.seed)))
    run = Path(cfg.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    from lightning.pytorch.callbacks import ModelCheckpoint

    checkpoint = ModelCheckpoint(dirpath=run, save_last=True, save_top_k=0, every_n_train_steps=cfg.checkpoint_every)
    trainer = L.Trainer(max_epochs=-1, max_steps=max_steps, accelerator=cfg.accelerator, devices=cfg.devices,
                        strategy=cfg.strategy if cfg.devices > 1 else "auto", default_root_dir=run, logger=L.pytorch.loggers.CSVLogger(run, name="logs"),
                        enable_progress_bar=True, callbacks=[checkpoint, *(callbacks or [])], num_sanity_val_steps=0)
    resume = run / "last.ckpt"
    trainer.fit(module, loader, ckpt_path=str(resume) if resume.exists() else None)  # emorec's own checkpoint
    losses = {k: float(v) for k, v in trainer.callback_metrics.items()}
    losses["global_step"] = float(max(trainer.global_step, losses.get("train/steps", 0.0)))
    losses["loss_masked_last_epoch"] = losses.get("train/loss_masked_window", float("nan"))  # the last epoch's steps (since a restart)
    if trainer.is_global_zero:
        meta = {"modality": manifest["modality"], "config": {k: v for k, v in asdict(cfg).items() if k != "exclude"}, "excluded": len(cfg.exclude), "mean": mean.tolist(), "std": std.tolist(), "losses": losses,
                "encoder": {"in_dim": manifest["dim"], "hidden": cfg.hidden, "layers": cfg.layers, "cell": cfg.cell}}
        Path(cfg.out).parent.mkdir(parents=True, exist_ok=True)
        save_weights(cfg.out, encoder.state_dict(), meta)
    return losses
