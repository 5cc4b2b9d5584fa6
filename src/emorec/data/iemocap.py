"""IEMOCAP (Busso et al., 2008, "IEMOCAP: interactive emotional dyadic motion capture database") from a user's copy in
its original layout::

    IEMOCAP_full_release/Session1..5/
        dialog/EmoEvaluation/<dialog>.txt      "[start - end]<TAB><turn><TAB><label><TAB>[V, A, D]"
        dialog/transcriptions/<dialog>.txt     "<turn> [start-end]: words"
        sentences/wav/<dialog>/<turn>.wav

One row per turn with its consensus label; the class sets of the literature: :data:`CLASS_SETS` (``4``: neutral, happy
with excited merged, sad, angry — the usual 4-class setup, e.g. Yoon et al. 2020; ``7``: emorec's seven common classes,
excited merged into happy, frustrated and other/xxx dropped). Folds: leave one session out (5 folds; each session's two
speakers are in no other session).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from emorec.errors import DatasetError

__all__ = ["CLASS_SETS", "load_iemocap"]

IEMOCAP_CODES = {"neu": "neutral", "hap": "happy", "exc": "happy", "sad": "sad", "ang": "angry", "fea": "fear", "dis": "disgust", "sur": "surprise",
                 "fru": None, "oth": None, "xxx": None}
"""IEMOCAP label codes → emorec's common classes (None: not used)."""
CLASS_SETS = {"4": ("neutral", "happy", "sad", "angry"), "7": ("neutral", "happy", "sad", "angry", "fear", "disgust", "surprise")}
_EVAL_LINE = re.compile(r"^\[(\d+\.?\d*)\s*-\s*(\d+\.?\d*)\]\s+(\S+)\s+(\w+)\s+\[([^\]]*)\]")
_TRANSCRIPT_LINE = re.compile(r"^(\S+)\s+\[[^\]]*\]:\s*(.*)$")


def load_iemocap(root: str | Path, classes: str = "4") -> pd.DataFrame:
    """Index an IEMOCAP copy.

    Parameters
    ----------
    root : str or Path
        ``IEMOCAP_full_release`` (the folder holding ``Session1`` … ``Session5``).
    classes : {"4", "7"}
        The class set (:data:`CLASS_SETS`); turns of other labels are dropped.

    Returns
    -------
    DataFrame with columns id, session, dialog, speaker (``Ses01_F``), emotion (common class), label (index in the class
    set), valence, arousal, dominance (1-5 ratings), start, end (s), text, wav (path), fold (session − 1).

    Raises
    ------
    DatasetError
        Missing folder or session, an unparsable evaluation line, a turn without its wav file, or no usable turn.
    ValueError
        Unknown class set.
    """
    if classes not in CLASS_SETS:
        raise ValueError(f"IEMOCAP class set must be one of {sorted(CLASS_SETS)}, not {classes!r}")
    root = Path(root)
    sessions = sorted(p for p in root.glob("Session[1-5]") if p.is_dir()) if root.is_dir() else []
    if not sessions:
        raise DatasetError(root, "IEMOCAP folder not found (expected IEMOCAP_full_release/Session1..5)")
    keep = CLASS_SETS[classes]
    rows = []
    for session in sessions:
        number = int(session.name[-1])
        evaluations = sorted((session / "dialog" / "EmoEvaluation").glob("*.txt"))
        if not evaluations:
            raise DatasetError(session, "no dialog/EmoEvaluation/*.txt files")
        for ev in evaluations:
            dialog = ev.stem
            words = {}
            tr = session / "dialog" / "transcriptions" / f"{dialog}.txt"
            if tr.is_file():
                for line in tr.read_text(errors="replace").splitlines():
                    m = _TRANSCRIPT_LINE.match(line.strip())
                    if m:
                        words[m.group(1)] = m.group(2).strip()
            for line in ev.read_text(errors="replace").splitlines():
                if not line.startswith("["):
                    continue
                m = _EVAL_LINE.match(line.strip())
                if not m:
                    raise DatasetError(ev, f"unparsable evaluation line {line.strip()!r}")
                start, end, turn, code, vad = m.groups()
                emotion = IEMOCAP_CODES.get(code)
                if emotion not in keep:
                    continue
                wav = session / "sentences" / "wav" / dialog / f"{turn}.wav"
                if not wav.is_file():
                    raise DatasetError(wav, f"turn {turn} of {ev.name} has no wav file")
                v, a, d = (float(x) for x in vad.split(","))
                rows.append({"id": turn, "session": number, "dialog": dialog, "speaker": f"Ses{number:02d}_{turn.split('_')[-1][0]}", "emotion": emotion,
                             "label": keep.index(emotion), "valence": v, "arousal": a, "dominance": d, "start": float(start), "end": float(end),
                             "text": words.get(turn, ""), "wav": str(wav), "fold": number - 1})
    if not rows:
        raise DatasetError(root, f"no IEMOCAP turn with a label of the {classes}-class set")
    return pd.DataFrame(rows)
