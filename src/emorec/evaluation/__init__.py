"""Evaluation outputs and the results page."""
