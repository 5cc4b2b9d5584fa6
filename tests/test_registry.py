"""Model registry and the one weights format: every shipped model loads by name; a new family plugs in with one decorator."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from emorec.models import MODELS, create_model, list_models, load_pretrained, model_info, register_model
from emorec.models.weights import read_metadata, read_weights, save_weights


def test_every_shipped_model_loads_by_name():
    names = [i.name for i in list_models() if i.shipped]
    assert {"face_cnn", "voice_probe", "voice_tcn", "text_emobank"} <= set(names)
    for name in ("face_cnn", "voice_probe", "voice_tcn"):
        model = load_pretrained(name)
        assert model.info_, name  # the training notes travel with the weights


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(KeyError, match="voice_probe"):
        create_model("no_such_model")


def test_missing_weights_say_how_to_train(tmp_path):
    with pytest.raises(FileNotFoundError, match="emorec train voice_tcn"):
        load_pretrained("voice_tcn", tmp_path / "absent.safetensors")


def test_weights_round_trip_torch_and_numpy(tmp_path):
    state = {"w": torch.randn(3, 4), "n": torch.tensor([1, 2, 3])}
    save_weights(tmp_path / "a.safetensors", state, {"classes": ["x", "y"], "info": {"epochs": 3}}, half=True)
    back, meta = read_weights(tmp_path / "a.safetensors")
    assert meta == {"classes": ["x", "y"], "info": {"epochs": 3}}
    assert back["w"].dtype == torch.float32 and back["n"].dtype == torch.int64
    torch.testing.assert_close(back["w"], state["w"], atol=2e-3, rtol=1e-3)  # float16 storage
    save_weights(tmp_path / "b.safetensors", {"m": np.arange(6, dtype=np.float32)}, {"C": 0.5})
    arrays, meta = read_weights(tmp_path / "b.safetensors", framework="np")
    np.testing.assert_array_equal(arrays["m"], np.arange(6)) and meta == {"C": 0.5}


def test_a_file_that_is_not_safetensors_is_named(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="bad.safetensors"):
        read_metadata(bad)


def test_a_new_family_registers_in_a_few_lines(tmp_path):
    @register_model("tiny_test_family", task="classification", modalities=("audio",), level="utterance", inputs="(T, 4)", outputs="2 classes")
    class Tiny(nn.Module):
        def __init__(self, dim: int = 4):
            super().__init__()
            self.head = nn.Linear(dim, 2)

        @classmethod
        def load(cls, path):
            state, meta = read_weights(path)
            model = cls(**meta["config"])
            model.load_state_dict(state)
            return model

    try:
        model = create_model("tiny_test_family", dim=4)
        save_weights(tmp_path / "t.safetensors", model.state_dict(), {"config": {"dim": 4}})
        again = load_pretrained("tiny_test_family", tmp_path / "t.safetensors")
        torch.testing.assert_close(again.head.weight, model.head.weight)
        assert model_info("tiny_test_family").shipped is False
    finally:
        MODELS._factories.pop("tiny_test_family")


def test_models_command_lists_every_family():
    out = subprocess.run([sys.executable, "-m", "emorec.cli", "models", "--json"], capture_output=True, text=True, check=True).stdout
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["voice_probe"]["weights"] == "shipped" and rows["voice_probe"]["modalities"] == ["audio"]
    assert rows["face_cnn"]["card"] == "docs/models/face_cnn.md"
