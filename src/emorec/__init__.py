"""emorec: emotion recognition from the voice, the face and the words of recorded speech and video.

Public API::

    import emorec
    features = emorec.extract("clip.mp4", store="features/")   # ClipFeatures on a 10 Hz axis
    analysis = emorec.analyze("clip.mp4", out="out/")           # arousal/valence timeline + classes
"""

from __future__ import annotations

from emorec._version import __version__

from emorec.errors import EmorecError

__all__ = ["ClipFeatures", "EmorecError", "FeatureStore", "TimeSeries", "__version__", "analyze", "extract"]


def __getattr__(name: str):
    # Lazy imports keep `import emorec` and `emorec --help` fast.
    if name == "extract":
        from emorec.api import extract

        return extract
    if name == "analyze":
        from emorec.pipelines.analyze import analyze

        return analyze
    if name == "ClipFeatures":
        from emorec.clip import ClipFeatures

        return ClipFeatures
    if name == "TimeSeries":
        from emorec.timeseries import TimeSeries

        return TimeSeries
    if name == "FeatureStore":
        from emorec.store import FeatureStore

        return FeatureStore
    raise AttributeError(f"module 'emorec' has no attribute {name!r}")
