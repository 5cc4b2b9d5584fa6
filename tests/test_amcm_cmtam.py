"""amcm_cmtam (paper 004) and the FLDW loss: the paper's worked example, α = 1 where it should be, adjacency matrices
that start at 1 and learn, CMTAM shapes for t ≠ t', masks, the depthwise ablation, one stream alone."""

import pytest
import torch

from emorec.losses import FLDW, fldw_alpha, focal_loss
from emorec.models import create_model
from emorec.models.amcm_cmtam import CMTAM, AMCMLayer


def test_fldw_reproduces_the_worked_example():
    confusion = torch.zeros(3, 3)
    confusion[0] = torch.tensor([87.0, 8.0, 5.0])  # row sum 100, C[ŷ,ŷ] = 87, C[ŷ,y] = 8
    alpha = fldw_alpha(confusion, torch.tensor([0, 0, 0]), torch.tensor([1, 0, 2]))
    torch.testing.assert_close(alpha, torch.tensor([1 + 8 / 13, 1.0, 1 + 5 / 13]))
    assert alpha[0].item() == pytest.approx(1.615, abs=1e-3)


def test_fldw_weights_are_one_in_the_first_epoch_and_for_correct_samples():
    loss = FLDW(3, num_examples=4, gamma=2.0)
    logits = torch.tensor([[3.0, 0.0, 0.0], [0.0, 3.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    target = torch.tensor([0, 0, 1, 2])
    index = torch.arange(4)
    first = loss(logits, target, index)
    torch.testing.assert_close(first, focal_loss(logits, target).mean())  # epoch 1: α = 1
    loss.end_epoch()
    alpha = loss.alpha(logits, target, index)  # previous predictions: 0 ✓, 1 ✗ (true 0), 0 ✗ (true 1), 2 ✓
    # confusion of epoch 1: row 0 = [1, 1, 0] → α = 1 + 1/1; row 1 = [1, 0, 0] → α = 1 + 1/1
    torch.testing.assert_close(alpha, torch.tensor([1.0, 2.0, 2.0, 1.0]))


def test_focal_loss_with_gamma_zero_is_cross_entropy():
    logits, target = torch.randn(5, 4), torch.tensor([0, 1, 2, 3, 0])
    torch.testing.assert_close(focal_loss(logits, target, 0.0).mean(), torch.nn.functional.cross_entropy(logits, target))
    assert (focal_loss(logits, target, 2.0) <= focal_loss(logits, target, 0.0) + 1e-7).all()


def test_adjacency_matrices_start_at_one_and_receive_gradients():
    layer = AMCMLayer(dim=8, patches=16, frames=4, pos_dim=2)
    assert torch.equal(layer.sam, torch.ones(16, 16)) and torch.equal(layer.tam, torch.ones(4, 4))
    layer(torch.randn(2, 8, 4, 16)).pow(2).mean().backward()
    assert layer.sam.grad is not None and layer.sam.grad.abs().sum() > 0
    assert layer.tam.grad is not None and layer.tam.grad.abs().sum() > 0


def test_cmtam_shapes_for_different_lengths_and_masked_keys():
    block = CMTAM(12, 20, dim=16).eval()
    x, other = torch.randn(2, 5, 12), torch.randn(2, 9, 20)
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, 6:] = False
    out, weights = block(x, other, mask)
    assert out.shape == (2, 5, 16) and weights.shape == (2, 5, 9)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 5))
    assert torch.all(weights[1, :, 6:] == 0)
    changed = other.clone()
    changed[1, 6:] = 1e3
    torch.testing.assert_close(block(x, changed, mask)[0], out)


def _inputs(b=2, t=4, image=28, ta=50, n_mfcc=20):
    x = {"video": torch.rand(b, t, 3, image, image), "audio": torch.randn(b, ta, n_mfcc)}
    mask = {"video": torch.ones(b, t, dtype=torch.bool), "audio": torch.ones(b, ta, dtype=torch.bool)}
    return x, mask


@pytest.mark.parametrize(("streams", "mixer"), [("both", "adjacency"), ("both", "depthwise"), ("video", "adjacency"), ("audio", "adjacency")])
def test_model_outputs_one_row_of_logits_per_clip(streams, mixer):
    torch.manual_seed(0)
    model = create_model("amcm_cmtam", num_classes=7, dim=16, depth=2, frames=4, image=28, patch=7, audio_width=8, audio_depth=18, n_mfcc=20,
                         mixer=mixer, streams=streams).eval()
    x, mask = _inputs()
    out = model(x, mask)
    assert out.shape == (2, 7) and torch.isfinite(out).all()
    flat = {**x, "video": x["video"].flatten(2)}  # (B, t, 3·H·W), as the corpora and analyze give it
    torch.testing.assert_close(model(flat, mask), out)
    if streams == "both":
        mask["audio"][1, 25:] = False
        x2 = {m: v.clone() for m, v in x.items()}
        x2["audio"][1, 25:] = 1e3
        torch.testing.assert_close(model(x2, mask), model(x, mask))  # masked MFCC frames have no influence
