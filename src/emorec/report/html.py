"""``report.html``: one self-contained page (no network) from an analysis result alone.

Holds the timeline plot (embedded PNG), the clip-level reading, the gaps, the
segments table, a few face thumbnails with their readings, the models and the
settings. Rendering needs no model: it reads only the
:class:`~emorec.pipelines.result.AnalysisResult` (tables, summary, thumbnails).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

__all__ = ["png_bytes", "write_image_report", "write_report"]


def png_bytes(image: np.ndarray) -> bytes:
    """Encode an image array (grey ``(h, w)`` or RGB ``(h, w, 3)`` uint8) as PNG."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _img(data: bytes, alt: str, width: int | None = None) -> str:
    w = f' width="{width}"' if width else ""
    return f'<img alt="{html.escape(alt)}"{w} src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return html.escape(str(v))


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.88em} td,th{border:1px solid #ddd;padding:3px 7px;text-align:left} th{background:#f4f4f4}
.gap{background:#fff4d6;border-left:4px solid #e0a800;padding:.4em .8em;margin:.3em 0}
.thumbs{display:flex;flex-wrap:wrap;gap:12px} .thumb{text-align:center;font-size:.8em} .thumb img{image-rendering:pixelated;border:1px solid #ccc}
.big{font-size:1.3em;font-weight:600} .muted{color:#777;font-size:.85em}
"""


def write_report(analysis, path: str | Path, plot_png: bytes | None = None) -> Path:
    """Write the analysis as a self-contained HTML page.

    Parameters
    ----------
    analysis : Analysis
    path : str or Path
        Output file.
    plot_png : bytes or None
        The timeline plot as PNG bytes (drawn here if not given).

    Returns
    -------
    Path
    """
    s = analysis.summary
    if plot_png is None:
        import tempfile

        from emorec.report.plot import plot_timeline

        with tempfile.TemporaryDirectory() as tmp:
            plot_png = plot_timeline(analysis, Path(tmp) / "t.png").read_bytes()
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>emorec — {html.escape(Path(s['file']).name)}</title><style>{CSS}</style></head><body>"]
    parts.append(f"<h1>{html.escape(Path(s['file']).name)}</h1><div class=muted>emorec {html.escape(s['emorec_version'])} · {s['duration']:.1f} s · processed in {s['processing_seconds']:.1f} s ({s['real_time_factor']:.2f} × real time)</div>")
    parts.append(f"<p class=big>Emotion: {_fmt(s['emotion'])} · arousal {_fmt(s['arousal'])} · valence {_fmt(s['valence'])}</p>")
    cov = s["coverage"]
    parts.append("<table><tr><th>face in view</th><th>speech</th><th>words</th><th>any reading</th></tr><tr>" + "".join(f"<td>{100 * cov[k]:.0f} %</td>" for k in ("face", "speech", "words", "any_reading")) + "</tr></table>")
    for gap in s["gaps"]:
        parts.append(f"<div class=gap>{html.escape(gap)}</div>")
    parts.append("<h2>Timeline</h2>" + _img(plot_png, "arousal and valence over time", 1150))
    probs = s.get("probabilities") or {}
    parts.append("<h2>Clip-level probabilities</h2><table><tr>" + "".join(f"<th>{html.escape(k)}</th>" for k in probs) + "</tr><tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in probs.values()) + "</tr></table>")
    parts.append("<h2>Segments</h2>")
    if len(analysis.segments):
        cols = ["start", "end", "transcript", "emotion", "arousal", "valence", "voice_emotion"]
        parts.append("<table id=segments><tr>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>")
        for _, row in analysis.segments.iterrows():
            parts.append("<tr>" + "".join(f"<td>{_fmt(row.get(c))}</td>" for c in cols) + "</tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No speech segments.</p>")
    if analysis.thumbnails:
        parts.append("<h2>Faces</h2><div class=thumbs>")
        for th in analysis.thumbnails:
            parts.append(f"<div class=thumb>{_img(png_bytes(th['image']), 'face at %.1f s' % th['time'], 96)}<br>{th['time']:.1f} s<br>{html.escape(th['label'])}</div>")
        parts.append("</div>")
    parts.append("<h2>Models and settings</h2><table>")
    for k, v in s["models"].items():
        parts.append(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>")
    parts.append(f"<tr><th>fusion</th><td>{html.escape(s['fusion'])}: {html.escape(s.get('fusion_description', ''))}</td></tr>")
    parts.append(f"<tr><th>time axis</th><td>{s['num_frames']} frames at {s['rate']:g} Hz</td></tr>")
    parts.append(f"<tr><th>word timing</th><td>{html.escape(', '.join(s.get('alignment') or ['none']))}</td></tr>")
    parts.append("</table><p class=muted>Weights trained on research corpora (RAVDESS, FER2013) are for research and non-commercial use only.</p></body></html>")
    path = Path(path)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def write_image_report(result, path: str | Path) -> Path:
    """Write a photo's analysis (:class:`~emorec.pipelines.image.ImageResult`) as a self-contained HTML page: the annotated
    image, then one row per face (box, detector score, class, probabilities, valence/arousal)."""
    s = result.summary
    faces = result.faces
    head = "".join(f"<th>{html.escape(c)}</th>" for c in faces.columns)
    rows = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r) + "</tr>" for r in faces.itertuples(index=False))
    notes = "".join(f'<div class="gap">{html.escape(g)}</div>' for g in s.get("gaps", []))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>emorec: {html.escape(Path(s['file']).name)}</title><style>{CSS}</style></head><body>"
            f"<h1>{html.escape(Path(s['file']).name)}</h1><p class='muted'>{s['width']}×{s['height']} image · {s['num_faces']} face(s) · "
            f"{html.escape(s['models']['face'])}</p>{notes}"
            f"<h2>Faces</h2>{_img(png_bytes(result.annotated), 'annotated image', min(900, s['width']))}"
            f"<table><tr>{head}</tr>{rows}</table></body></html>")
    path = Path(path)
    path.write_text(page)
    return path
