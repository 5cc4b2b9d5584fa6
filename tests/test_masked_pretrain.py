"""masked_pretrain (patent 001): exact 10 % masking that never picks padding, a loss that ignores padding, masked mean
pooling, shards read exactly once per epoch across 2 ranks × 2 dataloader workers, and pretraining that learns."""

from pathlib import Path

import numpy as np
import pytest
import torch

from emorec.data.shards import assign_shards, read_manifest, write_shards
from emorec.models import create_model
from emorec.models.masked_pretrain import mask_frames, reconstruction_loss


@pytest.mark.parametrize("unit", ["frames", "spans"])
def test_mask_frames_zeroes_exactly_round_ratio_of_valid_frames(unit):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 50, 4) + 5.0
    valid = torch.zeros(3, 50, dtype=torch.bool)
    valid[0, :50], valid[1, :23], valid[2, 5:40] = True, True, True
    masked, chosen = mask_frames(x, valid, 0.1, unit, span=4, generator=g)
    assert chosen.sum(1).tolist() == [5, 2, 4]  # round(10 % of 50, 23, 35)
    assert not (chosen & ~valid).any()  # padding never chosen
    assert torch.all(masked[chosen] == 0) and torch.equal(masked[~chosen], x[~chosen])


def test_reconstruction_loss_ignores_padding():
    target = torch.zeros(2, 6, 3)
    recon = torch.zeros(2, 6, 3)
    valid = torch.tensor([[True] * 4 + [False] * 2, [True] * 6])
    chosen = torch.zeros(2, 6, dtype=torch.bool)
    chosen[0, 1] = True
    recon[0, 5] = 100.0  # padding: no effect
    recon[0, 1] = 2.0  # a masked frame: error 4 per feature
    loss = reconstruction_loss(recon, target, chosen, valid)
    assert loss["masked"].item() == pytest.approx(4.0) and loss["all"].item() == pytest.approx(4.0 / 10)


def test_mean_pooling_respects_masks():
    model = create_model("masked_pretrain", dims={"audio": 5}, hidden=8, layers=1, num_classes=3).eval()
    x = {"audio": torch.randn(2, 9, 5)}
    mask = {"audio": torch.ones(2, 9, dtype=torch.bool)}
    mask["audio"][1, 6:] = False
    ref = model(x, mask)
    x["audio"][1, 6:] = 1e3
    torch.testing.assert_close(model(x, mask), ref)
    assert ref.shape == (2, 3)


def test_every_shard_sample_is_read_exactly_once_across_ranks_and_workers(tmp_path):
    from emorec.training.pretrain import ShardStream

    rng = np.random.default_rng(0)
    seqs = [(f"clip{i:03d}", rng.normal(size=(int(rng.integers(3, 9)), 4))) for i in range(40)]
    folder = write_shards(seqs, tmp_path / "shards", "audio", shard_size=5)
    assert len(read_manifest(folder)["shards"]) == 8
    assert sorted(i for r in range(2) for w in range(2) for i in assign_shards(8, r, 2, w, 2)) == list(range(8))
    seen = []
    for rank in range(2):
        stream = ShardStream(folder, rank=rank, world=2, seed=1)
        loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=2)
        seen += [sid for sid, _ in loader]
    assert sorted(seen) == [s for s, _ in seqs]  # no duplicates, no gaps
    got = dict(ShardStream(folder, rank=0, world=1, shuffle=False))
    np.testing.assert_allclose(got["clip007"], seqs[7][1].astype(np.float32))


def test_pretraining_lowers_the_masked_reconstruction_loss(tmp_path):
    from emorec.training.pretrain import PretrainConfig, pretrain

    rng = np.random.default_rng(0)
    t = np.arange(60)[:, None]
    seqs = [(f"s{i}", np.sin(t / (3 + i % 5) + rng.normal(size=(1, 6))) + 0.05 * rng.normal(size=(60, 6))) for i in range(64)]
    folder = write_shards(seqs, tmp_path / "shards", "audio", shard_size=16)
    first = pretrain(PretrainConfig(shards=str(folder), out=str(tmp_path / "enc.safetensors"), run_dir=str(tmp_path / "run0"), hidden=16, layers=1,
                                    epochs=1, max_steps=1, batch_size=16))
    last = pretrain(PretrainConfig(shards=str(folder), out=str(tmp_path / "enc.safetensors"), run_dir=str(tmp_path / "run"), hidden=16, layers=1,
                                   epochs=15, batch_size=16, lr=5e-3))
    assert last["loss_masked_last_epoch"] < 0.5 * first["loss_masked_last_epoch"]
    from emorec.models.weights import read_metadata

    meta = read_metadata(tmp_path / "enc.safetensors")
    assert meta["modality"] == "audio" and meta["encoder"]["in_dim"] == 6


def test_shards_and_pretrain_commands_on_real_clips(ravdess_clip, talking_head, tmp_path):
    """`emorec shards` (store → shards, eGeMAPS LLDs of real clips) then `emorec pretrain` writes an encoder."""
    from typer.testing import CliRunner

    from emorec.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["shards", str(ravdess_clip), str(talking_head), "--modality", "audio", "--out", str(tmp_path / "sh"), "--store", str(tmp_path / "store"), "--shard-size", "1"])
    assert r.exit_code == 0, r.output
    manifest = read_manifest(tmp_path / "sh")
    assert manifest["dim"] == 25 and [s["count"] for s in manifest["shards"]] == [1, 1]
    r = runner.invoke(app, ["pretrain", "--shards", str(tmp_path / "sh"), "--out", str(tmp_path / "enc.safetensors"), "--run-dir", str(tmp_path / "run"), "--epochs", "1", "--batch-size", "2"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "enc.safetensors").is_file() and "train/loss_masked" in r.output
    bad = runner.invoke(app, ["pretrain", "--shards", str(tmp_path)])
    assert bad.exit_code == 2 and "not a shard folder" in bad.output
    # long recordings cut into windows (ids <file>#<k>); excluding the file by stem excludes all its windows
    r = runner.invoke(app, ["shards", str(talking_head), "--modality", "audio", "--out", str(tmp_path / "win"), "--store", str(tmp_path / "store"), "--window", "2"])
    assert r.exit_code == 0, r.output
    from emorec.training.pretrain import ShardStream

    ids = [sid for sid, seq in ShardStream(tmp_path / "win", shuffle=False) if len(seq) <= 200]
    assert len(ids) == 4 and ids[0].endswith("#0")  # 6.1 s in windows of 2 s
    assert list(ShardStream(tmp_path / "win", shuffle=False, exclude=[talking_head.stem])) == []


def test_two_process_gloo_ddp_matches_one_process_with_the_same_global_batch(tmp_path):
    """Pretraining data-parallel over 2 CPU processes (DDP, gloo; each rank streams its own shards) ends at the loss of one
    process with the same global batch (16 = 2 × 8)."""
    from emorec.training.pretrain import PretrainConfig, pretrain

    rng = np.random.default_rng(0)
    t = np.arange(60)[:, None]
    seqs = [(f"s{i}", np.sin(t / (3 + i % 5) + rng.normal(size=(1, 6))) + 0.05 * rng.normal(size=(60, 6))) for i in range(64)]
    folder = str(write_shards(seqs, tmp_path / "shards", "audio", shard_size=8))
    common = dict(shards=folder, hidden=16, layers=1, epochs=6, lr=5e-3)
    one = pretrain(PretrainConfig(**common, out=str(tmp_path / "one.safetensors"), run_dir=str(tmp_path / "one"), batch_size=16))
    two = pretrain(PretrainConfig(**common, out=str(tmp_path / "two.safetensors"), run_dir=str(tmp_path / "two"), batch_size=8, devices=2, strategy="ddp_spawn"))
    assert two["loss_masked_last_epoch"] == pytest.approx(one["loss_masked_last_epoch"], rel=0.1)
    assert two["global_step"] == one["global_step"] == 6 * 64 // 16
    assert (tmp_path / "two.safetensors").is_file()


def test_finetuning_starts_from_the_pretrained_encoder_with_a_share_of_the_labels(tmp_path):
    """Fine-tuning (patent 001): the encoder and its standardisation come from `emorec pretrain`'s file; label_fraction
    keeps the same share of every class of the training fold (learning curves: 10 %, 25 %, 100 %)."""
    from emorec.training.multimodal import Example, MultimodalCorpus
    from emorec.training.pretrain import PretrainConfig, pretrain
    from emorec.training.sequence import _label_subset, _load_encoder

    rng = np.random.default_rng(0)
    seqs = [(f"s{i}", rng.normal(size=(30, 6)) * 3 + 10) for i in range(16)]
    folder = write_shards(seqs, tmp_path / "shards", "audio", shard_size=8)
    pretrain(PretrainConfig(shards=str(folder), out=str(tmp_path / "enc.safetensors"), run_dir=str(tmp_path / "run"), hidden=16, layers=1, epochs=1))
    model = create_model("masked_pretrain", dims={"audio": 6}, hidden=16, layers=1, num_classes=3)
    _load_encoder(model, "audio", str(tmp_path / "enc.safetensors"))
    from emorec.models.weights import read_weights

    state, meta = read_weights(tmp_path / "enc.safetensors")
    torch.testing.assert_close(model.encoders["audio"].decoder.weight, state["decoder.weight"])
    assert model.input_norm["audio"].mean[0].item() == pytest.approx(meta["mean"][0], rel=1e-5)
    with pytest.raises(ValueError, match="does not fit"):
        _load_encoder(create_model("masked_pretrain", dims={"audio": 6}, hidden=32, layers=1), "audio", str(tmp_path / "enc.safetensors"))
    with pytest.raises(ValueError, match="no 'video' encoder"):
        _load_encoder(model, "video", str(tmp_path / "enc.safetensors"))

    examples = [Example(f"e{i}", f"spk{i % 4}", i % 2, i % 3, {"audio": np.zeros((5, 6), np.float32)}, {"audio": np.ones(5, bool)}) for i in range(60)]
    corpus = MultimodalCorpus(examples, ("neutral", "happy", "sad"), {"audio": 6}, "toy", "toy")
    train = np.arange(60)
    sub = _label_subset(corpus, train, 0.1, seed=0)
    assert np.bincount(corpus.labels[sub], minlength=3).tolist() == [2, 2, 2]  # 10 % of 20 per class
    assert np.array_equal(_label_subset(corpus, train, 1.0, 0), train)


def test_lld_corpus_reads_frame_level_egemaps_on_the_emobox_folds(ravdess_root, voice_store):
    from emorec.training.multimodal import lld_corpus

    corpus = lld_corpus(ravdess_root, voice_store, "ravdess", workers=1, limit_actors=(1, 4, 8))
    assert len(corpus) == 180 and corpus.dims == {"audio": 25} and len(corpus.classes) == 8
    e = corpus.examples[0]
    assert e.x["audio"].shape[1] == 25 and 250 < e.x["audio"].shape[0] < 600 and e.mask["audio"].all()  # ~3-5 s at 100 Hz
    assert sorted({f for f, *_ in corpus.folds}) == [0, 1, 2]  # actors 1, 4, 8 lie in EmoBox folds 0, 1, 2


def test_a_run_killed_mid_epoch_resumes_and_ends_with_the_same_number_of_steps(tmp_path):
    """SIGKILL in the middle of an epoch, rerun with the same run folder: it restarts from the last checkpoint and the
    shard position and ends with as many optimiser steps as a run that was never interrupted (3 epochs × 8 steps)."""
    import subprocess
    import sys
    import textwrap

    rng = np.random.default_rng(0)
    folder = write_shards([(f"s{i}", rng.normal(size=(20, 4))) for i in range(64)], tmp_path / "shards", "audio", shard_size=8)
    script = textwrap.dedent(f"""
        import os, signal, sys
        import lightning as L
        from emorec.training.pretrain import PretrainConfig, pretrain

        class Die(L.Callback):
            def on_train_batch_end(self, trainer, *args):
                if trainer.global_step == 13:  # checkpoint at step 10, killed in epoch 2 (steps 8-15)
                    os.kill(os.getpid(), signal.SIGKILL)

        run = sys.argv[1]
        cfg = PretrainConfig(shards={str(folder)!r}, out=run + ".safetensors", run_dir=run, hidden=8, layers=1, epochs=3, batch_size=8, checkpoint_every=5)
        losses = pretrain(cfg, [Die()] if sys.argv[2] == "die" else [])
        print("STEPS", int(losses["global_step"]))
    """)
    (tmp_path / "run.py").write_text(script)

    def run(name, mode):
        return subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path / name), mode], capture_output=True, text=True, timeout=600)

    whole = run("whole", "live")
    assert "STEPS 24" in whole.stdout, whole.stderr[-2000:]
    killed = run("killed", "die")
    assert killed.returncode == -9 and (tmp_path / "killed" / "last.ckpt").is_file()
    resumed = run("killed", "live")
    assert "STEPS 24" in resumed.stdout, resumed.stderr[-2000:]


def test_an_endless_stream_resumes_at_the_sample_it_stopped_at(tmp_path):
    """The stream's order is fixed by (seed, epoch, rank): skipping what a killed run consumed continues it exactly, across
    epoch boundaries, and every epoch holds every sample once."""
    import itertools

    from emorec.training.pretrain import ShardStream

    rng = np.random.default_rng(0)
    folder = write_shards([(f"s{i}", rng.normal(size=(3, 2))) for i in range(20)], tmp_path / "sh", "audio", shard_size=4)
    full = [sid for sid, _ in itertools.islice(ShardStream(folder, rank=0, world=1, seed=3, epochs=None), 50)]
    assert sorted(full[:20]) == sorted(full[20:40]) == sorted(f"s{i}" for i in range(20)) and full[:20] != full[20:40]
    resumed = ShardStream(folder, rank=0, world=1, seed=3, epochs=None)
    resumed.skip = 27
    assert [sid for sid, _ in itertools.islice(resumed, 23)] == full[27:50]


def test_finetune_pretrains_each_fold_without_its_test_clips_and_compares_with_scratch(tmp_path):
    """emorec finetune: one encoder per fold, pretrained on the shards minus that fold's test clips (matched by file stem),
    then pretrained and scratch rows at each label fraction on the same folds."""
    from emorec.models.weights import read_weights
    from emorec.training.finetune import FinetuneConfig, finetune
    from emorec.training.multimodal import Example, MultimodalCorpus
    from emorec.training.pretrain import ShardStream

    rng = np.random.default_rng(0)
    examples = [Example(f"c{i:02d}", f"spk{i % 3}", i % 3, i % 2, {"audio": (rng.normal(size=(12, 5)) + 2 * (i % 2)).astype(np.float32)},
                        {"audio": np.ones(12, bool)}) for i in range(24)]
    corpus = MultimodalCorpus(examples, ("neutral", "happy"), {"audio": 5}, "toy", "toy folds")
    unlabelled = [(f"/data/extra/u{j}.flac", rng.normal(size=(15, 5))) for j in range(8)]
    folder = write_shards([(f"/data/toy/{e.id}.flac", e.x["audio"]) for e in examples] + unlabelled, tmp_path / "shards", "audio", shard_size=10)
    fold0 = [e.id for e in examples if e.fold == 0]
    kept = [sid for sid, _ in ShardStream(folder, shuffle=False, exclude=fold0)]
    assert len(kept) == 32 - 8 and not any(Path(s).stem in fold0 for s in kept)

    cfg = FinetuneConfig(shards=str(folder), run_dir=str(tmp_path / "run"), workers=1, epochs=2, batch_size=8, fractions=(1.0, 0.5),
                         model_config={"hidden": 8, "layers": 1, "num_classes": 2, "modalities": ["audio"]}, pretrain={"epochs": 1, "batch_size": 8})
    result = finetune(cfg, corpus)
    names = [r["model"] for r in result["results"]]
    assert len(names) == 4 and "pretrained, 100 % labels" in names[0]
    assert [n.split(": ")[-1] for n in names[1:]] == ["pretrained, 50 % labels", "scratch, 100 % labels", "scratch, 50 % labels"]
    assert all(len(r["folds"]) == 3 for r in result["results"])
    for k in range(3):
        _, meta = read_weights(tmp_path / "run" / "pretrain" / f"fold{k}.safetensors")
        assert meta["excluded"] == 8 and meta["encoder"]["hidden"] == 8
    assert '"init_weights": {}' in result["results"][2]["features"] and "fold{fold}" in result["results"][0]["features"]
    curve = [(r["learning_curve"]["init"], r["learning_curve"]["label_fraction"]) for r in result["results"]]
    assert curve == [("pretrained", 1.0), ("pretrained", 0.5), ("scratch", 1.0), ("scratch", 0.5)]
