"""The soak's figures minute by minute, and the garbage collector's pauses.

A drift or a growth in the soak's summary says *that* something changed over the run; the
timeline says *when* and next to what: TTFA per minute beside RSS and the collector's
full (generation 2) collections, whose pauses grow with the heap and stall every session in
the process at once.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import numpy as np

__all__ = ["GcPauses", "timeline"]


@dataclass
class GcPauses:
    """Records every collection's generation, start and pause while installed (``with``)."""

    pauses: list[tuple[float, int, float]] = field(default_factory=list)
    _started: float | None = None

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._started = now
        elif self._started is not None:
            self.pauses.append((self._started, int(info["generation"]), now - self._started))
            self._started = None

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> dict[str, Any]:
        """Collections per generation and the longest pauses (ms)."""
        out: dict[str, Any] = {}
        for gen in (0, 1, 2):
            took = [p for _, g, p in self.pauses if g == gen]
            out[f"gen{gen}"] = {
                "n": len(took),
                "max_ms": round(max(took) * 1000, 1) if took else None,
            }
        return out


def timeline(
    began: float,
    ttfa: Sequence[tuple[float, float]],
    rss: Sequence[tuple[float, int]],
    gc_pauses: Sequence[tuple[float, int, float]],
) -> list[dict[str, Any]]:
    """Per minute from ``began``: plain turns' TTFA p50/p95, RSS at the minute's end (MB)
    and full collections with their longest pause."""
    ends = [t for t, _ in ttfa] + [t for t, _ in rss] + [t for t, _, _ in gc_pauses]
    if not ends:
        return []
    rows = []
    for k in range(int((max(ends) - began) // 60) + 1):
        lo, hi = began + k * 60, began + (k + 1) * 60
        window = [v for t, v in ttfa if lo <= t < hi]
        mem = [v for t, v in rss if lo <= t < hi]
        full = [p for t, g, p in gc_pauses if g == 2 and lo <= t < hi]
        rows.append(
            {
                "minute": k + 1,
                "turns": len(window),
                "ttfa_p50": round(float(np.percentile(window, 50)), 3) if window else None,
                "ttfa_p95": round(float(np.percentile(window, 95)), 3) if window else None,
                "rss_mb": round(mem[-1] / 2**20, 1) if mem else None,
                "gc_full": len(full),
                "gc_full_max_ms": round(max(full) * 1000, 1) if full else None,
            }
        )
    return rows
