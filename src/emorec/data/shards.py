"""Feature-sequence shards for pretraining on more data than fits in memory: Parquet files (pyarrow) of one modality's
per-clip sequences, read as a stream.

Layout of a shard folder::

    shards.json                {"modality", "dim", "shards": [{"file", "count"}, ...], "source"}
    shard-00000.parquet        columns id (string), frames (int32), data (binary: frames × dim float32, little-endian)

:func:`write_shards` fills a folder from an iterable (never holding more than one shard in memory); :func:`iter_shard`
streams one shard, a row group at a time; :func:`assign_shards` gives one consumer — a (DDP rank, dataloader worker)
pair — its shards: shard ``i`` goes to consumer ``i mod (world × workers)``, so across all consumers every shard, hence
every sample, is read exactly once per epoch (the stream itself: :class:`emorec.training.pretrain.ShardStream`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from emorec.errors import DatasetError

__all__ = ["assign_shards", "iter_shard", "read_manifest", "shard_ids", "write_shards"]

MANIFEST = "shards.json"


def write_shards(sequences: Iterable[tuple[str, np.ndarray]], out: str | Path, modality: str, shard_size: int = 256, source: str = "") -> Path:
    """Write ``(id, (T, D) float array)`` pairs into Parquet shards of ``shard_size`` sequences each (the last may be
    smaller) and the manifest; returns the folder.

    Raises
    ------
    ValueError
        Sequences of different widths, or nothing to write.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shards, rows, dim = [], [], None

    def flush():
        name = f"shard-{len(shards):05d}.parquet"
        table = pa.table({"id": [r[0] for r in rows], "frames": pa.array([r[1].shape[0] for r in rows], pa.int32()),
                          "data": pa.array([r[1].astype("<f4").tobytes() for r in rows], pa.binary())})
        tmp = out / (name + ".tmp")
        pq.write_table(table, tmp, row_group_size=64)
        tmp.replace(out / name)  # a shard is either whole or absent
        shards.append({"file": name, "count": len(rows)})
        rows.clear()

    for sid, seq in sequences:
        seq = np.asarray(seq, np.float32)
        if dim is None:
            dim = seq.shape[1]
        elif seq.shape[1] != dim:
            raise ValueError(f"{sid}: width {seq.shape[1]}, the shards hold {dim}")
        rows.append((sid, seq))
        if len(rows) == shard_size:
            flush()
    if rows:
        flush()
    if not shards:
        raise ValueError("no sequences to write")
    (out / MANIFEST).write_text(json.dumps({"modality": modality, "dim": dim, "shards": shards, "source": source}, indent=1))
    return out


def read_manifest(folder: str | Path) -> dict:
    """The shard folder's manifest.

    Raises
    ------
    DatasetError
        No manifest (not a shard folder written by :func:`write_shards`) or a listed shard is missing.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise DatasetError(folder, f"not a shard folder (no {MANIFEST}; write one with `emorec shards`)")
    manifest = json.loads(path.read_text())
    missing = [s["file"] for s in manifest["shards"] if not (folder / s["file"]).is_file()]
    if missing:
        raise DatasetError(folder, f"{len(missing)} shard file(s) missing, e.g. {missing[0]}")
    return manifest


def assign_shards(num_shards: int, rank: int = 0, world: int = 1, worker: int = 0, workers: int = 1) -> list[int]:
    """Shard indices read by one consumer (DDP ``rank`` of ``world``, dataloader ``worker`` of ``workers``): every
    ``world × workers``-th shard from consumer ``rank × workers + worker``. Over all consumers each shard appears once."""
    consumers = world * workers
    return list(range(rank * workers + worker, num_shards, consumers))


def iter_shard(path: str | Path, dim: int, rng: np.random.Generator | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """The ``(id, (T, dim) float32)`` rows of one shard file, one row group in memory at a time (shuffled within each
    row group when ``rng`` is given)."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    for g in range(f.num_row_groups):
        table = f.read_row_group(g)
        ids, frames, data = table.column("id").to_pylist(), table.column("frames").to_pylist(), table.column("data").to_pylist()
        for j in (rng.permutation(len(ids)) if rng is not None else range(len(ids))):
            yield ids[j], np.frombuffer(data[j], "<f4").reshape(frames[j], dim)


def shard_ids(path: str | Path) -> list[str]:
    """The ids of one shard file's sequences, in stored order (reads the ``id`` column only)."""
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["id"]).column("id").to_pylist()
