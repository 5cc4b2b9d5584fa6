"""End-to-end pipelines: feature extraction into the store, and analysis."""
