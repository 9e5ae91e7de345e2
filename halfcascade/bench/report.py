"""Tables for benchmark results: percentiles per pipeline and the ratio to its floor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .runner import BenchResult

__all__ = ["percentile", "summary_rows"]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) with linear interpolation; NaN for no values."""
    return float(np.percentile(values, q * 100)) if len(values) else float("nan")


def _row(
    name: str, values: Sequence[float], floor_p50: float, phrase_p50: float
) -> dict[str, float | str]:
    p50 = percentile(values, 0.5)
    return {
        "pipeline": name,
        "turns": len(values),
        "p50_ms": p50 * 1000,
        "p95_ms": percentile(values, 0.95) * 1000,
        "max_ms": max(values) * 1000 if values else float("nan"),
        "floor_p50_ms": floor_p50 * 1000,
        "x_floor": p50 / floor_p50 if floor_p50 else float("nan"),
        "phrase_floor_p50_ms": phrase_p50 * 1000,
        "x_phrase_floor": p50 / phrase_p50 if phrase_p50 else float("nan"),
    }


def summary_rows(result: BenchResult, pipelines: Sequence[str]) -> list[dict[str, float | str]]:
    """One row per pipeline: TTFA p50/p95/max (ms), its floor's p50 and the p50 ratio."""
    rows = []
    for name in pipelines:
        turns = result.of(name)
        floor = percentile([t.floor for t in turns], 0.5)
        phrase = percentile([t.phrase_floor for t in turns], 0.5)
        rows.append(_row(name, [t.ttfa for t in turns], floor, phrase))
    return rows
