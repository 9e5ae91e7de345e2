"""Tables for benchmark results: percentiles per pipeline and the ratio to the floor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .runner import BenchResult

__all__ = ["percentile", "summary_rows"]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) with linear interpolation; NaN for no values."""
    return float(np.percentile(values, q * 100)) if len(values) else float("nan")


def summary_rows(result: BenchResult, pipelines: Sequence[str]) -> list[dict[str, float | str]]:
    """One row per pipeline plus the floor: TTFA p50/p95 (ms) and p50 ratio to the floor."""
    floors = [t.floor for t in result.of(pipelines[0])]
    floor_p50 = percentile(floors, 0.5)
    rows: list[dict[str, float | str]] = []
    for name in pipelines:
        ttfa = [t.ttfa for t in result.of(name)]
        rows.append(
            {
                "pipeline": name,
                "turns": len(ttfa),
                "p50_ms": percentile(ttfa, 0.5) * 1000,
                "p95_ms": percentile(ttfa, 0.95) * 1000,
                "max_ms": max(ttfa) * 1000 if ttfa else float("nan"),
                "x_floor": percentile(ttfa, 0.5) / floor_p50 if floor_p50 else float("nan"),
            }
        )
    rows.append(
        {
            "pipeline": "floor (injected delays)",
            "turns": len(floors),
            "p50_ms": floor_p50 * 1000,
            "p95_ms": percentile(floors, 0.95) * 1000,
            "max_ms": max(floors) * 1000 if floors else float("nan"),
            "x_floor": 1.0,
        }
    )
    return rows
