"""Fit models from a config, tune thresholds, evaluate, and write run folders."""
