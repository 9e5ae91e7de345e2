"""The soak's TTFA p95 drift: the halves it compares and the interval it reports."""

from __future__ import annotations

import math
import random

import pytest

from halfcascade.bench.soak_stats import MIN_PER_HALF, ttfa_drift


def _turns(n: int, *, late_scale: float = 1.0, seed: int = 3) -> list[tuple[float, float]]:
    """``n`` turns over 600 s, TTFA lognormal around 0.27 s (the soak's), the second half of
    the run's scaled by ``late_scale``."""
    rng = random.Random(seed)
    turns = []
    for i in range(n):
        t = 60.0 + 540.0 * i / n
        v = rng.lognormvariate(math.log(0.27), 0.25)
        turns.append((t, v * (late_scale if t >= 330.0 else 1.0)))
    return turns


def test_ttfa_drift_of_a_steady_run_is_near_zero_and_its_interval_holds_zero() -> None:
    d = ttfa_drift(_turns(1500), after=60.0)
    assert d is not None and d.n == (750, 750)
    assert abs(d.value) < 0.03
    assert d.low < 0.0 < d.high


def test_ttfa_drift_finds_a_slower_second_half() -> None:
    d = ttfa_drift(_turns(1500, late_scale=1.2), after=60.0)
    assert d is not None
    assert d.value == pytest.approx(0.2, abs=0.04)
    assert d.low > 0.05  # the interval says it is more than the 5 % target


def test_ttfa_drift_leaves_out_the_first_minute_and_takes_turns_in_time_order() -> None:
    turns = _turns(400)
    slow_start = [(float(t), 5.0) for t in range(60)]  # first connections, before `after`
    shuffled = turns + slow_start
    random.Random(1).shuffle(shuffled)
    assert ttfa_drift(shuffled, after=60.0) == ttfa_drift(turns, after=60.0)
    # counted from 0 s instead, the slow first minute lands in the early half
    with_start = ttfa_drift(shuffled, after=0.0)
    assert with_start is not None and with_start.value < -0.5


def test_ttfa_drift_says_nothing_with_too_few_turns() -> None:
    assert ttfa_drift(_turns(2 * MIN_PER_HALF - 1), after=60.0) is None
    assert ttfa_drift(_turns(2 * MIN_PER_HALF), after=60.0) is not None
