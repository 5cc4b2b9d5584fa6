"""Emotion models: shared blocks and one module per model family."""
