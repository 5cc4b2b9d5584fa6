"""Training settings: one set of defaults (the dataclass), overridable from TOML or YAML files; typos are errors."""

import pytest

from emorec.training.config import load_config
from emorec.training.sequence import SequenceTrainConfig
from emorec.training.text import TextTrainConfig


def test_toml_and_yaml_override_the_defaults(tmp_path):
    (tmp_path / "a.toml").write_text('model = "x"\nepochs = 3\nfolds_only = [0, 2]\n[model_config]\nhidden = 8\n')
    (tmp_path / "a.yaml").write_text("model: x\nepochs: 3\nfolds_only: [0, 2]\nmodel_config:\n  hidden: 8\n")
    for name in ("a.toml", "a.yaml"):
        cfg = load_config(SequenceTrainConfig, tmp_path / name, seed=5, results=None)
        assert cfg.epochs == 3 and cfg.model_config == {"hidden": 8} and cfg.folds_only == (0, 2) and cfg.seed == 5
        assert cfg.batch_size == SequenceTrainConfig().batch_size  # untouched default


def test_unknown_key_names_file_and_key(tmp_path):
    (tmp_path / "bad.toml").write_text("epocs = 3\n")
    with pytest.raises(ValueError, match=r"bad\.toml.*epocs"):
        load_config(SequenceTrainConfig, tmp_path / "bad.toml")


def test_broken_file_is_named(tmp_path):
    (tmp_path / "broken.yaml").write_text("a: [1, 2\n")
    with pytest.raises(ValueError, match="broken.yaml"):
        load_config(SequenceTrainConfig, tmp_path / "broken.yaml")


def test_text_defaults_match_the_shipped_model():
    # the shipped text_emobank weights were trained with 3 fine-tuned layers (their metadata says so)
    from emorec.models import load_pretrained

    assert TextTrainConfig().trainable_layers == load_pretrained("text_emobank").info_["trainable_layers"] == 3
