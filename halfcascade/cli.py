"""The ``halfcascade`` command: ``demo`` and ``bench``."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


@app.command()
def demo(
    wav: Annotated[Path, typer.Option(help="where to write the conversation")] = Path(
        "halfcascade-demo.wav"
    ),
    offline: Annotated[bool, typer.Option(help="use the local servers even with API keys")] = False,
) -> None:
    """Talk to a puppy companion: offline on local servers, or live with API keys."""
    from rich.console import Console

    from .demo import DemoTurn, live_keys_present, run_demo

    console = Console()
    live = live_keys_present() and not offline
    console.print(
        "[bold]halfcascade demo[/] - "
        + ("live providers" if live else "offline: local OpenAI Realtime + ElevenLabs servers")
    )

    def show(turn: DemoTurn) -> None:
        console.print(f"  user (as heard): [cyan]{turn.heard}[/]")
        console.print(f"  Biscuit:         [green]{turn.reply}[/]")
        console.print(f"  time to first audio: [bold]{turn.ttfa * 1000:.0f} ms[/]\n")

    logging.basicConfig(level=logging.ERROR)
    turns = asyncio.run(run_demo(wav_path=wav, live=live, on_turn=show))
    console.print(f"{len(turns)} turns, conversation written to {wav}")
    if not live:
        console.print(
            "[dim]offline, the reply waits for whisper tiny.en on this CPU to hear the user; "
            "`halfcascade bench` measures the pipeline itself[/]"
        )


bench_app = typer.Typer(
    no_args_is_help=False,
    invoke_without_command=True,
    help="Measure: the pipeline comparison by default, or a named benchmark.",
)
app.add_typer(bench_app, name="bench")


@bench_app.callback()
def bench(
    ctx: typer.Context,
    profile: Annotated[str, typer.Option(help="profile name or TOML file")] = "fixed",
    turns: Annotated[int, typer.Option(min=1, help="turns per pipeline")] = 20,
    pipelines: Annotated[str, typer.Option(help="comma-separated pipelines")] = (
        "cascade,livekit-half-cascade,halfcascade"
    ),
    out: Annotated[Path, typer.Option(help="folder for the JSON results")] = Path("bench-results"),
    seed: Annotated[int, typer.Option(help="seed of the per-turn delay draws")] = 7,
) -> None:
    """Run the scripted conversation through each pipeline, interleaved, and compare."""
    if ctx.invoked_subcommand is not None:
        return
    from .bench.chart import write_chart
    from .bench.cli import run_and_report

    logging.basicConfig(level=logging.ERROR)
    names = [p.strip() for p in pipelines.split(",") if p.strip()]
    result = run_and_report(profile, names, turns=turns, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{result.profile.name}.json"
    path.write_text(json.dumps(result.to_json(), indent=2))
    chart = write_chart(result, names, out / f"bench-{result.profile.name}.png")
    typer.echo(f"raw results: {path}\nchart: {chart}")


@bench_app.command(
    "memory",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def bench_memory(ctx: typer.Context) -> None:
    """Memory recall latency per store and size (options: --help)."""
    from .bench.memory import main as memory_main

    memory_main(list(ctx.args))


def main() -> None:
    """Entry point of the ``halfcascade`` script."""
    app()
