"""Weighted mixing of several datasets, for the paper's `mixed` regime (UCF 0.2, SSv2 0.6, IN-100 0.2).

The mix is a sampler over torch's ConcatDataset of the sources: each draw picks a source
with probability equal to its weight, then the next clip of that source's shuffled order,
so sources are covered without repeats until exhausted. Under DDP every rank must see a
different part of the same stream, or the effective batch holds duplicates: one global
stream per (seed, epoch) is drawn and rank r takes positions r, r + world_size, ...
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

import numpy as np
import torch.distributed as dist
from torch.utils.data import ConcatDataset, Dataset, Sampler


class WeightedMixSampler(Sampler[int]):
    """Indices into ConcatDataset(sources), mixed by weight, disjoint across ranks.

    sizes: number of clips of each source; weights: sampling weights (normalized here);
    num_samples: draws per rank per epoch (default: the total size split over ranks).
    rank / world_size default to torch.distributed's when it is initialized, else 0 / 1.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        weights: Sequence[float],
        num_samples: int | None = None,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        if len(sizes) != len(weights) or not sizes:
            raise ValueError(f"need one weight per source, got sizes {list(sizes)} and weights {list(weights)}")
        probabilities = np.asarray(weights, dtype=float)
        if (probabilities < 0).any() or probabilities.sum() <= 0:
            raise ValueError(f"weights must be non-negative with a positive sum, got {list(weights)}")
        empty = [i for i, (size, weight) in enumerate(zip(sizes, weights)) if size <= 0 and weight > 0]
        if empty:
            raise ValueError(f"sources {empty} are empty but have a positive weight")
        distributed = dist.is_available() and dist.is_initialized()
        self.world_size = world_size if world_size is not None else (dist.get_world_size() if distributed else 1)
        self.rank = rank if rank is not None else (dist.get_rank() if distributed else 0)
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank {self.rank} outside world_size {self.world_size}")
        self.sizes = [int(size) for size in sizes]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.probabilities = probabilities / probabilities.sum()
        self.num_samples = num_samples if num_samples is not None else sum(self.sizes) // self.world_size
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def global_stream(self) -> np.ndarray:
        """The epoch's draws for all ranks together (rank r owns positions r::world_size)."""
        rng = np.random.default_rng([self.seed, self.epoch])
        total = self.num_samples * self.world_size
        sources = rng.choice(len(self.sizes), size=total, p=self.probabilities)
        stream = np.empty(total, dtype=np.int64)
        for source, size in enumerate(self.sizes):
            positions = np.flatnonzero(sources == source)
            if len(positions) == 0:
                continue
            rounds = math.ceil(len(positions) / size)
            order = np.concatenate([rng.permutation(size) for _ in range(rounds)])[: len(positions)]
            stream[positions] = self.offsets[source] + order
        return stream

    def __iter__(self) -> Iterator[int]:
        return iter(self.global_stream()[self.rank :: self.world_size].tolist())


def mix_datasets(
    datasets: Sequence[Dataset],
    weights: Sequence[float],
    num_samples: int | None = None,
    seed: int = 0,
    rank: int | None = None,
    world_size: int | None = None,
) -> tuple[ConcatDataset, WeightedMixSampler]:
    """A ConcatDataset of `datasets` and the sampler that mixes them by `weights`."""
    sizes = [len(dataset) for dataset in datasets]  # type: ignore[arg-type]
    sampler = WeightedMixSampler(sizes, weights, num_samples, seed, rank, world_size)
    return ConcatDataset(datasets), sampler
