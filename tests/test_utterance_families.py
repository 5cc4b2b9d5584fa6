"""amh (seed 003) and tam_ulag (seed 002): shapes, masks (a masked modality has no influence), attention weights that sum
to 1 over observed steps, the recurrent block, ULAG's label update on hand-computed cases, and the sentiment metrics."""

import numpy as np
import pytest
import torch

from emorec import metrics
from emorec.models import create_model
from emorec.models.blocks import MaskedRNN, compact
from emorec.training.ulag import UnimodalLabelGenerator, relative_distance, shifted_regression_label

DIMS = {"audio": 6, "video": 5, "text": 4}


def _inputs(b=3, t=11, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = {m: torch.randn(b, t, d, generator=g) for m, d in DIMS.items()}
    mask = {m: torch.rand(b, t, generator=g) > 0.3 for m in DIMS}
    for m in DIMS:
        mask[m][:, 0] = True
    return x, mask


def _model(name, **kw):
    torch.manual_seed(0)
    extra = {"shared": 8} if name == "tam_ulag" else {}
    return create_model(name, dims=DIMS, hidden=8, dropout=0.0, **extra, **kw).eval()


def test_compact_moves_observed_frames_to_the_front_in_order():
    x = torch.arange(6.0).reshape(1, 6, 1)
    mask = torch.tensor([[False, True, False, True, True, False]])
    out, out_mask, lengths = compact(x, mask)
    assert out[0, :3, 0].tolist() == [1.0, 3.0, 4.0] and lengths.tolist() == [3] and out_mask.tolist() == [[True, True, True]]


def test_masked_rnn_reads_only_observed_frames():
    torch.manual_seed(0)
    rnn = MaskedRNN(3, 4, layers=2)
    x = torch.randn(2, 7, 3)
    mask = torch.ones(2, 7, dtype=torch.bool)
    mask[0, [1, 4, 6]] = False
    mask[1] = False  # nothing observed
    _, _, last = rnn(x, mask)
    _, _, alone = rnn(x[:1, mask[0]], torch.ones(1, 4, dtype=torch.bool))
    torch.testing.assert_close(last[0], alone[0])
    assert torch.equal(last[1], torch.zeros(4))


@pytest.mark.parametrize("name", ["amh", "tam_ulag"])
@pytest.mark.parametrize("t", [1, 4, 23])
def test_one_output_per_utterance(name, t):
    x, mask = _inputs(t=t)
    out = _model(name)(x, mask)
    assert out.shape == (3, 7 + 2) and torch.isfinite(out).all()
    assert (out[:, 7:].abs() <= 1).all()


@pytest.mark.parametrize("name", ["amh", "tam_ulag"])
def test_masked_frames_and_absent_modalities_have_no_influence(name):
    model = _model(name)
    x, mask = _inputs()
    mask["video"][1] = False  # item 1 has no face
    ref = model(x, mask)
    y = {m: v.clone() for m, v in x.items()}
    y["video"][1] = torch.randn_like(y["video"][1]) * 100
    for m in DIMS:
        y[m][~mask[m]] = 1e3  # every masked frame
    torch.testing.assert_close(model(y, mask), ref)


def test_amh_attention_sums_to_one_over_observed_steps_in_hop_order():
    model = _model("amh", hops=5)
    x, mask = _inputs()
    mask["text"][2] = False
    hops = model.attention(x, mask)
    assert [m for m, _ in hops] == ["video", "audio", "text", "video", "audio"]
    for m, a in hops:
        assert torch.all(a[~mask[m]] == 0)
        expected = torch.tensor([1.0, 1.0, 1.0 if m != "text" else 0.0])
        torch.testing.assert_close(a.sum(1), expected)


def test_amh_hops_range():
    with pytest.raises(ValueError, match="0..8"):
        create_model("amh", hops=9)
    x, mask = _inputs()
    assert _model("amh", hops=0)(x, mask).shape == (3, 9)  # the baseline without hopping


def test_tam_ulag_heads_and_weights():
    model = _model("tam_ulag")
    x, mask = _inputs()
    mask["audio"][0] = False
    out = model.forward_all(x, mask)
    assert set(out["outputs"]) == {"multimodal", "audio", "video", "text"}
    torch.testing.assert_close(out["outputs"]["multimodal"], model(x, mask))
    for m, w in out["temporal_weights"].items():
        observed = mask[m].sum(1)
        torch.testing.assert_close(w.sum(1), (observed > 0).float())
    alpha = out["dimension_weights"]  # (B, M, shared): per dimension a distribution over the modalities present
    assert torch.all(alpha[0, 0] == 0)  # audio absent in item 0
    torch.testing.assert_close(alpha.sum(1), torch.ones(3, 8))
    assert not out["available"]["audio"][0] and out["available"]["audio"][1]


def test_tam_ulag_without_tam_pools_by_mean():
    model = _model("tam_ulag", temporal="mean")
    x, mask = _inputs()
    w = model.forward_all(x, mask)["temporal_weights"]["video"]
    n = mask["video"].sum(1, keepdim=True).float()
    torch.testing.assert_close(w[:, : int(n.min())], (1 / n).expand(-1, int(n.min())))


def test_relative_distance_and_shifted_label_by_hand():
    f = torch.tensor([[0.0, 0.0]])
    pos, neg = torch.tensor([1.0, 0.0]), torch.tensor([-3.0, 0.0])
    assert relative_distance(f, pos, neg).item() == pytest.approx(2.0)  # (3 − 1) / 1
    y = torch.tensor([0.8, 0.8, 0.8])
    delta_f = torch.tensor([2.0, 2.0, 2.0])
    delta_s = torch.tensor([2.0, 1.0, -1.0])
    # α = δs/δf: 1 → y; 0.5 → ½·0.5·0.8 + ½(0.8 + 1 − 2) = 0.1; −0.5 → −0.2 + ½(0.8 − 1 − 2) = −1.3 → clipped to −1
    torch.testing.assert_close(shifted_regression_label(y, delta_s, delta_f), torch.tensor([0.8, 0.1, -1.0]))


def test_generator_moves_a_contradicting_modality_with_momentum():
    gen = UnimodalLabelGenerator(4, 1, ("video",), num_classes=0, num_regression=1)
    index = torch.arange(4)
    avail = {"video": torch.ones(4, dtype=torch.bool)}
    gen.set_targets(index, torch.full((4,), -1), torch.tensor([[1.0], [1.0], [-1.0], [-1.0]]))
    feats = {"multimodal": torch.tensor([[2.0], [1.0], [-1.0], [-2.0]]), "video": torch.tensor([[2.0], [-1.0], [-1.0], [-2.0]])}  # example 1's face looks negative
    gen.update_features(index, feats, avail)
    gen.generate(index, feats, avail, epoch=1)
    assert gen.labels("video", index)[1][:, 0].tolist() == [1.0, 1.0, -1.0, -1.0]  # epoch 1: the multimodal labels
    gen.generate(index, feats, avail, epoch=2)
    labels = gen.labels("video", index)[1][:, 0]
    # centres: fused C^p = 1.5, C^n = −1.5; video C^p = 0.5, C^n = −1.5
    # example 1: δ_f = (2.5 − 0.5) / 0.5 = 4, δ_s = (0.5 − 1.5) / 1.5 = −2/3, α = −1/6,
    #   ŷ = ½ (−1/6)(1) + ½ (1 − 2/3 − 4) = −23/12 → clipped to −1; momentum at epoch 2: ⅓ · 1 + ⅔ · (−1) = −⅓
    assert labels[1].item() == pytest.approx(-1 / 3, abs=1e-5)
    # example 3: δ_f = (0.5 − 3.5) / 3.5 = −6/7, δ_s = (0.5 − 2.5) / 2.5 = −0.8, α = 14/15,
    #   ŷ = ½ (14/15)(−1) + ½ (−1 − 0.8 + 6/7) = −0.93810; momentum: ⅓ (−1) + ⅔ ŷ = −0.95873
    assert labels[3].item() == pytest.approx(-1 / 3 + 2 / 3 * (-7 / 15 + 0.5 * (-1.8 + 6 / 7)), abs=1e-5)


def test_class_labels_move_toward_the_modality_evidence():
    torch.manual_seed(0)
    gen = UnimodalLabelGenerator(6, 2, ("audio",), num_classes=2, num_regression=0)
    index = torch.arange(6)
    label = torch.tensor([0, 0, 0, 1, 1, 1])
    gen.set_targets(index, label, torch.zeros(6, 0))
    fused = torch.tensor([[0.0, 0.0]] * 3 + [[4.0, 0.0]] * 3) + torch.randn(6, 2) * 0.01
    audio = fused.clone()
    audio[2] = torch.tensor([4.0, 0.0])  # example 2 sounds like class 1
    avail = {"audio": torch.ones(6, dtype=torch.bool)}
    gen.update_features(index, {"multimodal": fused, "audio": audio}, avail)
    gen.generate(index, {"multimodal": fused, "audio": audio}, avail, epoch=3)
    dist = gen.labels("audio", index)[0]
    assert dist[2, 1] > 0.4  # moved: ½ · 0 (kept) + ½ · ~0.9 (momentum (n−1)/(n+1) at epoch 3)
    assert dist[0, 0] > 0.9 and dist[4, 1] > 0.9  # consistent examples stay (example 2 inflates the audio class-0 spread a little)
    torch.testing.assert_close(dist.sum(1), torch.ones(6))


def test_sentiment_report_conventions_by_hand():
    y = np.array([-2.0, 0.0, 1.0, 2.4, -0.4])
    p = np.array([-1.0, -0.5, 0.2, 2.6, 0.3])
    rep = metrics.sentiment_report(y, p)
    assert rep["acc2_has_zero"] == pytest.approx(3 / 5)  # 0 → non-negative; −0.5 and 0.3 wrong
    assert rep["acc2_non_zero"] == pytest.approx(3 / 4)  # the 0 label dropped; 0.3 vs −0.4 wrong
    assert rep["acc7"] == pytest.approx(2 / 5)  # rounded: −2/−1, 0/0 ✓, 1/0, 2/3, 0/0 ✓
    assert rep["mae"] == pytest.approx(np.mean([1.0, 0.5, 0.8, 0.2, 0.7]))
    assert 0 < rep["f1_non_zero"] < 1 and rep["num_samples"] == 5


def test_late_mean_is_the_masked_mean_of_the_modalities_present():
    torch.manual_seed(0)
    model = create_model("late_mean", dims=DIMS, hidden=8, dropout=0.0).eval()
    x, mask = _inputs()
    mask["video"][0] = False
    outs, available = model.unimodal(x, mask)
    fused = model(x, mask)
    present = [m for m in ("audio", "text")]
    expected = torch.stack([torch.softmax(outs[m][0, :7], -1) for m in present]).mean(0)
    torch.testing.assert_close(fused[0, :7].exp(), expected)
    torch.testing.assert_close(fused[0, 7:], torch.stack([outs[m][0, 7:] for m in present]).mean(0))
    assert not available["video"][0] and available["video"][1]


def test_utterance_spans_cover_every_frame_once():
    from types import SimpleNamespace

    from emorec.fusion.utterance import utterance_spans

    features = SimpleNamespace(num_frames=120, rate=10.0, records={"audio.vad": {"segments": [(1.0, 2.5), (2.4, 3.0), (9.0, 9.6)]}})
    spans = utterance_spans(features, max_gap_seconds=4.0)
    covered = np.zeros(120, int)
    for s in spans:
        covered[s] += 1
    assert (covered == 1).all()
    assert spans[1] == slice(10, 25) and spans[2] == slice(25, 30)  # the overlapping segment starts where the first ends
    assert all(s.stop - s.start <= 40 for s in spans)  # gaps cut into pieces of at most 4 s
    assert utterance_spans(SimpleNamespace(num_frames=5, rate=10.0, records={}), 4.0) == [slice(0, 5)]  # no speech: the clip


def test_ulag_moves_the_contradicting_modality_toward_its_evidence(tmp_path):
    """The tam_ulag mechanism check, small: the video contradicts the label in a known 30 % of the examples; after
    training, ULAG's generated video labels of exactly those examples lean to the video's class, the audio labels do not."""
    from emorec.training.synthetic import check_tam_ulag

    m = check_tam_ulag(tmp_path, n=400, epochs=6)["metrics"]
    assert m["video_conflict_p_video_evidence"] > 0.6 and m["video_conflict_moved"] > 0.5
    assert m["video_consistent_moved"] < 0.1 and m["audio_conflict_moved"] < 0.1
    assert m["video_conflict_valence_shift"] < m["audio_conflict_valence_shift"]  # valence labels move toward the video's side


def test_input_norm_is_fitted_saved_and_only_it_may_be_missing(tmp_path):
    from emorec.models.amh import AMH
    from emorec.models.blocks import fit_input_norms
    from emorec.models.weights import read_weights, save_weights

    model = _model("amh")
    fit_input_norms(model, {"audio": np.full((10, 6), 3.0) + np.arange(10)[:, None]})
    assert model.input_norm["audio"].mean[0].item() == pytest.approx(7.5) and model.input_norm["video"].std[0].item() == 1.0
    model.save(tmp_path / "amh.safetensors")
    back = AMH.load(tmp_path / "amh.safetensors")
    torch.testing.assert_close(back.input_norm["audio"].mean, model.input_norm["audio"].mean)
    state, meta = read_weights(tmp_path / "amh.safetensors")
    old = {k: v for k, v in state.items() if not k.startswith("input_norm.")}  # weights from before input norms: identity
    save_weights(tmp_path / "old.safetensors", old, meta)
    assert torch.equal(AMH.load(tmp_path / "old.safetensors").input_norm["audio"].std, torch.ones(6))
    broken = {k: v for k, v in old.items() if not k.startswith("head.")}
    save_weights(tmp_path / "broken.safetensors", broken, meta)
    with pytest.raises(ValueError, match="do not fit"):
        AMH.load(tmp_path / "broken.safetensors")
