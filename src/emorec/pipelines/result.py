"""``AnalysisResult``: what ``emorec analyze`` found in one clip, serialisable without the models."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Analysis", "AnalysisResult"]


@dataclass
class AnalysisResult:
    """Result of :func:`emorec.pipelines.analyze.analyze` for one clip.

    Attributes
    ----------
    path : Path
    duration : float, seconds
    timeline : DataFrame
        One row per 0.1 s: ``time`` (frame start, s), ``face_present``,
        ``speech_active``, ``word_spoken``, ``word``, ``arousal`` and ``valence`` in
        [-1, 1] (NaN where no modality is present), ``prob_<emotion>`` over
        :data:`~emorec.emotion_space.EMOTIONS` (sum to 1 where present), and
        each modality's own reading (``face_*``, ``voice_*``, ``text_valence``, ``text_arousal``).
    segments : DataFrame
        One row per speech segment: start, end, transcript, emotion, probabilities, arousal, valence, voice_emotion.
    words : DataFrame
        word, start, end, aligned, lexicon valence.
    summary : dict
    thumbnails : list of dict
        A few face crops: ``{"time": s, "label": reading, "image": (64, 64) uint8}``.
    tables : dict of str → DataFrame
        The fusion's own tables (e.g. ``attention``: the utterance models' attention weights per frame), saved as ``<name>.csv``.
    """

    path: Path
    duration: float
    timeline: pd.DataFrame
    segments: pd.DataFrame
    words: pd.DataFrame
    summary: dict = field(default_factory=dict)
    thumbnails: list[dict] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def save(self, out: str | Path, plot: bool = True) -> Path:
        """Write ``timeline.csv``/``.parquet``, ``segments.csv``, ``words.csv``, ``summary.json``, the fusion's tables
        (``<name>.csv``) and, with ``plot``, ``timeline.png`` (and ``attention.png``) and ``report.html`` into ``out`` (created)."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.timeline.to_csv(out / "timeline.csv", index=False, float_format="%.4f")
        self.timeline.to_parquet(out / "timeline.parquet", index=False)
        self.segments.to_csv(out / "segments.csv", index=False, float_format="%.4f")
        self.words.to_csv(out / "words.csv", index=False, float_format="%.3f")
        (out / "summary.json").write_text(json.dumps(self.summary, indent=1))
        for name, table in self.tables.items():
            table.to_csv(out / f"{name}.csv", index=False, float_format="%.4f")
        if plot:
            from emorec.report.html import write_report
            from emorec.report.plot import plot_attention, plot_timeline

            plot_timeline(self, out / "timeline.png")
            if "attention" in self.tables:
                plot_attention(self.tables["attention"], out / "attention.png", f"{Path(self.path).name} — {self.summary.get('fusion', '')}")
            write_report(self, out / "report.html", (out / "timeline.png").read_bytes())
        return out

    def to_json(self) -> str:
        """The whole result as one JSON document (tables column-wise; thumbnails as base64 ``.npy`` bytes)."""

        def table(df: pd.DataFrame) -> dict:
            return json.loads(df.to_json(orient="split", index=False, double_precision=15))

        def image(a: np.ndarray) -> str:
            buf = io.BytesIO()
            np.save(buf, a, allow_pickle=False)
            return base64.b64encode(buf.getvalue()).decode()

        return json.dumps({
            "path": str(self.path), "duration": self.duration, "summary": self.summary,
            "timeline": table(self.timeline), "segments": table(self.segments), "words": table(self.words),
            "thumbnails": [{**t, "image": image(t["image"])} for t in self.thumbnails],
            "tables": {name: table(df) for name, df in self.tables.items()},
        })

    @classmethod
    def from_json(cls, text: str) -> AnalysisResult:
        """Read what :meth:`to_json` wrote.

        Raises
        ------
        ValueError
            Not such a document.
        """
        try:
            d = json.loads(text)

            def table(t: dict) -> pd.DataFrame:
                return pd.DataFrame(t["data"], columns=t["columns"])

            thumbs = [{**t, "image": np.load(io.BytesIO(base64.b64decode(t["image"])), allow_pickle=False)} for t in d["thumbnails"]]
            tables = {name: table(t) for name, t in d.get("tables", {}).items()}
            return cls(Path(d["path"]), float(d["duration"]), table(d["timeline"]), table(d["segments"]), table(d["words"]), d["summary"], thumbs, tables)
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not an emorec analysis result: {exc}") from None


Analysis = AnalysisResult
"""Former name of :class:`AnalysisResult` (kept for scripts written against emorec 0.1)."""
