"""The soak's TTFA p95 drift, from as many turns as the run has, with its uncertainty.

A p95 of the ~120 plain turns in a third of a 10-minute run is about the sixth-slowest
turn: its ratio between two thirds of one run spread over a 90 % interval 28 points wide
(bootstrap on a recorded run), so a 5 % target passed or failed by chance. The drift here
compares the two halves of the turns after the first minute (TTFA settles within it: first
connections and caches), in a run whose turns are mostly plain ones (``soak._plans``), and
reports a bootstrap interval beside it so a reader sees how far the figure can be trusted.
(A Harrell-Davis p95 was tried and spread only 3 % less than numpy's on TTFA-like
samples; the number of turns is what narrows the interval.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MIN_PER_HALF", "Drift", "ttfa_drift"]

MIN_PER_HALF = 40
_RESAMPLES = 1000


@dataclass(frozen=True, slots=True)
class Drift:
    """The later half's TTFA p95 over the earlier half's, minus 1."""

    value: float
    low: float
    """5th percentile of the bootstrap (each half resampled 1,000 times)."""
    high: float
    """95th percentile of the bootstrap."""
    n: tuple[int, int]
    """Turns in the earlier and the later half."""


def ttfa_drift(turns: list[tuple[float, float]], after: float, seed: int = 0) -> Drift | None:
    """``turns`` are ``(when, ttfa)``; those before ``after`` are left out and the rest split
    into two halves in time order. ``None`` below :data:`MIN_PER_HALF` turns a half."""
    ttfa = np.array([v for t, v in sorted(turns) if t >= after], dtype=float)
    half = ttfa.size // 2
    if half < MIN_PER_HALF:
        return None
    early, late = ttfa[:half], ttfa[half:]
    value = float(np.percentile(late, 95) / np.percentile(early, 95) - 1)
    rng = np.random.default_rng(seed)
    boot = np.percentile(rng.choice(late, (_RESAMPLES, late.size)), 95, axis=1) / np.percentile(
        rng.choice(early, (_RESAMPLES, early.size)), 95, axis=1
    )
    low, high = np.percentile(boot - 1, [5, 95])
    return Drift(round(value, 4), round(float(low), 4), round(float(high), 4), (half, late.size))
