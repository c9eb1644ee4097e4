"""The temporal (arrow-of-time) analogue: its label follows from the generator's variables by a fixed
rule, and the order-blind readouts of its pixels stay near chance (cheap sizes)."""

from __future__ import annotations

import numpy as np

from jepa.data import synthetic as S
from jepa.data.synthetic.evalsets import TEMPORAL_HOLD, _temporal
from tests.test_synthetic import NEAR_CHANCE, linear_probe, pixels


def _states(clips) -> np.ndarray:
    return clips.latents[:, ::TEMPORAL_HOLD, 0]  # one size state per tubelet


def test_label_is_the_sign_of_most_size_changes():
    """Inflate-then-pop: most changes are small increases (a pop is at most one); the reversal flips every sign."""
    clips = S.make_eval_set("temporal", 200, seed=3)
    signs = np.sign(np.diff(_states(clips), axis=1)).sum(axis=1)
    assert np.all(signs != 0)
    assert np.array_equal((signs < 0).astype(np.int64), clips.labels)


def test_pops_happen_in_about_half_of_the_clips():
    """With a period of ~2x the clip's changes, the first and last states alone carry no sign information."""
    clips = S.make_eval_set("temporal", 400, seed=4)
    s = _states(clips)
    big = np.abs(np.diff(s, axis=1)).max(axis=1) > 0.5
    assert 0.35 < big.mean() < 0.65
    first_last = np.sign(s[:, -1] - s[:, 0])
    agree = np.mean((first_last < 0) == (clips.labels == 0))
    assert abs(agree - 0.5) < 0.15


def test_size_changes_only_between_tubelets():
    """Frames of one tubelet share their state, so each tubelet is a still (up to the sensor noise)."""
    clips = _temporal(6, np.random.default_rng(0), 8, 32)
    np.testing.assert_array_equal(clips.latents[:, 0::2], clips.latents[:, 1::2])
    diff = np.abs(clips.videos[:, 0::2].astype(int) - clips.videos[:, 1::2].astype(int))
    assert np.median(diff) <= 8


def test_raw_pixel_probes_stay_near_chance():
    train = S.make_eval_set("temporal", 240, seed=21)
    test = S.make_eval_set("temporal", 160, seed=22)
    chance = 0.5
    clip = linear_probe(pixels(train.videos), train.labels, pixels(test.videos), test.labels)
    # the bag of tubelets (what an attentive probe on position-free pixel tokens sees): their mean
    bag = lambda v: pixels(v).reshape(len(v), 4, -1).mean(axis=1)  # noqa: E731
    tubelets = linear_probe(bag(train.videos), train.labels, bag(test.videos), test.labels)
    assert clip < chance + NEAR_CHANCE and tubelets < chance + NEAR_CHANCE, (clip, tubelets)
