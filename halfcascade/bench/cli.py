"""The ``halfcascade bench`` run: progress bar, tables, raw results."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import cast

from ..errors import ConfigError
from .pipelines import BRAINS, PIPELINES, PipelineName
from .profiles import load_profile
from .report import Row, detail_rows, summary_rows
from .runner import BenchResult, TurnResult, run_bench

__all__ = ["run_and_report"]


def run_and_report(
    profile_name: str,
    pipelines: Sequence[str],
    *,
    turns: int,
    seed: int,
    opener_rate: float = 0.7,
    remote_avatar_delay: float | None = None,
    mouth: bool = True,
    brain: str = "openai",
) -> BenchResult:
    """Run the benchmark with a progress bar and print the summary tables."""
    from rich.console import Console
    from rich.progress import Progress

    unknown = [p for p in pipelines if p not in PIPELINES]
    if unknown or not pipelines:
        raise ConfigError(f"unknown pipeline(s) {unknown}; choose from {list(PIPELINES)}")
    if brain not in BRAINS:
        raise ConfigError(f"unknown brain {brain!r}; choose from {list(BRAINS)}")
    if not 0.0 <= opener_rate <= 1.0:
        raise ConfigError(f"--opener-rate must be between 0 and 1, got {opener_rate}")
    names = cast(list[PipelineName], list(pipelines))
    profile = load_profile(profile_name)
    if remote_avatar_delay is not None:
        profile = dataclasses.replace(profile, remote_avatar_delay=remote_avatar_delay)
    console = Console(width=max(190, Console().width))
    console.print(f"[bold]profile[/] {profile.name}: {profile.description}; brain: {brain}")
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("turns", total=turns * len(names))

        def advance(_: TurnResult) -> None:
            progress.advance(task)

        result = asyncio.run(
            run_bench(
                profile,
                pipelines=names,
                turns=turns,
                seed=seed,
                opener_rate=opener_rate,
                mouth=mouth,
                brain=brain,
                on_turn=advance,
            )
        )
    console.print(_summary_table(result, names))
    console.print(_detail_table(result, names))
    return result


def _f(value: object, fmt: str = ".0f") -> str:
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return "-"
    return format(value, fmt)


def _summary_table(result: BenchResult, names: Sequence[str]) -> object:
    from rich.table import Table

    table = Table(
        title="time to first audio, ms (user's end of speech -> first agent audio frame); "
        "x: p50 ratio"
    )
    columns = ("pipeline", "turns", "p50", "p95", "max", "floor p50", "x floor")
    extra = ("1st-clause floor p50", "x 1st-clause floor", "x cascade", "x livekit")
    for col in (*columns, *extra):
        table.add_column(col, justify="left" if col == "pipeline" else "right", no_wrap=True)
    for row in summary_rows(result, names):
        table.add_row(
            str(row["pipeline"]),
            f"{row['turns']}",
            _f(row["p50_ms"]),
            _f(row["p95_ms"]),
            _f(row["max_ms"]),
            _f(row["floor_p50_ms"]),
            _f(row["x_floor"], ".2f"),
            _f(row["phrase_floor_p50_ms"]),
            _f(row["x_phrase_floor"], ".2f"),
            _f(row["x_cascade"], ".2f"),
            _f(row["x_livekit"], ".2f"),
        )
    return table


def _hits(row: Row) -> str:
    if row["hits"] is None:
        return "-"
    return f"{row['hits']}/{row['turns']} ({row['openers']} open)"


def _detail_table(result: BenchResult, names: Sequence[str]) -> object:
    from rich.table import Table

    delay = result.profile.remote_avatar_delay
    title = (
        f"phrase cache, silence inside replies, avatar: ms, p50 unless noted; "
        f"{result.opener_rate:.0%} of replies open with an opener"
        + (f"; remote avatar = TTFA + {delay * 1000:.0f} ms (modelled)" if delay else "")
    )
    table = Table(title=title)
    columns = (
        "pipeline",
        "cache hits",
        "hit TTFA",
        "hit-text",
        "hit-opener",
        "miss TTFA",
        "miss x floor",
        "miss x clause",
        "gap p50/max",
        "mouth",
        "mouth-TTFA p50/max",
        "remote avatar",
    )
    for col in columns:
        table.add_column(col, justify="left" if col == "pipeline" else "right", no_wrap=True)
    for row in detail_rows(result, names):
        table.add_row(
            str(row["pipeline"]),
            _hits(row),
            _f(row["hit_ttfa_ms"]),
            _f(row["hit_after_text_ms"]),
            _f(row["hit_after_opener_ms"]),
            _f(row["miss_ttfa_ms"]),
            _f(row["miss_x_floor"], ".2f"),
            _f(row["miss_x_phrase_floor"], ".2f"),
            f"{_f(row['gap_p50_ms'])}/{_f(row['gap_max_ms'])}",
            _f(row["mouth_p50_ms"]),
            f"{_f(row['mouth_after_audio_p50_ms'])}/{_f(row['mouth_after_audio_max_ms'])}",
            _f(row["remote_avatar_p50_ms"]),
        )
    return table
