"""The speech representation emorec's voice models read, as the models see it.

Moonshine base-en's encoder (run by :mod:`emorec.features.moonshine`) gives
``ENCODER_DIM``-wide states (≈41 per second) after each of its blocks; the
``audio.moonshine`` extractor stores the outputs of some blocks, and each voice
model picks the blocks it was trained on with :func:`select_blocks`. The
eGeMAPSv02 sizes (``NUM_LLD`` low-level descriptors at 100 Hz,
``NUM_FUNCTIONALS`` utterance functionals; Eyben et al. 2016, Table 1) live
here too: one definition for every model and extractor.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ENCODER_DIM", "NUM_FUNCTIONALS", "NUM_LLD", "select_blocks"]

ENCODER_DIM = 416
"""Width of one Moonshine base-en encoder block's output."""
NUM_LLD = 25
"""eGeMAPSv02 low-level descriptors per 10 ms frame."""
NUM_FUNCTIONALS = 88
"""eGeMAPSv02 functionals per utterance."""


def select_blocks(block_states: np.ndarray, stored, wanted) -> np.ndarray:
    """Pick encoder blocks out of stored block outputs.

    ``block_states`` (num_states, len(stored), 416), with ``stored`` the block
    numbers it holds (``meta["blocks"]`` of an ``audio.moonshine`` record) →
    (num_states, len(wanted), 416), blocks in ``wanted``'s order.

    Raises
    ------
    ValueError
        A wanted block was not stored.
    """
    stored = [int(b) for b in stored]
    missing = [int(b) for b in wanted if int(b) not in stored]
    if missing:
        raise ValueError(f"the model needs encoder blocks {missing}, the features hold only {stored}")
    return np.asarray(block_states)[:, [stored.index(int(b)) for b in wanted]]
