"""`emorec results` renders every stored evaluation output into one readable Markdown page: protocols by id with a
legend, rows linking to their JSON, weighted F1 on every classification row, lines of at most 300 characters,
composite corpora apart from real audio-visual clips."""

import json

from emorec.evaluation.results import MAX_LINE, protocol_id, write_results


def _report(wa, ua, f1=None):
    return {"wa": wa, "ua": ua, "f1_weighted": wa if f1 is None else f1, "num_samples": 10}


def _page(tmp_path, **results):
    for name, d in results.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(d))
    page = write_results(tmp_path, tmp_path / "docs" / "results.md").read_text()
    assert max(len(line) for line in page.splitlines()) <= MAX_LINE
    return page


def test_rows_baselines_views_and_protocol_legend(tmp_path):
    face = {
        "model": "face_cnn", "dataset": "FER2013 PrivateTest (3,589 images)", "seeds": [0],
        "protocol": "FER2013 standard split: train on Training, select the epoch on PublicTest WA, test on PrivateTest; class probabilities averaged over each face "
                    "and its mirror image (ours and the baseline's tta_flip row) and over the faces shifted by 2 px left/right/up/down " + "x" * 200,
        "metrics": {"ua_mean": 0.6, "wa_mean": 0.7}, "test": {**_report(0.7, 0.6, 0.69), "no_tta": _report(0.68, 0.58), "mirror_only": _report(0.695, 0.63)},
        "baseline_fer_mini_xception": {**_report(0.58, 0.52), "tta_flip": _report(0.59, 0.53), "tta_flip_shift": _report(0.6, 0.54)},
        "snapshot_ensemble_check": {"publictest_wa_single": 0.66, "publictest_wa_ensemble": 0.67, "chosen": "ensemble", "privatetest_single": _report(0.69, 0.6)},
        "tta_shift_check": {"publictest_wa": {"0": 0.67, "2": 0.6726}, "chosen_shift": 2},
        "features": "a very long provenance (((((nested))))) " * 20, "date": "2026-11-24", "commit": "abc1234",
    }
    page = _page(tmp_path, face=face)
    assert "| F13 | FER2013 standard split" in page  # the legend
    # the main row says which views it used; the variant rows are not described by the main row's protocol
    assert "| face_cnn with mirror-image averaging + shifted views | FER2013 PrivateTest (3,589 images) | 60.0 | 70.0 | 69.0 | F13 | 0 | 2026-11-24 | abc1234 | [json](../face.json) |" in page
    assert "| face_cnn without test-time augmentation | FER2013 PrivateTest (3,589 images) | 58.0 | 68.0 | 68.0 | F13 |" in page
    assert "| face_cnn with mirror-image averaging only (no shifted views) | FER2013 PrivateTest (3,589 images) | 63.0 | 69.5 |" in page
    assert "| fer mini-Xception + mirror-image averaging + shifted views (baseline, same run, same images) | FER2013 PrivateTest (3,589 images) | 54.0 | 60.0 |" in page
    assert "exported: ensemble" in page and "WA 67.00 % with 0 px, 67.26 % with 2 px; chosen: 2 px." in page
    assert "nested" not in page and "provenance" not in page  # history stays in the JSON


def test_fold_results_fill_f1_from_the_folds(tmp_path):
    voice = {
        "model": "voice_probe", "dataset": "RAVDESS speech (1440 clips, 24 actors, 8 classes)", "seeds": [0], "date": "2026-11-24", "commit": "def5678",
        "protocol": "EmoBox 6 actor-independent folds (speaker-independent), fit on 5 folds / test on 1; blocks chosen per test fold (nested)",
        "metrics": {"ua_mean": 0.758, "ua_std": 0.05, "wa_mean": 0.76, "wa_std": 0.06},
        "folds": [{"ua": 0.8, "f1_weighted": 0.8}, {"ua": 0.716, "f1_weighted": 0.7}],
    }
    page = _page(tmp_path, voice=voice)
    assert "| voice_probe | RAVDESS speech | 75.8 ± 5.0 | 76.0 ± 6.0 | 75.0 ± 5.0 | R6 | 0 | 2026-11-24 | def5678 |" in page
    assert "blocks chosen per test fold (nested)" in page and "per-fold UA: 80.0, 71.6." in page
    assert "| R6 | RAVDESS speech, EmoBox 6 actor-independent folds" in page


def test_proxy_ccc_note_of_a_class_model(tmp_path):
    tcn = {
        "model": "voice_tcn", "dataset": "RAVDESS", "protocol": "EmoBox folds", "seeds": [0], "date": "2026-11-24", "commit": "0a1b2c3",
        "metrics": {"ua_mean": 0.7, "ua_std": 0.05, "wa_mean": 0.71, "wa_std": 0.04, "ccc_valence_mean": 0.61, "ccc_valence_std": 0.02,
                    "ccc_arousal_mean": 0.8, "ccc_arousal_std": 0.03},
        "folds": [{"ua": 0.7}],
    }
    page = _page(tmp_path, tcn=tcn)
    assert "| voice_tcn | RAVDESS | 70.0 ± 5.0 | 71.0 ± 4.0 |" in page
    assert "class proxy coordinates (not rated dimensions): valence 0.610 ± 0.020, arousal 0.800 ± 0.030" in page


def test_composite_and_real_av_results_are_in_separate_sections(tmp_path):
    av = {"model": "analyze (fusion masked_mean)", "dataset": "mead_dreamtalk: 21 real MEAD clips", "protocol": "AV-real", "seeds": [0],
          "metrics": _report(0.667, 0.667, 0.605), "per_modality": {"face": _report(0.667, 0.667, 0.605)}}
    comp = {"model": "tiny", "dataset": "composite (label-paired): 24 examples", "protocol": "C6: composite 6 folds; utterance level", "seeds": [0],
            "metrics": {"ua_mean": 0.3, "ua_std": 0.1, "wa_mean": 0.3, "wa_std": 0.1, "f1_weighted_mean": 0.2, "f1_weighted_std": 0.1}}
    page = _page(tmp_path, av=av, comp=comp)
    assert protocol_id(av) == "AV-real" and protocol_id(comp) == "C6"
    real, composite = page.index("## Real audio-visual clips"), page.index("## Composite (label-paired) corpora")
    assert real < page.index("| analyze (fusion masked_mean) |") < composite < page.index("| tiny | composite")
    assert "| analyze (fusion masked_mean): face reading alone (10 clips) |" in page


def test_learning_curves_pair_pretrained_and_scratch_rows_at_each_share_of_the_labels(tmp_path):
    def row(init, f, ua):
        return {"model": f"masked_pretrain (RAVDESS; {init})", "dataset": "RAVDESS speech", "protocol": "EmoBox 6 actor-independent folds", "seeds": [0],
                "metrics": {"ua_mean": ua, "ua_std": 0.02, "f1_weighted_mean": ua - 0.01}, "date": "2026-12-03", "commit": "abc",
                "learning_curve": {"init": init, "label_fraction": f, "group": "RAVDESS LLDs"}}

    rows = [row("pretrained", 1.0, 0.5), row("pretrained", 0.1, 0.4), row("scratch", 1.0, 0.45), row("scratch", 0.1, 0.3)]
    page = _page(tmp_path, curve={"kind": "result_set", "results": rows})
    assert "| masked_pretrain | RAVDESS LLDs | 100 % | 50.0 ± 2.0 | 45.0 ± 2.0 | 5.0 | 49.0 | 44.0 | R6 |" in page
    assert "| masked_pretrain | RAVDESS LLDs | 10 % | 40.0 ± 2.0 | 30.0 ± 2.0 | 10.0 |" in page
    assert page.index("100 %") < page.index("| 10 %")
    assert "## Classification" not in page  # not repeated as plain rows


def test_clip_by_clip_columns_name_the_face_model_when_the_fusion_repeats(tmp_path):
    def av(model, fused):
        return {"model": model, "dataset": "mead_dreamtalk: 2 real clips", "protocol": "AV-real", "seeds": [0], "metrics": _report(0.5, 0.5),
                "clips": [{"id": "a", "label": "happy", "fused": fused}, {"id": "b", "label": "sad", "fused": "sad"}]}

    page = _page(tmp_path, a=av("analyze (fusion masked_mean; face face_cnn, voice voice_probe)", "happy"),
                 b=av("analyze (fusion masked_mean; face face_cnn_distilled, voice voice_probe)", "angry"),
                 c=av("analyze (fusion tcn_gated; face face_cnn, voice voice_probe)", "happy"),
                 d=av("analyze (fusion masked_mean; face face_cnn, training class prior, person baseline over the clip, voice voice_probe)", "sad"))
    header = next(line for line in page.splitlines() if line.startswith("| clip | truth |"))
    assert header == ("| clip | truth | masked_mean (face_cnn) | masked_mean (face_cnn_distilled) | tcn_gated | "
                      "masked_mean (face_cnn, training class prior, person baseline over the clip) |")
    assert "| a | happy | happy ✓ | angry | happy ✓ | sad |" in page
