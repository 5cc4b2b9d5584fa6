"""Write every corpus's split/fold assignment to CSV files, so each result can be reproduced.

One file per corpus, ``<corpus>.csv``: an id column (file name or corpus id), the
speaker/subject where the corpus has one, and the fold or official split.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_split_files"]


def write_split_files(shared: str | Path, out: str | Path) -> list[Path]:
    """Write split files for the corpora found under ``shared`` (e.g. ``../shared/data``) into ``out``."""
    import warnings

    from emorec.data.emodb import load_emodb
    from emorec.data.images import load_ckplus, load_fer2013
    from emorec.data.ravdess import load_ravdess
    from emorec.data.text import load_emobank, load_meld

    shared, out = Path(shared), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = {
        "ravdess": (lambda: load_ravdess(shared / "ravdess_speech_16k"), ["actor", "fold"]),
        "emodb": (lambda: load_emodb(shared / "emodb_2s"), ["speaker", "fold"]),
        "fer2013": (lambda: load_fer2013(shared / "fer2013"), ["split"]),
        "ckplus": (lambda: load_ckplus(shared / "ckplus48"), ["subject", "fold"]),
        "emobank": (lambda: load_emobank(shared / "emobank"), ["split"]),
        "meld": (lambda: load_meld(shared / "meld"), ["split"]),
    }
    written = []
    for name, (load, cols) in jobs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = load()
        ident = df["id"] if "id" in df else (df["path"].map(lambda p: Path(p).name) if "path" in df else df["dialogue"].astype(str) + "_" + df["utterance"].astype(str))
        table = df[cols].copy()
        table.insert(0, "id", ident)
        path = out / f"{name}.csv"
        table.to_csv(path, index=False)
        written.append(path)
    return written
