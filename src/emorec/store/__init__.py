"""Content-addressed feature store on disk."""

from emorec.store.store import FeatureStore

__all__ = ["FeatureStore"]
