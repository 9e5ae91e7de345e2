"""The soak's TTFA p95 drift, from as many turns as the run has, with its uncertainty.

A p95 of the ~120 plain turns in a third of a 10-minute run is about the sixth-slowest
turn: its ratio between two thirds of one run spread over a 90 % interval 28 points wide
(bootstrap on a recorded run), so a 5 % target passed or failed by chance. The drift here
compares the two halves of the turns after the first minute (TTFA settles within it: first
connections and caches), in a run whose turns are mostly plain ones (``soak._plans``), and
reports a bootstrap interval beside it so a reader sees how far the figure can be trusted.
Halves see half of a steady trend: a p95 that climbs linearly by 10 % from the first
minute to the end shows as about 5 %.
(A Harrell-Davis p95 was tried and spread only 3 % less than numpy's on TTFA-like
samples; the number of turns is what narrows the interval.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BLOCK_S", "MIN_PER_HALF", "Drift", "ttfa_drift"]

MIN_PER_HALF = 40
BLOCK_S = 15.0
"""The bootstrap's blocks of time (seconds): about 25 plain turns of the soak each."""
_RESAMPLES = 1000


@dataclass(frozen=True, slots=True)
class Drift:
    """The later half's TTFA p95 over the earlier half's, minus 1."""

    value: float
    low: float
    """5th percentile of the block bootstrap (each half resampled 1,000 times)."""
    high: float
    """95th percentile of the bootstrap."""
    n: tuple[int, int]
    """Turns in the earlier and the later half."""


def ttfa_drift(turns: list[tuple[float, float]], after: float, seed: int = 0) -> Drift | None:
    """``turns`` are ``(when, ttfa)``; those before ``after`` are left out and the rest split
    into two halves in time order. ``None`` below :data:`MIN_PER_HALF` turns a half.

    The interval is a block bootstrap: the sessions share one process, so a collector pause
    or a burst of faults slows the turns of many sessions at once, and those clusters are
    what make a p95. Resampling single turns would take them for independent and give an
    interval too narrow; each half is resampled in :data:`BLOCK_S` blocks of time instead."""
    ordered = sorted((t, v) for t, v in turns if t >= after)
    half = len(ordered) // 2
    if half < MIN_PER_HALF:
        return None
    early, late = ordered[:half], ordered[half:]
    value = _p95(early, late)
    rng = np.random.default_rng(seed)
    e_blocks, l_blocks = _blocks(early), _blocks(late)
    boot = [
        float(np.percentile(_resample(rng, l_blocks), 95))
        / float(np.percentile(_resample(rng, e_blocks), 95))
        - 1
        for _ in range(_RESAMPLES)
    ]
    low, high = np.percentile(boot, [5, 95])
    return Drift(round(value, 4), round(float(low), 4), round(float(high), 4), (half, len(late)))


def _p95(early: list[tuple[float, float]], late: list[tuple[float, float]]) -> float:
    return float(
        np.percentile([v for _, v in late], 95) / np.percentile([v for _, v in early], 95) - 1
    )


def _blocks(turns: list[tuple[float, float]]) -> list[np.ndarray]:
    start = turns[0][0]
    by_block: dict[int, list[float]] = {}
    for t, v in turns:
        by_block.setdefault(int((t - start) // BLOCK_S), []).append(v)
    return [np.array(vs) for vs in by_block.values()]


def _resample(rng: np.random.Generator, blocks: list[np.ndarray]) -> np.ndarray:
    picked = rng.integers(0, len(blocks), len(blocks))
    return np.concatenate([blocks[i] for i in picked])
