"""Factorized latent dynamics for Video JEPA: library behind the notebooks and the DVC pipeline."""
