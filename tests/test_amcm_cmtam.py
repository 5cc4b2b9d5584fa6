"""amcm_cmtam (paper 004) and the FLDW loss: the paper's worked example, α = 1 where it should be, adjacency matrices
that start at 1 and learn, CMTAM shapes for t ≠ t', masks, the depthwise ablation, one stream alone."""

import numpy as np
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


def test_fldw_is_a_class_loss_of_the_sequence_task_and_steps_each_epoch():
    """FLDW plugs into any utterance-level recipe (SequenceTask.class_loss); the Lightning module calls end_epoch after each
    training epoch, so the second epoch's weights read the first epoch's confusion matrix."""
    from emorec.losses import FLDW
    from emorec.tasks import SequenceTask
    from emorec.training.module import EmotionModule

    fldw = FLDW(3, num_examples=4)
    task = SequenceTask(("a", "b", "c"), "utterance", None, 0.0, fldw)
    logits = torch.tensor([[2.0, 0, 0], [2.0, 0, 0], [0, 0, 2.0], [0, 2.0, 0]], requires_grad=True)
    target = {"label": torch.tensor([0, 1, 2, 1]), "va": torch.zeros(4, 2), "index": torch.arange(4)}
    first = task.loss(logits, target)
    assert torch.isfinite(first) and first.requires_grad
    module = EmotionModule(torch.nn.Linear(3, 3), task)
    assert module.class_loss is fldw  # checkpointed with the module
    module.on_train_epoch_end()
    assert int(fldw.epochs_seen) == 1 and fldw.confusion[1, 0] == 1  # example 1 (class b) was read as a
    alpha = fldw.alpha(logits, target["label"], target["index"])
    assert alpha[0] == 1 and alpha[2] == 1 and alpha[1] > 1  # only the misread example is weighted up
    assert task.loss(logits, target) > first  # the misread example now counts more


def test_composite_pixel_corpus_and_a_short_cross_validation(tmp_path):
    """Composite (RAVDESS voice × CK+/FER2013 face) as MFCC frames + grey face pixels; amcm_cmtam cross-validates on it with
    FLDW (one fold, two epochs: the plumbing, not a result)."""
    from pathlib import Path

    from emorec.training.pixels import composite_pixel_corpus
    from emorec.training.sequence import SequenceTrainConfig, train_sequence_model

    split, data = Path("splits/composite_ravdess_ckplus_meld.csv"), Path("../shared/data")
    if not split.is_file() or not data.is_dir():
        pytest.skip("the composite split file and ../shared/data are needed")
    corpus = composite_pixel_corpus(split, data, tmp_path / "store", frames=4, image=28, workers=1, limit=3)
    assert len(corpus) == 18 and corpus.dims == {"audio": 40, "video": 3 * 28 * 28}
    e = next(e for e in corpus.examples if e.mask["video"].any() and e.mask["audio"].any())
    v = e.x["video"].reshape(4, 3, 28, 28)
    assert v.min() >= 0 and v.max() <= 1 and np.allclose(v[:, 0], v[:, 1])  # grey, repeated over the channels
    assert 250 < e.x["audio"].shape[0] < 600  # ~3-5 s of MFCC frames at 100 Hz
    cfg = SequenceTrainConfig(model="amcm_cmtam", corpus=str(split), data=str(data), store=str(tmp_path / "store"), inputs="pixels", loss="fldw",
                              model_config={"num_classes": 7, "dim": 16, "depth": 1, "frames": 4, "image": 28, "patch": 7, "audio_width": 8, "audio_depth": 18},
                              limit_per_fold=3, folds_only=(0,), epochs=2, batch_size=4, workers=1, run_dir=str(tmp_path / "run"))
    result = train_sequence_model(cfg, corpus)
    assert len(result["folds"]) == 1 and 0 <= result["metrics"]["ua_mean"] <= 1 and '"loss": "fldw"' in result["features"]


def test_plot_adjacency_and_confusion_commands(tmp_path):
    """`emorec plot adjacency` draws each AMCM layer's learned matrices from a weights file; `emorec plot confusion` the
    fold-summed confusion matrix of an evaluation output; a depthwise model has no matrices and says so."""
    import json
    import subprocess
    import sys

    model = create_model("amcm_cmtam", num_classes=7, dim=8, depth=2, frames=4, image=28, patch=7, audio_width=8, audio_depth=18, n_mfcc=20)
    with torch.no_grad():
        model.video.layers[0].sam[3, 5] = 4.0
    model.save(tmp_path / "amcm.safetensors")
    cli = [sys.executable, "-m", "emorec.cli", "plot"]
    proc = subprocess.run([*cli, "adjacency", "--weights", str(tmp_path / "amcm.safetensors"), "--out", str(tmp_path / "adj.png")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and (tmp_path / "adj.png").stat().st_size > 10_000, proc.stderr
    create_model("amcm_cmtam", num_classes=7, dim=8, depth=1, frames=4, image=28, patch=7, audio_width=8, audio_depth=18, n_mfcc=20,
                 mixer="depthwise").save(tmp_path / "dw.safetensors")
    proc = subprocess.run([*cli, "adjacency", "--weights", str(tmp_path / "dw.safetensors")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no adjacency matrices" in proc.stderr
    doc = {"model": "toy", "classes": ["a", "b"], "folds": [{"confusion": [[3, 1], [0, 4]]}, {"confusion": [[2, 0], [1, 1]]}]}
    (tmp_path / "r.json").write_text(json.dumps(doc))
    proc = subprocess.run([*cli, "confusion", str(tmp_path / "r.json"), "--out", str(tmp_path / "c.png")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and (tmp_path / "c.png").is_file(), proc.stderr


def test_clip_augmentation_is_one_transform_per_clip_and_off_in_eval():
    """The paper's random crop + rotation: every frame of a clip moved alike (motion kept), clips differently; eval untouched."""
    import torch

    from emorec.models.amcm_cmtam import AMCMCMTAM, augment_clips

    torch.manual_seed(0)
    frame = torch.rand(1, 1, 3, 32, 32)
    video = frame.repeat(2, 4, 1, 1, 1)  # 2 clips × 4 identical frames
    out = augment_clips(video)
    assert out.shape == video.shape
    torch.testing.assert_close(out[:, 1:], out[:, :1].expand_as(out[:, 1:]))  # one transform per clip
    assert not torch.allclose(out[0], out[1]) and not torch.allclose(out[0], video[0])  # clips differ, input moved
    model = AMCMCMTAM(num_classes=3, dim=8, depth=1, frames=4, image=32, patch=8, audio_width=8, audio_depth=18, augment=True).eval()
    x = {"video": video, "audio": torch.randn(2, 50, 40)}
    mask = {"video": torch.ones(2, 4, dtype=torch.bool), "audio": torch.ones(2, 50, dtype=torch.bool)}
    torch.testing.assert_close(model.forward_features(x, mask), model.forward_features(x, mask))  # eval: deterministic


def test_step_schedule_and_adam_follow_the_paper():
    """schedule "step:30:0.1" (the 004 paper: lr × 0.1 every 30 epochs) with Adam; unknown names are refused."""
    import pytest
    import torch

    from emorec.training.module import EmotionModule

    module = EmotionModule(torch.nn.Linear(3, 2), task=None, lr=1e-4, max_epochs=120, optimizer="adam", schedule="step:30:0.1")
    conf = module.configure_optimizers()
    opt, sched = conf["optimizer"], conf["lr_scheduler"]
    assert type(opt) is torch.optim.Adam
    rates = []
    for _ in range(120):
        rates.append(opt.param_groups[0]["lr"])
        opt.step(), sched.step()
    assert rates[0] == rates[29] == pytest.approx(1e-4) and rates[30] == pytest.approx(1e-5) and rates[119] == pytest.approx(1e-7)
    with pytest.raises(ValueError, match="schedule"):
        EmotionModule(torch.nn.Linear(3, 2), task=None, schedule="linear")


def test_paper_config_builds_the_papers_model():
    """configs/amcm_cmtam_paper.toml: the paper's sizes (16 × 112² RGB, 16×16 patches, ResNet-34) and schedule."""
    from pathlib import Path

    from emorec.models import create_model
    from emorec.training.config import load_config
    from emorec.training.sequence import SequenceTrainConfig

    cfg = load_config(SequenceTrainConfig, Path(__file__).parents[1] / "configs" / "amcm_cmtam_paper.toml")
    assert (cfg.optimizer, cfg.schedule, cfg.lr, cfg.epochs, cfg.batch_size, cfg.folds, cfg.loss) == ("adam", "step:30:0.1", 1e-4, 120, 8, "random5", "fldw")
    model = create_model("amcm_cmtam", **cfg.model_config)
    assert model.augment and model.video.layers[0].sam.shape == (256, 256) and model.video.layers[0].tam.shape == (16, 16)
    assert 15e6 < sum(p.numel() for p in model.parameters()) < 30e6  # ResNet-34 audio stream dominates (≈ 21.7 M)
