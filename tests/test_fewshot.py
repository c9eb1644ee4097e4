"""Tests for jepa.fewshot: episode sampling, scoring, statistics and the contamination guard."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa.fewshot import (
    ContaminationError,
    Episodes,
    check_no_contamination,
    evaluate_fewshot,
    paired_difference,
    sample_episodes,
    summarize,
)


def gaussian_clusters(n_classes: int, per_class: int, dim: int, separation: float, seed: int = 0):
    """Features = class mean (scaled by ``separation``) + unit noise; labels 0..n_classes-1."""
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((n_classes, dim)) * separation
    labels = np.repeat(np.arange(n_classes), per_class)
    features = means[labels] + rng.standard_normal((labels.size, dim))
    return features.astype(np.float32), labels


@pytest.fixture(scope="module")
def separable():
    return gaussian_clusters(n_classes=12, per_class=25, dim=32, separation=3.0)


@pytest.mark.parametrize("k_shot", [1, 5])
def test_separable_features_are_classified_almost_perfectly(separable, k_shot):
    features, labels = separable
    episodes = sample_episodes(labels, n_way=5, k_shot=k_shot, q_query=5, n_episodes=300, seed=1)
    stats = summarize(evaluate_fewshot(features, labels, episodes))
    assert stats["mean"] > 0.95
    assert stats["n"] == 300


def test_random_features_score_chance_within_ci():
    # A large pool (40,000 samples for 40,000 draws) keeps episodes nearly independent, as the CI assumes.
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(200), 200)
    features = rng.standard_normal((labels.size, 16)).astype(np.float32)
    episodes = sample_episodes(labels, n_way=5, k_shot=1, q_query=3, n_episodes=2000, seed=2)
    stats = summarize(evaluate_fewshot(features, labels, episodes))
    assert abs(stats["mean"] - 1 / 5) <= stats["ci95"]
    assert 0.0 < stats["ci95"] < 0.02


def test_summarize_uses_1_96_std_over_sqrt_n():
    acc = np.array([0.0, 1.0, 0.5, 0.5])
    stats = summarize(acc)
    assert stats == pytest.approx({"mean": 0.5, "std": np.std(acc), "ci95": 1.96 * np.std(acc) / 2.0, "n": 4})
    with pytest.raises(ValueError, match="empty"):
        summarize([])


def test_same_seed_gives_identical_episodes_and_different_seeds_differ(separable):
    _, labels = separable
    first = sample_episodes(labels, 5, 5, 2, n_episodes=50, seed=7)
    again = sample_episodes(labels, 5, 5, 2, n_episodes=50, seed=7)
    other = sample_episodes(labels, 5, 5, 2, n_episodes=50, seed=8)
    for field in ("support", "query", "classes"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
    assert not np.array_equal(first.support, other.support)
    assert not np.array_equal(first.classes, other.classes)


def test_save_load_round_trips_exactly(tmp_path, separable):
    _, labels = separable
    episodes = sample_episodes(labels, 5, 1, 4, n_episodes=30, seed=3)
    path = episodes.save(tmp_path / "splits" / "episodes.npz")
    loaded = Episodes.load(path)
    for field in ("support", "query", "classes"):
        original, restored = getattr(episodes, field), getattr(loaded, field)
        assert restored.dtype == original.dtype
        np.testing.assert_array_equal(restored, original)
    assert loaded.seed == 3
    assert (loaded.n_episodes, loaded.n_way, loaded.k_shot, loaded.q_query) == (30, 5, 1, 4)
    assert sorted(p.name for p in path.parent.iterdir()) == ["episodes.npz"]  # no temp file left behind


def test_episode_structure_disjoint_distinct_and_restricted_to_classes(separable):
    _, labels = separable
    test_classes = [0, 2, 4, 6, 8, 10]
    episodes = sample_episodes(labels, 5, 3, 4, n_episodes=200, seed=4, classes=test_classes)
    assert episodes.support.shape == (200, 5, 3)
    assert episodes.query.shape == (200, 5, 4)
    assert set(np.unique(episodes.classes)) <= set(test_classes)
    for support, query, classes in zip(episodes.support, episodes.query, episodes.classes):
        assert len(set(classes)) == 5
        samples = np.concatenate([support.ravel(), query.ravel()])
        assert len(set(samples)) == samples.size  # no sample used twice in one episode
    np.testing.assert_array_equal(labels[episodes.support], np.broadcast_to(episodes.classes[:, :, None], episodes.support.shape))
    np.testing.assert_array_equal(labels[episodes.query], np.broadcast_to(episodes.classes[:, :, None], episodes.query.shape))


def test_paired_difference_is_zero_with_itself_and_positive_for_a_better_classifier(separable):
    features, labels = separable
    episodes = sample_episodes(labels, 5, 1, 5, n_episodes=500, seed=5)
    noisy = features + np.random.default_rng(9).standard_normal(features.shape).astype(np.float32) * 6.0
    good = evaluate_fewshot(features, labels, episodes)
    bad = evaluate_fewshot(noisy, labels, episodes)
    assert paired_difference(good, good) == {"mean": 0.0, "ci95": 0.0, "n": 500}
    diff = paired_difference(good, bad)
    assert diff["mean"] - diff["ci95"] > 0
    with pytest.raises(ValueError, match="same episodes"):
        paired_difference(good, bad[:-1])


def test_contamination_raises_and_names_the_overlap():
    with pytest.raises(ContaminationError, match="RQ2 kinetics") as caught:
        check_no_contamination(["archery", "Playing_Guitar", "surfing"], ["playing guitar", "surfing", "diving"], context="RQ2 kinetics")
    assert caught.value.overlap == ["playing guitar", "surfing"]
    assert "playing guitar" in str(caught.value) and "surfing" in str(caught.value)
    assert isinstance(caught.value, ValueError)
    check_no_contamination(["archery"], ["diving"], context="clean")  # no overlap: no error


def test_too_few_examples_per_class_raises_a_clear_error():
    labels = np.repeat(np.arange(6), [10, 10, 10, 3, 3, 3])
    with pytest.raises(ValueError, match=r"only 3 of 6 candidate classes have >= 6 examples.*5-way"):
        sample_episodes(labels, n_way=5, k_shot=5, q_query=1, n_episodes=10, seed=0)
    with pytest.warns(UserWarning, match="fewer than 6 examples"):
        episodes = sample_episodes(labels, n_way=3, k_shot=5, q_query=1, n_episodes=10, seed=0)
    assert set(np.unique(episodes.classes)) == {0, 1, 2}


def test_logistic_regression_agrees_with_prototype_on_separable_data(separable):
    features, labels = separable
    episodes = sample_episodes(labels, 5, 5, 3, n_episodes=20, seed=6)
    prototype = evaluate_fewshot(features, labels, episodes, classifier="prototype")
    logistic = evaluate_fewshot(torch.from_numpy(features), labels, episodes, classifier="logistic")
    assert logistic.shape == prototype.shape == (20,)
    assert logistic.mean() > 0.95
    assert np.abs(logistic - prototype).max() <= 1 / 15 + 1e-9  # at most one query of 15 disagrees


def test_evaluate_rejects_features_in_a_different_order(separable):
    features, labels = separable
    episodes = sample_episodes(labels, 5, 1, 1, n_episodes=10, seed=0)
    with pytest.raises(ValueError, match="labels do not match"):
        evaluate_fewshot(features, np.random.default_rng(0).permutation(labels), episodes)
    with pytest.raises(ValueError, match="classifier='knn'"):
        evaluate_fewshot(features, labels, episodes, classifier="knn")
