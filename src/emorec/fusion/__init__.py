"""Fusions of the modality readings, registered by name (:data:`FUSIONS`); ``masked_mean`` is the default."""

from emorec.fusion import amcm, masked_mean, tcn_gated, utterance  # noqa: F401  (registers the fusions)
from emorec.fusion.base import FUSIONS, FusedReading, Fusion, create_fusion, register_fusion

__all__ = ["DEFAULT_FUSION", "FUSIONS", "FusedReading", "Fusion", "create_fusion", "register_fusion"]

DEFAULT_FUSION = "masked_mean"
