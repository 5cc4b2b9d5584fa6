"""The fusion contract: masked_mean is registered; a new fusion plugs into `analyze` in a few lines; readings live in the store."""

import numpy as np
import pytest

from emorec.emotion_space import EMOTIONS
from emorec.fusion import FUSIONS, FusedReading, Fusion, create_fusion, register_fusion
from emorec.pipelines.analyze import analyze


@pytest.fixture
def voice_only_fusion():
    @register_fusion("test_voice_only")
    class VoiceOnly(Fusion):
        description = "the voice reading alone (a test fusion)"

        def fuse(self, readings, features):
            from emorec.emotion_space import project_probs

            t = features.num_frames
            probs, va = np.full((t, len(EMOTIONS)), np.nan), np.full((t, 2), np.nan)
            mask = np.zeros(t, bool)
            if "voice" in readings:
                v = readings["voice"]
                mask = v.mask
                probs[mask] = project_probs(v.probs, v.classes)[mask]
                va[mask] = v.va[mask]
            return FusedReading(probs, va, mask)

    yield "test_voice_only"
    FUSIONS._factories.pop("test_voice_only")


def test_masked_mean_is_the_default_and_listed():
    assert "masked_mean" in FUSIONS
    assert create_fusion("masked_mean").name == "masked_mean"
    with pytest.raises(KeyError, match="masked_mean"):
        create_fusion("nope")


def test_fused_reading_checks_shapes():
    with pytest.raises(ValueError, match="probs"):
        FusedReading(np.zeros((5, 3)), np.zeros((5, 2)), np.zeros(5, bool))


def test_a_new_fusion_runs_in_analyze(talking_head, session_store, voice_only_fusion):
    mean = analyze(talking_head, None, store=session_store, plot=False)
    voice = analyze(talking_head, None, store=session_store, plot=False, fusion=voice_only_fusion)
    tl = voice.timeline
    assert voice.summary["fusion"] == voice_only_fusion and mean.summary["fusion"] == "masked_mean"
    # fused = the voice reading exactly where the voice is, nothing elsewhere
    np.testing.assert_allclose(tl.loc[tl.speech_active, "valence"], tl.loc[tl.speech_active, "voice_valence"])
    assert tl.loc[~tl.speech_active, "valence"].isna().all()
    # the masked mean differs wherever the face or words also read
    both = tl.speech_active & tl.face_present
    assert not np.allclose(mean.timeline.loc[both, "valence"], tl.loc[both, "valence"])


def test_readings_are_stored_and_reused(talking_head, tmp_path):
    """A store filled by `extract` with its defaults serves `analyze`: nothing is recomputed."""
    from emorec.features import DEFAULT_EXTRACTORS
    from emorec.pipelines.extract import ExtractReport, extract_clip
    from emorec.store import FeatureStore

    store = FeatureStore(tmp_path / "s")
    feats = extract_clip(talking_head, store, DEFAULT_EXTRACTORS)
    for name, width in (("face.emotion", 9), ("audio.emotion", 10), ("text.emotion", 2)):
        assert feats.series[name].data.shape == (feats.num_frames, width), name
        assert feats.series[name].mask.any(), name
    report = ExtractReport()
    from emorec.pipelines import extract as extract_module

    calls = []
    original = extract_module.extract_clip

    def spy(*args, **kwargs):
        kwargs["report"] = report
        calls.append(1)
        return original(*args, **kwargs)

    extract_module.extract_clip = spy
    try:
        analyze(talking_head, None, store=store, plot=False)
    finally:
        extract_module.extract_clip = original
    assert calls and report.computed[str(talking_head)] == []


def test_analysis_result_round_trips_through_json(talking_head, session_store):
    from emorec.pipelines.result import AnalysisResult

    result = analyze(talking_head, None, store=session_store, plot=False)
    back = AnalysisResult.from_json(result.to_json())
    assert back.summary == result.summary and back.path == result.path
    for name in ("timeline", "segments", "words"):
        a, b = getattr(result, name), getattr(back, name)
        assert list(a.columns) == list(b.columns) and len(a) == len(b), name
        num = a.select_dtypes("number").columns
        np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=1e-9, atol=1e-12, equal_nan=True)
    assert len(back.thumbnails) == len(result.thumbnails) and np.array_equal(back.thumbnails[0]["image"], result.thumbnails[0]["image"])
    with pytest.raises(ValueError, match="not an emorec analysis result"):
        AnalysisResult.from_json('{"a": 1}')


def test_tcn_gated_fusion_in_analyze(talking_head, data_dir, session_store):
    """The shipped tcn_gated weights run as analyze's fusion: per-frame probabilities and valence/arousal where any
    modality is present, and on a video without sound (audio and words masked, the "no text" anchor)."""
    from emorec.fusion import FUSIONS

    assert FUSIONS.get("tcn_gated").unavailable() is None, "tcn_gated weights are not shipped"
    result = analyze(talking_head, None, store=session_store, plot=False, fusion="tcn_gated")
    tl = result.timeline
    assert result.summary["fusion"] == "tcn_gated" and result.summary["emotion"] in EMOTIONS
    present = tl[[f"prob_{e}" for e in EMOTIONS]].notna().all(axis=1)
    assert present.all()
    np.testing.assert_allclose(tl.loc[present, [f"prob_{e}" for e in EMOTIONS]].sum(axis=1), 1.0, atol=1e-5)
    assert tl[["valence", "arousal"]].abs().max().max() <= 1.0
    assert "face_valence" in tl and "voice_valence" in tl  # each modality's own reading stays in the timeline
    silent = analyze(data_dir / "mead_happy_noaudio.mp4", None, store=session_store, plot=False, fusion="tcn_gated")
    stl = silent.timeline
    assert (stl["valence"].notna() == stl["face_present"]).all()



@pytest.mark.parametrize(("name", "steps"), [("amh", ["hop1_video", "hop2_audio", "hop3_text"]), ("tam_ulag", ["temporal_audio", "temporal_video", "temporal_text"])])
def test_utterance_model_fusions_in_analyze(talking_head, data_dir, session_store, tmp_path, name, steps):
    """The shipped utterance-level models run as analyze's fusion: one reading per utterance (constant on its frames), the
    attention weights written per utterance (each step's weights sum to 1 over the utterance's observed frames), and a
    silent video read from its face alone."""
    from emorec.fusion import FUSIONS
    from emorec.pipelines.result import AnalysisResult

    assert FUSIONS.get(name).unavailable() is None, f"{name} weights are not shipped"
    result = analyze(talking_head, tmp_path / name, store=session_store, plot=True, fusion=name)
    tl, att = result.timeline, result.tables["attention"]
    assert result.summary["fusion"] == name and result.summary["emotion"] in EMOTIONS
    assert (tmp_path / name / "attention.csv").is_file() and (tmp_path / name / "attention.png").is_file()
    assert set(steps) <= set(att.columns) and len(att) == len(tl)
    probs = tl[[f"prob_{e}" for e in EMOTIONS]].to_numpy()
    for _, part in att[att.utterance >= 0].groupby("utterance"):
        p = probs[part.index][~np.isnan(probs[part.index, 0])]
        np.testing.assert_allclose(p, np.broadcast_to(p[0], p.shape), atol=1e-6)  # one reading per utterance
        np.testing.assert_allclose(p[0].sum(), 1.0, atol=1e-5)
        for col in steps:
            assert part[col].sum() == pytest.approx(1.0, abs=1e-4) or part[col].sum() == 0.0
    assert len(result.segments) and set(result.segments.emotion) <= set(EMOTIONS)
    back = AnalysisResult.from_json(result.to_json())
    assert list(back.tables["attention"].columns) == list(att.columns)
    silent = analyze(data_dir / "mead_happy_noaudio.mp4", None, store=session_store, plot=False, fusion=name)
    assert silent.summary["emotion"] in EMOTIONS and (silent.timeline["valence"].notna() == silent.timeline["face_present"]).all()


def test_masked_pretrain_fusion_in_analyze(talking_head, data_dir, session_store, tmp_path):
    """masked_pretrain (patent 001) as analyze's fusion on a real clip: one reading per utterance from the voice and face
    encoders, valence/arousal within [-1, 1], no attention table (it pools by mean), and a silent video read from its face."""
    from emorec.fusion import FUSIONS

    assert FUSIONS.get("masked_pretrain").unavailable() is None, "masked_pretrain weights are not shipped"
    result = analyze(talking_head, tmp_path / "mp", store=session_store, plot=True, fusion="masked_pretrain")
    tl = result.timeline
    assert result.summary["fusion"] == "masked_pretrain" and result.summary["emotion"] in EMOTIONS
    assert "attention" not in result.tables and not (tmp_path / "mp" / "attention.csv").exists()
    assert tl[["valence", "arousal"]].abs().max().max() <= 1.0
    probs = tl[[f"prob_{e}" for e in EMOTIONS]].to_numpy()
    read = ~np.isnan(probs[:, 0])
    assert read.mean() > 0.9 and np.allclose(probs[read].sum(axis=1), 1.0, atol=1e-5)
    silent = analyze(data_dir / "mead_happy_noaudio.mp4", None, store=session_store, plot=False, fusion="masked_pretrain")
    assert silent.summary["emotion"] in EMOTIONS and (silent.timeline["valence"].notna() == silent.timeline["face_present"]).all()


def test_amcm_cmtam_fusion_in_analyze(talking_head, data_dir, session_store):
    """amcm_cmtam (paper 004) as analyze's fusion: each utterance read from its face crops and MFCCs (extracted on demand:
    audio.logmel), valence/arousal within [-1, 1]; a video without audio is read from the face stream alone."""
    from emorec.fusion import FUSIONS

    assert FUSIONS.get("amcm_cmtam").unavailable() is None, "amcm_cmtam weights are not shipped"
    result = analyze(talking_head, None, store=session_store, plot=False, fusion="amcm_cmtam")
    tl = result.timeline
    assert result.summary["fusion"] == "amcm_cmtam" and result.summary["emotion"] in EMOTIONS
    assert tl[["valence", "arousal"]].abs().max().max() <= 1.0
    probs = tl[[f"prob_{e}" for e in EMOTIONS]].to_numpy()
    read = ~np.isnan(probs[:, 0])
    assert read.mean() > 0.9 and np.allclose(probs[read].sum(axis=1), 1.0, atol=1e-5)
    silent = analyze(data_dir / "mead_happy_noaudio.mp4", None, store=session_store, plot=False, fusion="amcm_cmtam")
    assert silent.summary["emotion"] in EMOTIONS and silent.timeline["valence"].notna().any()
