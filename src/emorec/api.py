"""Python API functions that mirror the CLI sub-commands."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from emorec.clip import ClipFeatures
from emorec.features import DEFAULT_EXTRACTORS
from emorec.store import FeatureStore

__all__ = ["extract"]


def extract(
    path: str | Path,
    store: str | Path | FeatureStore | None = None,
    extractors: Sequence[str] = DEFAULT_EXTRACTORS,
    params: dict[str, dict] | None = None,
    transcript: str | None = None,
) -> ClipFeatures:
    """Features of one media file on the common 10 Hz axis (``emorec extract`` for one file).

    Parameters
    ----------
    path : str or Path
    store : str, Path, FeatureStore or None
        Feature store to reuse and fill; ``None`` keeps everything in memory.
    extractors : sequence of str
        Registered extractor names (see ``emorec extractors``).
    params : dict
        Keyword parameters per extractor name.
    transcript : str or None
        A known transcript to align instead of running speech recognition.

    Returns
    -------
    ClipFeatures

    Raises
    ------
    EmorecError
        See :func:`emorec.pipelines.extract.extract_clip`.
    """
    from emorec.pipelines.extract import extract_clip

    params = dict(params or {})
    if transcript is not None:
        params["text.asr"] = {**params.get("text.asr", {}), "transcript": transcript}
    if store is not None and not isinstance(store, FeatureStore):
        store = FeatureStore(store)
    return extract_clip(path, store, extractors, params)
