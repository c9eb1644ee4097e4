"""OTAM temporal-alignment matching: hand-computed costs on 2 x 2 distance matrices and order sensitivity."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from jepa.fewshot import Episodes, evaluate_fewshot, otam_distance, prototype_accuracy, temporal_features


def test_otam_hard_min_path_on_a_2x2_matrix():
    # padded rows [0, a, b, 0] / [0, c, d, 0]; with a vanishing temperature the cost is the best monotonic
    # path: top row 0, a, a+b, a+b; bottom: c, d + min(a, c), min(a+b, d + min(a, c)) = min(3, 1.5)
    d = torch.tensor([[1.0, 2.0], [3.0, 0.5]])
    assert otam_distance(d, lbda=1e-4).item() == pytest.approx(1.5, abs=1e-3)
    # matched order (zero diagonal) aligns for free; the reversed order (zero anti-diagonal) cannot, since a
    # path never goes back along the support: top row 0, 5, 5, 5; bottom 0, 5 + min(5, 0), min(5, 5, 5) = 5
    assert otam_distance(torch.tensor([[0.0, 5.0], [5.0, 0.0]]), lbda=1e-4).item() == pytest.approx(0.0, abs=1e-3)
    assert otam_distance(torch.tensor([[5.0, 0.0], [0.0, 5.0]]), lbda=1e-4).item() == pytest.approx(5.0, abs=1e-3)


def test_otam_soft_min_value_by_hand():
    # lambda = 1: bottom row col1 = c + softmin(0, a, 0); col2 = d + softmin(a, col1); col3 = softmin(a+b, a+b, col2)
    a, b, c, d = 1.0, 2.0, 3.0, 0.5
    softmin = lambda *x: -math.log(sum(math.exp(-v) for v in x))  # noqa: E731
    col1 = c + softmin(0.0, a, 0.0)
    col2 = d + softmin(a, col1)
    expected = softmin(a + b, a + b, col2)
    got = otam_distance(torch.tensor([[a, b], [c, d]]), lbda=1.0).item()
    assert got == pytest.approx(expected, rel=1e-6)


def test_otam_batches_leading_dimensions():
    d = torch.rand(3, 2, 4, 5)
    batched = otam_distance(d)
    assert batched.shape == (3, 2)
    assert batched[1, 0].item() == pytest.approx(otam_distance(d[1, 0]).item(), rel=1e-6)


def test_otam_tells_apart_reversed_orders_that_mean_pooling_cannot():
    # class 0 = e1 then e2, class 1 = e2 then e1 (identical means); two clips per class with small noise
    e1, e2 = torch.eye(3)[0], torch.eye(3)[1]
    gen = torch.Generator().manual_seed(0)
    seq = torch.stack([torch.stack([e1, e2]), torch.stack([e1, e2]), torch.stack([e2, e1]), torch.stack([e2, e1])])
    seq = seq + 0.01 * torch.randn(seq.shape, generator=gen)
    labels = np.array([0, 0, 1, 1])
    episodes = Episodes(support=np.array([[[0], [2]], [[1], [3]]]), query=np.array([[[1], [3]], [[0], [2]]]),
                        classes=np.array([[0, 1], [0, 1]]), seed=0)
    assert evaluate_fewshot(seq, labels, episodes, classifier="otam").tolist() == [1.0, 1.0]
    # the mean over time is the same for both classes, so the prototype classifier is no better than a coin
    means = seq.mean(1)
    assert prototype_accuracy(means, episodes).mean() <= 0.75


def test_temporal_features_average_space_within_each_time_step():
    tokens = torch.arange(2 * 2 * 3 * 1, dtype=torch.float32).reshape(2, 6, 1)  # 2 clips, 2 time steps x 3 patches
    out = temporal_features(tokens, 2)
    assert out.squeeze(-1).tolist() == [[1.0, 4.0], [7.0, 10.0]]
    with pytest.raises(ValueError, match="not 4 time steps"):
        temporal_features(tokens, 4)


def test_otam_rejects_pooled_features():
    episodes = Episodes(support=np.array([[[0], [1]]]), query=np.array([[[2], [3]]]), classes=np.array([[0, 1]]), seed=0)
    with pytest.raises(ValueError, match="time, dim"):
        evaluate_fewshot(torch.zeros(4, 3), np.array([0, 1, 0, 1]), episodes, classifier="otam")
