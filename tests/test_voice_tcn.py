"""The temporal voice network (voice_tcn), its building blocks, its loss and its training recipe."""

import numpy as np
import pandas as pd
import pytest
import torch

from emorec import metrics
from emorec.data.ravdess import RAVDESS_CLASSES
from emorec.models.blocks import AttentiveStatsPooling, TemporalBlock
from emorec.models.voice_tcn import NUM_LLD, STATE_DIM, VoiceTCN, frame_inputs
from emorec.tasks import ClassAffectTask, ccc_loss


def test_causal_temporal_block_does_not_see_the_future():
    torch.manual_seed(0)
    block = TemporalBlock(8, kernel=3, dilation=2, dropout=0.0, causal=True).eval()
    x = torch.randn(1, 8, 20)
    y = x.clone()
    y[..., 12:] += 5.0
    assert torch.allclose(block(x)[..., :12], block(y)[..., :12])
    assert not torch.allclose(block(x)[..., 12:], block(y)[..., 12:])
    symmetric = TemporalBlock(8, kernel=3, dilation=2, dropout=0.0).eval()
    assert symmetric(x).shape == x.shape
    assert not torch.allclose(symmetric(x)[..., 10:12], symmetric(y)[..., 10:12])  # sees 2 steps ahead


def test_attentive_stats_pooling_ignores_padding():
    torch.manual_seed(0)
    pool = AttentiveStatsPooling(6)
    x = torch.randn(2, 6, 10)
    mask = torch.ones(2, 10, dtype=torch.bool)
    mask[1, 7:] = False
    out = pool(x, mask)
    x2 = x.clone()
    x2[1, :, 7:] = 100.0  # change only the padding
    assert out.shape == (2, 12)
    assert torch.allclose(out, pool(x2, mask))
    assert torch.allclose(out[1], pool(x[1:, :, :7], mask[1:, :7])[0], atol=1e-6)


def test_ccc_loss_matches_metrics_ccc():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) * 0.5 + 0.3
    b[:, 0] += a[:, 0]
    expected = np.mean([1 - metrics.ccc(a[:, i], b[:, i]) for i in range(2)])
    assert float(ccc_loss(torch.tensor(b), torch.tensor(a))) == pytest.approx(expected, abs=1e-6)
    assert float(ccc_loss(torch.tensor(a), torch.tensor(a))) == pytest.approx(0.0, abs=1e-6)


def test_class_affect_task_loss_and_scores():
    affect = np.array([[0.5, -0.5], [-0.5, 0.5], [0.9, 0.9]], np.float32)
    task = ClassAffectTask(("a", "b", "c"), affect)
    target = torch.tensor([0, 1, 2, 0])
    perfect = torch.cat([torch.eye(3)[target] * 20, torch.as_tensor(affect)[target]], dim=1)
    wrong = torch.cat([torch.eye(3)[(target + 1) % 3] * 20, -torch.as_tensor(affect)[target]], dim=1)
    assert float(task.loss(perfect, target)) < 1e-3 < float(task.loss(wrong, target))
    s = task.scores(perfect.numpy(), target.numpy())
    assert s["wa"] == 1 and s["ua"] == 1 and s["ccc_valence"] == pytest.approx(1) and s["ccc_arousal"] == pytest.approx(1)


def test_frame_inputs_interpolate_llds_at_state_times():
    states = np.random.default_rng(0).normal(size=(5, 2, STATE_DIM)).astype(np.float32)
    times = np.array([0.0, 0.025, 0.05, 0.075, 0.1])
    lld_times = np.array([0.0, 0.1])
    lld = np.stack([np.zeros(NUM_LLD), np.full(NUM_LLD, 10.0)]).astype(np.float32)
    x = frame_inputs(states, times, lld, lld_times)
    assert x.shape == (5, 2 * STATE_DIM + NUM_LLD)
    np.testing.assert_array_equal(x[:, STATE_DIM : 2 * STATE_DIM], states[:, 1])
    np.testing.assert_allclose(x[:, -1], [0, 2.5, 5, 7.5, 10])
    with pytest.raises(ValueError, match="block states"):
        frame_inputs(states[:0], times[:0], lld, lld_times)


def test_voice_tcn_output_independent_of_batch_padding_and_roundtrip(tmp_path):
    torch.manual_seed(0)
    model = VoiceTCN(RAVDESS_CLASSES, (3, 4), hidden=16).eval()
    rng = np.random.default_rng(1)
    a, b = [rng.normal(size=(n, model.input_dim)).astype(np.float32) for n in (30, 12)]
    probs, va = model.predict([a, b])
    assert probs.shape == (2, 8) and va.shape == (2, 2) and np.all(np.abs(va) <= 1)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    alone, _ = model.predict([b])
    np.testing.assert_allclose(probs[1], alone[0], atol=1e-5)  # padding to 30 states does not change b's reading
    model.save(tmp_path / "v.safetensors", {"note": "test"})
    again = VoiceTCN.load(tmp_path / "v.safetensors")
    assert again.classes == RAVDESS_CLASSES and again.blocks == (3, 4) and again.info_ == {"note": "test"}
    model.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})  # stored as float16
    np.testing.assert_allclose(again.predict([a, b])[0], model.predict([a, b])[0], atol=1e-6)
    with pytest.raises(ValueError, match="voice_tcn input"):
        model.predict([a[:, :-1]])
    with pytest.raises(FileNotFoundError):
        VoiceTCN.load(tmp_path / "missing.safetensors")


def test_speech_corpus_folds_are_speaker_disjoint_and_extra_clips_never_tested(ravdess_root):
    from emorec.data.speech import speech_corpus

    data = speech_corpus(ravdess_root, "ravdess", add_emodb=ravdess_root.parent / "emodb_2s")
    n_ravdess = 1440
    assert len(data.table) == len(data.labels) == len(data.speakers) > n_ravdess
    tested = np.zeros(len(data.labels), bool)
    for _, _, test in data.folds:
        assert not set(data.speakers[test]) & set(data.speakers[~test])
        assert not (tested & test).any()
        tested |= test
    assert tested[:n_ravdess].all() and not tested[n_ravdess:].any()
    assert "boredom" not in set(data.table.emotion[n_ravdess:])
    with pytest.raises(ValueError, match="corpus='ravdess'"):
        speech_corpus(ravdess_root.parent / "emodb_2s", "emodb", add_emodb=ravdess_root.parent / "emodb_2s")


def test_tiny_voice_tcn_training_on_real_clips(tmp_path, ravdess_root, voice_store):
    """Three RAVDESS actors: one test fold trained on the other two actors (better than chance), then a final model
    on all three whose training loss falls and whose weights round-trip."""
    from emorec.training.voice_tcn import VoiceTCNConfig, train_voice_tcn

    cfg = VoiceTCNConfig(data=str(ravdess_root), limit_actors=(1, 4, 8), store=str(voice_store), run_dir=str(tmp_path / "run"), hidden=32,
                         epochs=12, folds_only=(0,), workers=1, out=str(tmp_path / "v.safetensors"), results=str(tmp_path / "r.json"))
    result = train_voice_tcn(cfg)
    assert [f["fold"] for f in result["folds"]] == [0] and result["folds"][0]["num_samples"] == 60  # actor 1's clips
    assert result["metrics"]["ua_mean"] > 1.5 / 8
    log = pd.read_csv(next((tmp_path / "run" / "all").rglob("metrics.csv"))).dropna(subset=["train/loss"])
    assert log["train/loss"].iloc[-1] < log["train/loss"].iloc[0]
    model = VoiceTCN.load(tmp_path / "v.safetensors")
    assert model.classes == RAVDESS_CLASSES and model.info_["metrics"] == result["metrics"]
    # rerunning resumes every Lightning run from its last checkpoint: same figures, nothing retrained
    again = train_voice_tcn(cfg)
    assert again["folds"][0]["ua"] == result["folds"][0]["ua"]
