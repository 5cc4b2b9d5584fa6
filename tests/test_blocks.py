"""Shared blocks honour masks: padding never changes a real frame's output, missing modalities contribute nothing, no NaN."""

import torch

from emorec.models.blocks import TCN, CrossModalAttention, GatedModalitySum, ModalityProjection, TemporalAttentionPooling, masked_mean, masked_softmax

torch.manual_seed(0)


def test_tcn_padding_does_not_change_real_frames():
    tcn = TCN(5, 8, (1, 2, 4), dropout=0.0).eval()
    x = torch.randn(1, 12, 5)
    alone = tcn(x, torch.ones(1, 12, dtype=torch.bool))
    padded = torch.cat([x, torch.randn(1, 6, 5)], dim=1)  # garbage after the end
    mask = torch.zeros(1, 18, dtype=torch.bool)
    mask[:, :12] = True
    out = tcn(padded, mask)
    torch.testing.assert_close(out[:, :12], alone, atol=1e-5, rtol=1e-4)
    assert (out[:, 12:] == 0).all()
    assert tcn.receptive_field == 1 + 2 * 2 * (1 + 2 + 4)


def test_causal_tcn_does_not_see_the_future():
    tcn = TCN(3, 6, (1, 2), causal=True, dropout=0.0).eval()
    x = torch.randn(1, 10, 3)
    y = x.clone()
    y[:, 7:] = torch.randn(1, 3, 3)
    torch.testing.assert_close(tcn(x)[:, :7], tcn(y)[:, :7])
    assert not torch.allclose(tcn(x)[:, 7:], tcn(y)[:, 7:])


def test_pooling_ignores_padding_and_empty_items_are_zero():
    x = torch.randn(2, 5, 4)
    mask = torch.tensor([[True, True, False, False, False], [False] * 5])
    mean = masked_mean(x, mask)
    torch.testing.assert_close(mean[0], x[0, :2].mean(0))
    assert (mean[1] == 0).all()
    pooled, w = TemporalAttentionPooling(4)(x, mask)
    assert torch.isfinite(pooled).all() and (w[0, 2:] == 0).all() and (w[1] == 0).all()
    torch.testing.assert_close(w[0].sum(), torch.tensor(1.0))


def test_masked_softmax_without_entries_is_zero_not_nan():
    p = masked_softmax(torch.randn(2, 3), torch.tensor([[True, False, True], [False, False, False]]))
    assert torch.isfinite(p).all() and p[0, 1] == 0 and (p[1] == 0).all()
    torch.testing.assert_close(p[0].sum(), torch.tensor(1.0))


def test_cross_modal_attention_ignores_padded_keys():
    att = CrossModalAttention(4, 6, 8)
    q, k = torch.randn(1, 3, 4), torch.randn(1, 5, 6)
    mask = torch.tensor([[True, True, True, False, False]])
    out, w = att(q, k, mask)
    k2 = k.clone()
    k2[:, 3:] = 100.0
    out2, _ = att(q, k2, mask)
    torch.testing.assert_close(out, out2)
    assert (w[..., 3:] == 0).all()


def test_missing_modality_contributes_nothing_to_the_gated_sum():
    gsum = GatedModalitySum({"audio": 4, "video": 3}, anchor_dim=5, dim=6)
    x = {"audio": torch.randn(1, 4, 4), "video": torch.randn(1, 4, 3)}
    mask = {"audio": torch.ones(1, 4, dtype=torch.bool), "video": torch.tensor([[True, False, False, True]])}
    anchor = torch.randn(1, 4, 5)
    h, gates = gsum(x, mask, anchor)
    x["video"][:, 1:3] = 50.0  # values on missing frames
    h2, _ = gsum(x, mask, anchor)
    torch.testing.assert_close(h, h2)
    assert (gates["video"][:, 1:3] == 0).all() and (gates["audio"] > 0).all()


def test_modality_projection_uses_the_missing_token():
    proj = ModalityProjection({"text": 3}, 4)
    with torch.no_grad():
        proj.missing["text"].fill_(7.0)
    out = proj({"text": torch.randn(1, 3, 3)}, {"text": torch.tensor([[True, False, True]])})["text"]
    assert (out[0, 1] == 7.0).all() and not (out[0, 0] == 7.0).all()
