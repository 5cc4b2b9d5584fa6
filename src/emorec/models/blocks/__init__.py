"""Shared building blocks for emorec's networks, in one place (the model families extend them, never copy them).

- :mod:`~emorec.models.blocks.conv` — 2-D conv stages of the face networks, BatchNorm folding
- :mod:`~emorec.models.blocks.tcn` — mask-aware temporal convolutional networks
- :mod:`~emorec.models.blocks.pooling` — masked mean, temporal attention, attentive statistics pooling
- :mod:`~emorec.models.blocks.attention` — masked softmax, cross-modal attention
- :mod:`~emorec.models.blocks.fusion` — modality projection with missing tokens, gated modality sum
- :mod:`~emorec.models.blocks.recurrent` — GRU/LSTM encoders over the observed frames of masked sequences
- :mod:`~emorec.models.blocks.resnet` — ResNet-18/34 trunks in plain torch (spectrogram encoders)
- :mod:`~emorec.models.blocks.norm` — input standardisation fitted on the training data
- :mod:`~emorec.models.blocks.heads` — the output layout (class logits, then valence/arousal in [-1, 1])
"""

from emorec.models.blocks.attention import CrossModalAttention, masked_softmax
from emorec.models.blocks.conv import ConvStage, conv_bn_relu, fold_batchnorm
from emorec.models.blocks.fusion import GatedModalitySum, ModalityProjection
from emorec.models.blocks.heads import bound_affect
from emorec.models.blocks.norm import InputNorm, fit_input_norms
from emorec.models.blocks.pooling import AttentiveStatsPooling, TemporalAttentionPooling, masked_mean
from emorec.models.blocks.recurrent import MaskedRNN, compact, uncompact
from emorec.models.blocks.resnet import BasicBlock, ResNetTrunk
from emorec.models.blocks.tcn import TCN, TemporalBlock

__all__ = [
    "TCN", "AttentiveStatsPooling", "BasicBlock", "ConvStage", "CrossModalAttention", "GatedModalitySum", "InputNorm", "MaskedRNN", "ModalityProjection", "ResNetTrunk", "TemporalAttentionPooling",
    "TemporalBlock", "bound_affect", "compact", "conv_bn_relu", "fit_input_norms", "fold_batchnorm", "masked_mean", "masked_softmax", "uncompact",
]
