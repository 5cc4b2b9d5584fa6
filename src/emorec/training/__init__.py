"""Training recipes and the training harness."""
