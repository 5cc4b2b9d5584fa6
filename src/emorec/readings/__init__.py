"""Each modality's emotion reading as a registered extractor (``face.emotion``, ``audio.emotion``, ``text.emotion``).

Importing this package registers them in :data:`emorec.features.EXTRACTORS`.
"""

from emorec.readings import face, text, voice  # noqa: F401  (registers the extractors)
from emorec.readings.base import READING_EXTRACTORS, Reading, ReadingExtractor, readings_of
from emorec.readings.face import FACE_MODELS
from emorec.readings.text import TEXT_MODELS
from emorec.readings.voice import VOICE_MODELS

__all__ = ["FACE_MODELS", "READING_EXTRACTORS", "TEXT_MODELS", "VOICE_MODELS", "Reading", "ReadingExtractor", "readings_of"]
