"""uint8 clips (N, T, H, W, C) -> normalized float model input (N, C, T, H, W)."""

from __future__ import annotations

import numpy as np
import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def to_model_input(videos: np.ndarray | torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(videos)
    if x.dtype != torch.uint8 or x.ndim != 5 or x.shape[-1] != 3:
        raise ValueError(f"expected uint8 clips shaped (N, T, H, W, 3), got {tuple(x.shape)} {x.dtype}")
    x = x.permute(0, 4, 1, 2, 3).float().div_(255.0)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1, 1)
    return (x - mean) / std
