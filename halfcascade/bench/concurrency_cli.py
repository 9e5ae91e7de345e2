"""The ``halfcascade bench concurrency`` run: progress, table, raw results."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError
from .concurrency import LoadResult, run_levels, summarize

__all__ = ["run_concurrency"]


def _fmt(value: float | None, scale: float = 1.0, spec: str = ".0f") -> str:
    return "-" if value is None else format(value * scale, spec)


def run_concurrency(
    levels: Sequence[int],
    *,
    turns: int,
    cpu: int | None,
    standins_cpu: int | None,
    out: Path,
    gc_freeze: bool = True,
) -> list[LoadResult]:
    """Run the load levels, print the table and write ``bench-concurrency.json``."""
    from rich.console import Console
    from rich.table import Table

    if not levels or any(n < 1 for n in levels):
        raise ConfigError(f"--sessions needs positive counts, got {list(levels)}")
    if levels[0] != 1:
        levels = [1, *levels]  # the drift is measured against one session
    logging.basicConfig(level=logging.ERROR)
    console = Console(width=max(220, Console().width))
    console.print(
        f"[bold]sessions per core[/]: worker on CPU {cpu}, stand-ins on CPU {standins_cpu}, "
        f"{turns} turns per session, gc.freeze() after warm-up: {'yes' if gc_freeze else 'no'}"
    )

    out.mkdir(parents=True, exist_ok=True)
    path = out / "bench-concurrency.json"
    done: list[LoadResult] = []

    def show(result: LoadResult) -> None:
        done.append(result)  # written level by level: a level that breaks keeps the others
        path.write_text(json.dumps([r.to_json() for r in done], indent=2))
        console.print(f"  {result.sessions} sessions done")

    results = run_levels(
        levels, turns=turns, cpu=cpu, standins_cpu=standins_cpu, gc_freeze=gc_freeze, on_level=show
    )
    rows = summarize(results)
    table = Table(title="N simultaneous sessions in one worker process")
    for col in (
        "sessions",
        "TTFA p50 ms",
        "TTFA p95 ms",
        "p50 drift",
        "failed",
        "CPU/session",
        "RSS/session MiB",
        "RSS growth/session MiB: turn 2 | mid -> last",
        "loop lag p95/max ms",
        "full GCs/max ms",
        "stand-ins CPU",
    ):
        table.add_column(col, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            str(row["sessions"]),
            _fmt(row["ttfa_p50"], 1000),
            _fmt(row["ttfa_p95"], 1000),
            _fmt(row["ttfa_p50_drift"], 100, "+.1f") + "%",
            str(row["failed_turns"]),
            _fmt(row["cpu_per_session"], 100, ".1f") + "%",
            _fmt(row["rss_per_session_mib"], 1, ".2f"),
            f"{_fmt(row['rss_growth_per_session_mib'], 1, '+.3f')} | "
            f"{_fmt(row['rss_growth_late_per_session_mib'], 1, '+.3f')}",
            f"{_fmt(row['loop_lag_p95'], 1000)} / {_fmt(row['loop_lag_max'], 1000)}",
            f"{row['gc_full_collections']} / {_fmt(row['gc_full_pause_max'], 1000)}",
            _fmt(row["standins_cpu"], 100, ".0f") + "%",
        )
    console.print(table)
    console.print(f"raw results: {path}")
    return results
