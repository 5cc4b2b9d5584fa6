"""``timeline.png``: arousal and valence over time, per-modality lanes, transcript words; ``attention.png``: an utterance
model's attention weights over time; the figures of ``emorec plot``: AMCM adjacency maps and confusion matrices."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_adjacency", "plot_attention", "plot_confusion", "plot_timeline"]


def _save(fig, path: str | Path) -> Path:
    """Lay out, write (PNG, 110 dpi; the folder is created) and close a figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_timeline(analysis, path: str | Path) -> Path:
    """Draw an :class:`~emorec.pipelines.result.AnalysisResult` timeline to a PNG file.

    Top: fused arousal and valence in [-1, 1] with each modality's own reading
    (thin lines). Middle: lanes showing where a face, speech and words were
    present, and with several people one lane per person (grey: visible, brown:
    speaking). Bottom: the transcript words at their aligned times.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tl = analysis.timeline
    t = tl["time"].to_numpy() + 0.05
    fig, (ax_av, ax_lane) = plt.subplots(2, 1, figsize=(12, 5.2), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    ax_av.axhline(0, color="0.8", lw=0.8)
    ax_av.plot(t, tl["arousal"], color="tab:red", lw=2.2, label="arousal (fused)")
    ax_av.plot(t, tl["valence"], color="tab:blue", lw=2.2, label="valence (fused)")
    styles = {"face": ":", "voice": "--", "text": "-."}
    for modality, ls in styles.items():
        for dim, color in (("arousal", "tab:red"), ("valence", "tab:blue")):
            col = f"{modality}_{dim}"
            if col in tl:
                ax_av.plot(t, tl[col], color=color, lw=0.9, ls=ls, alpha=0.6, label=f"{dim} ({modality})")
    ax_av.set_ylim(-1.05, 1.05)
    ax_av.set_ylabel("[-1, 1]")
    ax_av.legend(loc="upper left", ncol=4, fontsize=7, frameon=False)
    ax_av.set_title(f"{Path(analysis.path).name} — {analysis.summary.get('emotion') or 'no reading'}", fontsize=10)

    lanes = [("face_present", "face", "tab:green"), ("speech_active", "speech", "tab:orange"), ("word_spoken", "words", "tab:purple")]
    for y, (col, label, color) in enumerate(lanes):
        on = tl[col].to_numpy(bool)
        ax_lane.fill_between(t, y - 0.35, y + 0.35, where=on, step="mid", color=color, alpha=0.7, lw=0)
    faces = analysis.tables.get("faces")
    if faces is not None and len(faces) and "speaker_track" in tl:  # several people: a lane each, dark where they speak
        grid = np.round(tl["time"].to_numpy(), 3)
        for track in sorted(faces.track.unique()):
            y = len(lanes)
            seen = np.isin(grid, np.round(faces.time[faces.track == track].to_numpy(), 3))
            ax_lane.fill_between(t, y - 0.35, y + 0.35, where=seen, step="mid", color="tab:gray", alpha=0.35, lw=0)
            ax_lane.fill_between(t, y - 0.35, y + 0.35, where=tl["speaker_track"].to_numpy() == track, step="mid", color="tab:brown", alpha=0.85, lw=0)
            lanes.append((None, f"person {track}", None))
    ax_lane.set_yticks(range(len(lanes)), [lab for _, lab, _ in lanes], fontsize=8)
    ax_lane.set_ylim(-0.6, len(lanes) + 0.9)
    last = -1.0
    for _, w in analysis.words.iterrows():
        mid = (w["start"] + w["end"]) / 2
        level = len(lanes) + (0.45 if mid - last < 0.35 else 0.0)
        ax_lane.text(mid, level, w["word"], fontsize=7, ha="center", va="center", rotation=0)
        last = mid if level == len(lanes) else last
    ax_lane.set_xlabel("time (s)")
    ax_lane.set_xlim(0, max(float(analysis.duration), float(np.max(t, initial=0.1))))
    return _save(fig, path)


def plot_attention(table, path: str | Path, title: str = "") -> Path:
    """Draw an utterance model's attention table (``time``, ``utterance``, one weight column per attention step, e.g.
    ``hop1_video`` … for ``amh``, ``temporal_audio`` … for ``tam_ulag``) as a heat map: one row per step, time on the
    x axis (s), utterance boundaries as vertical lines; each utterance's weights of a step sum to 1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [c for c in table.columns if c not in ("time", "utterance")]
    t = table["time"].to_numpy()
    weights = table[cols].to_numpy(float).T if cols else np.zeros((1, len(t)))
    fig, ax = plt.subplots(figsize=(12, 0.45 * max(len(cols), 2) + 1.4))
    step = float(t[1] - t[0]) if len(t) > 1 else 0.1
    image = ax.imshow(weights, aspect="auto", interpolation="nearest", cmap="magma", extent=(float(t[0]) if len(t) else 0.0, float(t[-1]) + step if len(t) else 1.0, len(cols) - 0.5, -0.5))
    ax.set_yticks(range(len(cols)), cols, fontsize=8)
    utt = table["utterance"].to_numpy()
    for k in np.flatnonzero(np.diff(utt) != 0) + 1:
        ax.axvline(t[k], color="white", lw=0.6, alpha=0.7)
    ax.set_xlabel("time (s)")
    ax.set_title(title or "attention weights per utterance", fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.02, pad=0.01, label="weight")
    return _save(fig, path)


def plot_adjacency(matrices: list[tuple[np.ndarray, np.ndarray]], path: str | Path, title: str = "") -> Path:
    """The AMCM adjacency matrices of a trained ``amcm_cmtam`` (paper 004, figures of its §4): per layer, the spatial
    matrix's total outgoing weight of each patch laid out on the patch grid (n × n: which face regions feed the others),
    the full spatial matrix (P × P) and the temporal matrix (t × t); every matrix starts at 1, so departures from a flat
    map are what training learned.

    Parameters
    ----------
    matrices : list of (spatial (P, P), temporal (t, t)) arrays, one pair per layer (``AMCM.adjacency()``)
    path : output image (PNG)
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_layers = len(matrices)
    fig, axes = plt.subplots(n_layers, 3, figsize=(11, 3.4 * n_layers), squeeze=False)
    for i, (spatial, temporal) in enumerate(matrices):
        spatial, temporal = np.asarray(spatial, np.float32), np.asarray(temporal, np.float32)
        grid = int(round(np.sqrt(spatial.shape[0])))
        for ax, data, name in ((axes[i, 0], spatial.sum(1).reshape(grid, grid), f"layer {i + 1}: spatial, outgoing weight per patch ({grid}×{grid})"),
                               (axes[i, 1], spatial, f"layer {i + 1}: spatial adjacency ({spatial.shape[0]}×{spatial.shape[0]})"),
                               (axes[i, 2], temporal, f"layer {i + 1}: temporal adjacency ({temporal.shape[0]}×{temporal.shape[0]} frames)")):
            image = ax.imshow(data, cmap="viridis", interpolation="nearest")
            ax.set_title(name, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
            fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_confusion(confusion: np.ndarray, classes: tuple[str, ...], path: str | Path, title: str = "") -> Path:
    """A confusion matrix (rows = true class, columns = predicted), each row as shares of its examples, counts written in."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confusion = np.asarray(confusion, np.float64)
    share = confusion / np.maximum(confusion.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(classes), 0.8 + 0.6 * len(classes)))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for r in range(len(classes)):
        for c in range(len(classes)):
            ax.text(c, r, f"{int(confusion[r, c])}", ha="center", va="center", fontsize=7, color="white" if share[r, c] > 0.5 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)
