"""Pretraining batch streams.

A batch is a pure function of (seed, step): resuming at step s reproduces
exactly the batches an uninterrupted run would have seen, and distributed
ranks slice the same global batch.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from jepa.data.clips import to_model_input


def synthetic_clips(regime: str, step: int, seed: int, batch_size: int, frames: int, size: int,
                    weights: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The global batch of `step` as rendered: (uint8 (B, T, H, W, 3), bool is_image (B,))."""
    from jepa.data import synthetic

    rng = np.random.default_rng([seed, step, 7919])
    w = weights if regime == "mixed" else None
    videos, is_image = synthetic.sample_regime(regime, batch_size, rng, frames=frames, size=size, weights=w)
    return videos, np.asarray(is_image)


def synthetic_batch(regime: str, step: int, seed: int, batch_size: int, frames: int, size: int,
                    weights: dict[str, float] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    videos, is_image = synthetic_clips(regime, step, seed, batch_size, frames, size, weights)
    return to_model_input(videos), torch.as_tensor(is_image, dtype=torch.bool)


def synthetic_stream(regime: str, seed: int, batch_size: int, frames: int, size: int, start_step: int = 0,
                     weights: dict[str, float] | None = None, rank: int = 0,
                     world_size: int = 1) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Infinite stream of (clip, is_image); with world_size > 1 each rank takes its slice of the global batch."""
    if batch_size % world_size:
        raise ValueError(f"global batch_size {batch_size} is not divisible by world_size {world_size}")
    per = batch_size // world_size
    step = start_step
    while True:
        x, img = synthetic_batch(regime, step, seed, batch_size, frames, size, weights)
        yield x[rank * per:(rank + 1) * per], img[rank * per:(rank + 1) * per]
        step += 1
