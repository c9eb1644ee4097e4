"""The shared statistics: Student-t 95% intervals over seeds and the floor-separation test, on hand-computed values."""

import math

import pytest

from jepa import stats


def test_mean_ci_uses_student_t():
    mean, half = stats.mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert half == pytest.approx(4.302653 * 1.0 / math.sqrt(3), rel=1e-5)  # t(0.975, 2) * sd 1 / sqrt 3


def test_mean_ci_without_a_spread_has_no_interval():
    assert stats.mean_ci([4.0])[0] == 4.0 and math.isnan(stats.mean_ci([4.0])[1])
    assert all(math.isnan(x) for x in stats.mean_ci([]))


@pytest.mark.parametrize("mean, half, floor, floor_half, expected", [
    (10.0, 1.0, 8.0, 0.9, True),        # 9.0 > 8.9
    (10.0, 1.0, 8.0, 1.0, False),       # touching intervals are not separated
    (10.0, math.nan, 0.0, 1.0, False),  # one seed: no interval, no separation
    (10.0, 1.0, 0.0, math.nan, False),
    (5.0, 1.0, 8.0, 0.5, False),        # below the floor
])
def test_ci_separated(mean, half, floor, floor_half, expected):
    assert stats.ci_separated(mean, half, floor, floor_half) is expected


def test_t_interval_is_the_tables_interval_and_collapses_for_one_value():
    lo, hi = stats.t_interval([1.0, 2.0, 3.0])
    half = stats.mean_ci([1.0, 2.0, 3.0])[1]
    assert (lo, hi) == pytest.approx((2.0 - half, 2.0 + half))
    assert stats.t_interval([7.0]) == (7.0, 7.0)


def test_normal_ci_is_the_episode_interval_with_population_std():
    mean, half = stats.normal_ci([0.0, 1.0, 0.0, 1.0])  # population std 0.5
    assert mean == 0.5 and half == pytest.approx(1.96 * 0.5 / 2)
