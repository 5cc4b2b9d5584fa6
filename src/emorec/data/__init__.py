"""Corpus loaders, label maps and speaker-independent folds."""
