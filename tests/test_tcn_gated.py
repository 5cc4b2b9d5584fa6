"""tcn_gated (patent 000): shapes for any T, causality, gates in (0, 1), β respected, masked modalities without influence,
the "no text" anchor, the CCC loss, ablations, save/load by name."""

import numpy as np
import pytest
import torch

from emorec.models import create_model, load_pretrained
from emorec.models.tcn_gated import TCNGated
from emorec.tasks import ccc_loss

DIMS = {"audio": 6, "video": 5, "text": 4}


def _inputs(b=2, t=17, seed=0, text_frames=None):
    g = torch.Generator().manual_seed(seed)
    x = {m: torch.randn(b, t, d, generator=g) for m, d in DIMS.items()}
    mask = {m: torch.ones(b, t, dtype=torch.bool) for m in DIMS}
    if text_frames is not None:
        mask["text"][:] = False
        mask["text"][:, text_frames] = True
    return x, mask


def _model(**kw):
    torch.manual_seed(0)
    return TCNGated(dims=DIMS, hidden=8, dropout=0.0, **kw).eval()


@pytest.mark.parametrize("t", [1, 2, 9, 50])
def test_shapes_for_any_length(t):
    model = _model()
    x, mask = _inputs(t=t)
    out = model(x, mask)
    assert out.shape == (2, t, 7 + 2)
    assert (out[..., 7:].abs() <= 1).all()  # valence, arousal in [-1, 1]


def test_causal_output_does_not_see_the_future():
    model = _model()
    x, mask = _inputs(t=20)
    y = {m: v.clone() for m, v in x.items()}
    for m in y:
        y[m][:, 12:] = torch.randn_like(y[m][:, 12:])
    a, b = model(x, mask), model(y, mask)
    torch.testing.assert_close(a[:, :12], b[:, :12])
    assert not torch.allclose(a[:, 12:], b[:, 12:])


def test_gates_in_unit_interval_and_beta_respected():
    model = _model(beta=0.3)
    x, mask = _inputs()
    with torch.no_grad():
        ctx = model.context(x, mask)
        fused, gates = model.fuse(x, mask)
        h, _ = model.gate({"audio": ctx["audio"], "video": ctx["video"]}, {"audio": mask["audio"], "video": mask["video"]}, ctx["text"])
    for g in gates.values():
        assert ((g > 0) & (g < 1)).all()
    m = fused[..., :8]
    torch.testing.assert_close(m, ctx["text"] + 0.3 * h)
    with pytest.raises(ValueError, match="beta"):
        TCNGated(dims=DIMS, beta=1.0)
    with pytest.raises(ValueError, match="1..3"):
        TCNGated(dims=DIMS, modality_blocks=4)


def test_a_fully_masked_modality_has_no_influence():
    model = _model()
    x, mask = _inputs()
    mask["video"][:] = False
    y = {m: v.clone() for m, v in x.items()}
    y["video"] = 100 * torch.randn_like(y["video"])
    torch.testing.assert_close(model(x, mask), model(y, mask))
    _, gates = model.fuse(x, mask)
    assert (gates["video"] == 0).all()


def test_frames_without_words_use_the_no_text_anchor():
    model = _model()
    with torch.no_grad():
        model.no_text.fill_(0.25)
    x, mask = _inputs(text_frames=slice(3, 6))
    ctx = model.context(x, mask)
    assert (ctx["text"][:, 6:] == 0.25).all() and (ctx["text"][:, :3] == 0.25).all()
    assert not (ctx["text"][:, 3:6] == 0.25).all()
    x["text"][:, 6:] = 50.0  # values where no word is spoken are never read
    torch.testing.assert_close(model(x, mask), model(*_inputs(text_frames=slice(3, 6))))
    # no words at all: still defined, audio and video carry the frames
    x, mask = _inputs()
    mask["text"][:] = False
    assert torch.isfinite(model(x, mask)).all()


def test_ccc_loss_equals_a_hand_computed_case():
    pred = torch.tensor([[1.0, 0.0], [2.0, 1.0], [3.0, 2.0]])
    target = torch.tensor([[1.0, 2.0], [2.0, 1.0], [4.0, 0.0]])
    # valence: means 2 and 7/3, var 2/3 and 14/9, cov 1 → CCC = 2 / (2/3 + 14/9 + 1/9) = 6/7
    # arousal: means 1 and 1, var 2/3 and 2/3, cov −2/3 → CCC = −1
    expected = 1 - (6 / 7 + -1) / 2
    assert ccc_loss(pred, target).item() == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("config", [{"fusion": "concat"}, {"second_tcn": False}, {"temporal": "bigru"}, {"num_classes": 0}])
def test_ablations_build_and_run(config):
    model = _model(**config)
    x, mask = _inputs()
    out = model(x, mask)
    assert out.shape == (2, 17, model.num_classes + 2)


def test_registered_and_round_trips(tmp_path):
    model = create_model("tcn_gated", dims=DIMS, hidden=8, fusion_blocks=4)
    model.save(tmp_path / "w.safetensors", {"note": "test"})
    again = load_pretrained("tcn_gated", tmp_path / "w.safetensors")
    x, mask = _inputs()
    model.eval()
    torch.testing.assert_close(model(x, mask), again(x, mask), atol=2e-2, rtol=2e-2)  # weights stored as float16
    for name, value in again.state_dict().items():
        torch.testing.assert_close(value, model.state_dict()[name].half().float())
    assert again.config["fusion_blocks"] == 4 and again.info_ == {"note": "test"}


def test_gates_follow_the_informative_modality():
    """The controlled check (emorec.evaluation.gating_check): audio informative in some segments, video in others."""
    from emorec.evaluation.gating_check import run_gating_check

    r = run_gating_check(steps=400)
    g = r["gates"]
    assert r["ccc"] > 0.8
    # each gate is more open where its own modality carries the target than where the other one does
    assert g["audio"]["audio_segments"] > g["audio"]["video_segments"] + 0.02
    assert g["video"]["video_segments"] > g["video"]["audio_segments"] + 0.02
    assert np.isfinite(r["example"]["audio_gate"]).all()
