"""Tubelet ViT encoder, JEPA predictor and their positional encodings."""

from jepa.models.vit import Predictor, VideoViT, build_models

__all__ = ["Predictor", "VideoViT", "build_models"]
