"""A BERT encoder in plain torch (Devlin et al. 2019, §3; the layout of Hugging Face's ``BertModel``, whose parameter
names it keeps so that its checkpoints load as they are) and its tokenizer from the ``tokenizers`` library.

emorec runs all-MiniLM-L6-v2 with it instead of importing ``transformers`` at run time: the same token states (tested
within 1e-5), without loading ``transformers``' model machinery (seconds on first use, hundreds of MB).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = ["BertConfig", "BertEncoder", "BertTokenizer"]


class BertConfig:
    """The fields of a Hugging Face ``config.json`` the encoder uses (hidden size, layers, heads, ...)."""

    def __init__(self, hidden_size: int = 384, num_hidden_layers: int = 6, num_attention_heads: int = 12, intermediate_size: int = 1536,
                 vocab_size: int = 30522, max_position_embeddings: int = 512, type_vocab_size: int = 2, layer_norm_eps: float = 1e-12,
                 hidden_dropout_prob: float = 0.1, attention_probs_dropout_prob: float = 0.1, **_ignored):
        self.hidden_size, self.num_hidden_layers, self.num_attention_heads = hidden_size, num_hidden_layers, num_attention_heads
        self.intermediate_size, self.vocab_size, self.max_position_embeddings = intermediate_size, vocab_size, max_position_embeddings
        self.type_vocab_size, self.layer_norm_eps = type_vocab_size, layer_norm_eps
        self.hidden_dropout_prob, self.attention_probs_dropout_prob = hidden_dropout_prob, attention_probs_dropout_prob

    @classmethod
    def from_file(cls, path: str | Path) -> BertConfig:
        return cls(**json.loads(Path(path).read_text()))


class _Embeddings(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=0)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)[None] + self.token_type_embeddings.weight[0]
        return self.dropout(self.LayerNorm(x))


class _SelfAttention(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.heads = c.num_attention_heads
        self.query, self.key, self.value = (nn.Linear(c.hidden_size, c.hidden_size) for _ in range(3))
        self.dropout = nn.Dropout(c.attention_probs_dropout_prob)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape

        def split(y):
            return y.view(b, t, self.heads, d // self.heads).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads) + bias
        return (self.dropout(scores.softmax(dim=-1)) @ v).transpose(1, 2).reshape(b, t, d)


class _AddNorm(nn.Module):
    """``LayerNorm(dropout(dense(x)) + residual)`` (Hugging Face's ``BertSelfOutput`` / ``BertOutput``)."""

    def __init__(self, c: BertConfig, width: int):
        super().__init__()
        self.dense = nn.Linear(width, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class _Attention(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _AddNorm(c, c.hidden_size)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, bias), x)


class _Intermediate(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.gelu(self.dense(x))  # exact (erf) GELU, BERT's "gelu"


class _Layer(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _AddNorm(c, c.intermediate_size)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, bias)
        return self.output(self.intermediate(x), x)


class _Stack(nn.Module):
    def __init__(self, c: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c.num_hidden_layers))


class BertEncoder(nn.Module):
    """BERT token states: ``forward(input_ids (B, T) int64, attention_mask (B, T) {0, 1})`` → (B, T, hidden_size).

    Parameter names follow Hugging Face's ``BertModel`` (``embeddings.*``, ``encoder.layer.N.*``), so
    :meth:`from_pretrained` reads its ``model.safetensors`` unchanged; the pooler is not used. Token type 0 throughout
    (single sentences). ``config`` is a :class:`BertConfig`.
    """

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.embeddings = _Embeddings(config)
        self.encoder = _Stack(config)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> BertEncoder:
        """A checkpoint folder with ``config.json`` and ``model.safetensors`` (in eval mode).

        Raises
        ------
        ValueError
            The checkpoint lacks some of the encoder's weights.
        """
        from safetensors.torch import load_file

        folder = Path(folder)
        model = cls(BertConfig.from_file(folder / "config.json"))
        state = {k: v for k, v in load_file(str(folder / "model.safetensors")).items() if not k.startswith(("pooler.", "embeddings.position_ids"))}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(f"{folder}: not a BERT checkpoint (missing {missing[:3]}, unexpected {unexpected[:3]})")
        return model.eval()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        x = self.embeddings(input_ids)
        bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min  # padding: no attention
        for layer in self.encoder.layer:
            x = layer(x, bias)
        return x


class BertTokenizer:
    """WordPiece tokenization from a checkpoint's ``tokenizer.json`` (the ``tokenizers`` library: the same ids as
    Hugging Face's fast tokenizer), ``[CLS] … [SEP]``, truncated to ``max_length`` tokens and padded per batch.

    ``__call__(texts)`` → ``{"input_ids": (B, T) int64, "attention_mask": (B, T) int64}`` tensors; with
    ``is_split_into_words=True`` each text is a list of words and ``word_ids(k)`` gives each token's word of text ``k``.
    """

    def __init__(self, path: str | Path):
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._last = []

    def __call__(self, texts: list[str] | list[list[str]], max_length: int = 512, is_split_into_words: bool = False) -> dict[str, torch.Tensor]:
        self._tokenizer.enable_truncation(max_length)
        encodings = self._tokenizer.encode_batch(texts, is_pretokenized=is_split_into_words)
        self._last = encodings
        width = max((len(e.ids) for e in encodings), default=0)
        ids = np.zeros((len(encodings), width), np.int64)
        mask = np.zeros((len(encodings), width), np.int64)
        for k, e in enumerate(encodings):
            ids[k, : len(e.ids)] = e.ids
            mask[k, : len(e.ids)] = 1
        return {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        """Each token's word index in the last call's text ``batch_index`` (None for ``[CLS]``/``[SEP]``)."""
        return list(self._last[batch_index].word_ids)
