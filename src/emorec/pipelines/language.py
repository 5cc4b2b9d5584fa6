"""Is the speech English? The recogniser (Moonshine base-en) and the text models read English only; on other languages the
recogniser still writes an English-looking transcript, which must not be fused as if it were the speaker's words.

The test is the recogniser's own confidence (``text.asr`` meta ``mean_token_logprob``, the mean log-probability of its
greedily chosen tokens), measured before choosing it over a separate language-ID model (``scripts/asr_language_confidence.py``,
30 + 30 clips): German speech (EMO-DB) −0.92 ± 0.28, English (RAVDESS) −0.06 ± 0.08; below −0.45 fall 93 % of the German
clips and none of the English ones. It needs no extra model and costs nothing at run time; it cannot name the language.
"""

from __future__ import annotations

from emorec.clip import ClipFeatures

__all__ = ["ENGLISH_MIN_LOGPROB", "LANGUAGES", "check_language"]

ENGLISH_MIN_LOGPROB = -0.45
"""Below this mean token log-probability the speech is taken as not English (see the module docstring)."""

LANGUAGES = ("auto", "en")
"""``--language`` values with a meaning of their own; any other code (``de``, ``fr``, ...) means "not English"."""


def check_language(features: ClipFeatures, language: str = "auto") -> dict:
    """Decide whether the clip's words are read, and drop them (in place) when they are not.

    Parameters
    ----------
    features : ClipFeatures
        After extraction (``text.asr`` and the text series, if any).
    language : str
        ``auto``: test the recogniser's confidence (a user transcript is always kept); ``en``: keep the words; any other
        language code: drop the recognised words (the models read English only) — a user transcript too.

    Returns
    -------
    dict
        ``{"language": the setting, "mean_token_logprob": float or None, "words": "kept" | "dropped" | "none", "reason": str}``
        (``summary.json: language``). When the words are dropped, every ``text.*`` series and record and the word list
        are removed from ``features`` and the reason is added to ``features.notes`` (shown in the summary and report).
    """
    asr = features.records.get("text.asr")
    score = asr.meta.get("mean_token_logprob") if asr is not None else None
    info = {"language": language, "mean_token_logprob": None if score is None else round(float(score), 3)}
    if asr is None or not len(features.words):
        return {**info, "words": "none", "reason": "no words recognised"}
    user = asr.meta.get("asr") == "user transcript"
    if language == "en" or (language == "auto" and (user or score is None or score >= ENGLISH_MIN_LOGPROB)):
        reason = "--language en" if language == "en" else ("user transcript" if user else f"the recogniser is confident (mean token log-prob {score:.2f} ≥ {ENGLISH_MIN_LOGPROB})")
        return {**info, "words": "kept", "reason": reason}
    if language == "auto":
        reason = (f"the speech does not sound like English to the English-only recogniser (mean token log-probability {score:.2f} < "
                  f"{ENGLISH_MIN_LOGPROB}): its words were dropped and the reading uses voice and face only (--language en keeps them)")
    else:
        reason = f"--language {language}: the recogniser and text models read English only, so the words were left out of the reading"
    for name in [n for n in features.series if n.startswith("text.")]:
        del features.series[name]
    for name in [n for n in features.records if n.startswith("text.")]:
        del features.records[name]
    features.words = []
    features.notes.append(reason)
    return {**info, "words": "dropped", "reason": reason}
