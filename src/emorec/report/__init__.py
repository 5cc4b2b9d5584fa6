"""Plots and reports rendered from an analysis result alone (no models needed)."""
