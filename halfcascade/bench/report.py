"""Tables for benchmark results: percentiles per pipeline, ratios to its floor and to the
other pipelines, and the phrase-cache, avatar and seam figures."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .runner import BenchResult, TurnResult

__all__ = ["detail_rows", "percentile", "summary_rows"]

Row = dict[str, float | str | None]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) with linear interpolation; NaN for no values."""
    return float(np.percentile(values, q * 100)) if len(values) else float("nan")


def _ratio(a: float, b: float) -> float:
    return a / b if b and not np.isnan(b) else float("nan")


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
        "x_floor": _ratio(p50, floor_p50),
        "phrase_floor_p50_ms": phrase_p50 * 1000,
        "x_phrase_floor": _ratio(p50, phrase_p50),
    }


def summary_rows(result: BenchResult, pipelines: Sequence[str]) -> list[dict[str, float | str]]:
    """One row per pipeline: TTFA p50/p95/max (ms), its floor's p50 and the p50 ratio, and
    the p50 ratio to the cascade and to livekit's half-cascade when they ran."""
    rows = []
    for name in pipelines:
        turns = result.of(name)
        floor = percentile([t.floor for t in turns], 0.5)
        phrase = percentile([t.phrase_floor for t in turns], 0.5)
        rows.append(_row(name, [t.ttfa for t in turns], floor, phrase))
    p50 = {str(r["pipeline"]): float(r["p50_ms"]) for r in rows}
    for row in rows:
        mine = float(row["p50_ms"])
        row["x_cascade"] = _ratio(mine, p50.get("cascade", float("nan")))
        row["x_livekit"] = _ratio(mine, p50.get("livekit-half-cascade", float("nan")))
    return rows


def _ms(values: Sequence[float], q: float = 0.5) -> float | None:
    return percentile(values, q) * 1000 if values else None


def _detail(name: str, turns: list[TurnResult], remote_delay: float | None) -> Row:
    hits = [t for t in turns if t.cache == "hit"]
    misses = [t for t in turns if t.cache != "hit"]
    mouth = [t.mouth for t in turns if t.mouth is not None]
    lag = [t.mouth - t.ttfa for t in turns if t.mouth is not None]
    gaps = [t.gap for t in turns if t.gap is not None]
    row: Row = {
        "pipeline": name,
        "openers": sum(t.opener is not None for t in turns),
        "hits": len(hits) if any(t.cache is not None for t in turns) else None,
        "turns": len(turns),
        "hit_ttfa_ms": _ms([t.ttfa for t in hits]),
        "hit_after_text_ms": _ms([t.ttfa - t.first_text for t in hits if t.first_text]),
        "hit_after_opener_ms": _ms(
            [t.ttfa - t.opener_floor for t in hits if t.opener_floor is not None]
        ),
        "miss_ttfa_ms": _ms([t.ttfa for t in misses]),
        "miss_x_floor": _ratio(
            percentile([t.ttfa for t in misses], 0.5), percentile([t.floor for t in misses], 0.5)
        ),
        "miss_x_phrase_floor": _ratio(
            percentile([t.ttfa for t in misses], 0.5),
            percentile([t.phrase_floor for t in misses], 0.5),
        ),
        "gap_p50_ms": _ms(gaps),
        "gap_max_ms": max(gaps) * 1000 if gaps else None,
        "mouth_p50_ms": _ms(mouth),
        "mouth_after_audio_p50_ms": _ms(lag),
        "mouth_after_audio_max_ms": max(lag) * 1000 if lag else None,
        "remote_avatar_p50_ms": None,
    }
    if remote_delay is not None:
        row["remote_avatar_p50_ms"] = _ms([t.ttfa + remote_delay for t in turns])
    return row


def detail_rows(result: BenchResult, pipelines: Sequence[str]) -> list[Row]:
    """One row per pipeline: cache hits (and TTFA of hits, of misses vs their floor), the
    silence inside replies, the local avatar's first mouth movement and, with a
    ``remote_avatar_delay`` in the profile, the modelled remote-avatar first frame."""
    delay = result.profile.remote_avatar_delay
    return [_detail(name, result.of(name), delay) for name in pipelines]
