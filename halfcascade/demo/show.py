"""The demo in the terminal: a progress bar while it runs, the conversation as it happens,
then the latency table and where the files are."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .report import stage_row, table_rows
from .run import DemoConfig, DemoResult, run_demo, total_steps
from .visit import DemoEvent

__all__ = ["result_json", "run_with_progress"]

_STYLE = {"user": "cyan", "agent": "green", "memory": "magenta", "cache": "yellow"}
_SHORT = ("#", "user said", "model", "to TTS", "TTS", "to avatar", "TTFA", "floor", "x", "cache")
_LABEL = {"user": "user   ", "agent": "Biscuit", "memory": "memory ", "cache": "cache  "}


def run_with_progress(config: DemoConfig, console: Console) -> DemoResult:
    """Run the demo with a live progress display on ``console``; print the table after."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=total_steps(config))

        def show(event: DemoEvent) -> None:
            if event.kind == "step":
                progress.update(task, advance=1, description=event.text)
                if event.text.startswith("visit"):
                    console.rule(event.text.split(":")[0])
                return
            style = _STYLE[event.kind]
            console.print(f"  [{style}]{_LABEL[event.kind]}[/] {event.text}", highlight=False)

        result = asyncio.run(run_demo(config, on_event=show))
    console.print(latency_table(result))
    if result.video is not None:
        console.print(f"video:  {result.video} ({result.video_duration:.1f} s, 25 fps)")
    console.print(f"report: {result.report_png}  {result.report_html}")
    return result


def latency_table(result: DemoResult) -> Table:
    """The per-turn stage table (milliseconds after the user's end of speech)."""
    rows = table_rows(result.turns)
    table = Table(
        title=f"time to first audio by stage, ms ({result.mode})",
        title_justify="left",
        caption="model: first text; TTS: first audio (0 when the opener was cached); "
        "floor: the injected provider delays",
        caption_justify="left",
    )
    for i, name in enumerate(_SHORT):
        if i == 1:
            table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=26)
        else:
            table.add_column(name, justify="right", no_wrap=True)
    for row in rows[1:]:
        table.add_row(*row)
    return table


def result_json(result: DemoResult) -> dict[str, Any]:
    """The run as JSON-ready data (``halfcascade demo --json``)."""
    return {
        "mode": result.mode,
        "video": str(result.video) if result.video else None,
        "video_duration_s": round(result.video_duration, 3),
        "report_png": str(result.report_png) if result.report_png else None,
        "report_html": str(result.report_html) if result.report_html else None,
        "turns": [stage_row(t) for t in result.turns],
    }


def dumps(result: DemoResult) -> str:
    """``result_json`` as indented text."""
    return json.dumps(result_json(result), indent=2)
