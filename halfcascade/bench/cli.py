"""The ``halfcascade bench`` run: progress bar, table, raw results."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import cast

from ..errors import ConfigError
from .pipelines import PIPELINES, PipelineName
from .profiles import load_profile
from .report import summary_rows
from .runner import BenchResult, TurnResult, run_bench

__all__ = ["run_and_report"]


def run_and_report(
    profile_name: str, pipelines: Sequence[str], *, turns: int, seed: int
) -> BenchResult:
    """Run the benchmark with a progress bar and print the summary table."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    unknown = [p for p in pipelines if p not in PIPELINES]
    if unknown or not pipelines:
        raise ConfigError(f"unknown pipeline(s) {unknown}; choose from {list(PIPELINES)}")
    names = cast(list[PipelineName], list(pipelines))
    profile = load_profile(profile_name)
    console = Console(width=max(150, Console().width))
    console.print(f"[bold]profile[/] {profile.name}: {profile.description}")
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("turns", total=turns * len(names))

        def advance(_: TurnResult) -> None:
            progress.advance(task)

        result = asyncio.run(
            run_bench(profile, pipelines=names, turns=turns, seed=seed, on_turn=advance)
        )
    table = Table(title="time to first audio (user's end of speech -> first agent audio frame)")
    columns = ("pipeline", "turns", "p50 ms", "p95 ms", "max ms", "floor p50 ms", "p50 / floor")
    for col in (*columns, "first-clause floor p50 ms", "p50 / first-clause floor"):
        table.add_column(col, justify="left" if col == "pipeline" else "right", no_wrap=True)
    for row in summary_rows(result, names):
        table.add_row(
            str(row["pipeline"]),
            f"{row['turns']}",
            f"{row['p50_ms']:.0f}",
            f"{row['p95_ms']:.0f}",
            f"{row['max_ms']:.0f}",
            f"{row['floor_p50_ms']:.0f}",
            f"{row['x_floor']:.2f}",
            f"{row['phrase_floor_p50_ms']:.0f}",
            f"{row['x_phrase_floor']:.2f}",
        )
    console.print(table)
    return result
