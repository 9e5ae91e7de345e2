"""The ``halfcascade`` command: ``demo``, ``bench`` and ``cache``."""

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
        "cascade,livekit-half-cascade,halfcascade,halfcascade+cache"
    ),
    out: Annotated[Path, typer.Option(help="folder for the JSON results")] = Path("bench-results"),
    seed: Annotated[int, typer.Option(help="seed of the per-turn delay draws")] = 7,
    opener_rate: Annotated[
        float, typer.Option(help="share of scripted replies that open with an opener")
    ] = 0.7,
    remote_avatar_delay: Annotated[
        float | None,
        typer.Option(help="remote avatar first-frame delay in seconds (Tavus ~0.6)"),
    ] = None,
    mouth: Annotated[bool, typer.Option(help="time a local avatar's first mouth movement")] = True,
) -> None:
    """Run the scripted conversation through each pipeline, interleaved, and compare."""
    if ctx.invoked_subcommand is not None:
        return
    from .bench.chart import write_chart
    from .bench.cli import run_and_report

    logging.basicConfig(level=logging.ERROR)
    names = [p.strip() for p in pipelines.split(",") if p.strip()]
    result = run_and_report(
        profile,
        names,
        turns=turns,
        seed=seed,
        opener_rate=opener_rate,
        remote_avatar_delay=remote_avatar_delay,
        mouth=mouth,
    )
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


@bench_app.command("concurrency")
def bench_concurrency(
    sessions: Annotated[str, typer.Option(help="comma-separated session counts")] = "1,10,25",
    turns: Annotated[int, typer.Option(min=3, help="turns per session")] = 20,
    cpu: Annotated[int | None, typer.Option(help="CPU to pin the worker to")] = 0,
    standins_cpu: Annotated[int | None, typer.Option(help="CPU for the stand-ins")] = 1,
    out: Annotated[Path, typer.Option(help="folder for the JSON results")] = Path("bench-results"),
    gc_freeze: Annotated[
        bool, typer.Option(help="gc.freeze() after warm-up, as a production worker should")
    ] = True,
) -> None:
    """Sessions per core: N simultaneous sessions in one worker vs one session."""
    from .bench.concurrency_cli import run_concurrency

    levels = [int(n) for n in sessions.split(",") if n.strip()]
    run_concurrency(
        levels,
        turns=turns,
        cpu=cpu,
        standins_cpu=standins_cpu,
        out=out,
        gc_freeze=gc_freeze,
    )


cache_app = typer.Typer(no_args_is_help=True, help="The persona phrase cache.")
app.add_typer(cache_app, name="cache")


@cache_app.command("warm")
def cache_warm(
    persona: Annotated[Path, typer.Option(help="persona TOML file")],
    directory: Annotated[
        Path | None, typer.Option("--dir", help="cache directory (default: ~/.cache/...)")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="the voice provider's API URL")] = None,
    api_key: Annotated[str | None, typer.Option(help="the voice provider's API key")] = None,
) -> None:
    """Synthesise the persona's openers with its voice, ahead of time, into the cache."""
    from .speech.cache import PhraseCache, warm_persona

    cache = PhraseCache(directory)
    report = asyncio.run(warm_persona(persona, cache=cache, api_key=api_key, base_url=base_url))
    typer.echo(
        f"{report.voice}: {report.ready} ready ({report.loaded} from disk, "
        f"{report.synthesized} synthesised), {report.failed} failed, in {cache.directory}"
    )
    if report.failed:
        raise typer.Exit(1)


def main() -> None:
    """Entry point of the ``halfcascade`` script."""
    app()
