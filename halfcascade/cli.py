"""The halfcascade command: the demo, the benchmarks and the phrase cache.

Exit codes: 0 success, 1 the run failed, 2 bad options or configuration (the message
says what to fix).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from .bench.profiles import PROFILES
from .errors import ConfigError

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "app", "main"]

EXIT_FAILED = 1
"""The run itself failed (e.g. some phrases could not be synthesised)."""
EXIT_CONFIG = 2
"""Bad options or configuration: nothing ran (click uses 2 for usage errors too)."""

_T = TypeVar("_T")
_RAW_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help=(
        "halfcascade: half-cascade voice agents on LiveKit.\n\n"
        "Exit codes: 0 success, 1 the run failed, 2 bad options or configuration."
    ),
)

_PROFILES_EPILOG = (
    "\b\nProfiles (provider delays injected into the local stand-ins):\n"
    + "\n".join(f"  {name}: {p.description}" for name, p in PROFILES.items())
)
ProfileOpt = Annotated[
    str,
    typer.Option(
        "--profile",
        help=f"Provider latency profile: {', '.join(PROFILES)} (listed below), or a TOML file.",
        metavar="NAME|FILE",
    ),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the per-turn delay draws.")]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON on stdout (tables go to stderr).")
]


def _configured(run: Callable[[], _T]) -> _T:
    """Run ``run``; a configuration error exits with code 2 and its message, no traceback."""
    try:
        return run()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None


@contextlib.contextmanager
def _human_output_to_stderr(enabled: bool) -> Iterator[None]:
    """With ``--json``, keep stdout for the JSON: tables and progress go to stderr."""
    if not enabled:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


# -- demo ---------------------------------------------------------------------------------


@app.command(
    short_help="Biscuit the puppy, offline in one command: video and latency report.",
    epilog=_PROFILES_EPILOG,
)
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the video, the report and the memory file.")
    ] = Path("halfcascade-demo"),
    live: Annotated[
        bool,
        typer.Option(
            "--live", help="Use OpenAI Realtime and ElevenLabs (OPENAI_API_KEY, ELEVEN_API_KEY)."
        ),
    ] = False,
    persona: Annotated[
        Path | None,
        typer.Option("--persona", help="Persona TOML file (default: Biscuit, shipped)."),
    ] = None,
    brain: Annotated[
        str,
        typer.Option(
            "--brain", help="openai (OpenAI Realtime) or google (Gemini Live; GOOGLE_API_KEY)."
        ),
    ] = "openai",
    profile: ProfileOpt = "fixed",
    seed: SeedOpt = 7,
    video: Annotated[bool, typer.Option(help="Write the MP4 (needs PyAV).")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Biscuit the puppy meets you twice: persona, memory, phrase cache, avatar, latency.

    Offline on local stand-ins by default (no keys). Writes biscuit.mp4 (the avatar with
    the conversation's audio), latency.png and latency.html (each turn's stages against
    its floor) into --out, and prints the same table.
    """
    from rich.console import Console

    from .demo import DemoConfig
    from .demo.show import result_json, run_with_progress

    config = DemoConfig(
        out_dir=out,
        live=live,
        brain=brain,
        persona=persona,
        profile=profile,
        seed=seed,
        video=video,
    )
    logging.basicConfig(level=logging.WARNING)
    with _human_output_to_stderr(as_json):
        console = Console(stderr=as_json)
        result = _configured(lambda: run_with_progress(config, console))
    if as_json:
        _print_json(result_json(result))


# -- bench --------------------------------------------------------------------------------

bench_app = typer.Typer(
    short_help="Measure time to first audio against the floor.",
    no_args_is_help=False,
    invoke_without_command=True,
    rich_markup_mode=None,
    epilog=_PROFILES_EPILOG,
    help=(
        "Measure time to first audio: the pipeline comparison by default, or a named "
        "benchmark (memory, concurrency, soak)."
    ),
)
app.add_typer(bench_app, name="bench")


@bench_app.callback()
def bench(
    ctx: typer.Context,
    profile: ProfileOpt = "fixed",
    turns: Annotated[int, typer.Option(min=1, help="Turns per pipeline.")] = 20,
    pipelines: Annotated[
        str,
        typer.Option(
            help="Comma-separated pipelines: cascade, livekit-half-cascade, halfcascade, "
            "halfcascade+cache."
        ),
    ] = "cascade,livekit-half-cascade,halfcascade,halfcascade+cache",
    out: Annotated[Path, typer.Option(help="Folder for the JSON results and the chart.")] = Path(
        "bench-results"
    ),
    seed: SeedOpt = 7,
    opener_rate: Annotated[
        float, typer.Option(help="Share of scripted replies that open with an opener (0-1).")
    ] = 0.7,
    remote_avatar_delay: Annotated[
        float | None,
        typer.Option(help="Remote avatar first-frame delay in seconds (Tavus: about 0.6)."),
    ] = None,
    mouth: Annotated[bool, typer.Option(help="Time a local avatar's first mouth movement.")] = True,
    brain: Annotated[
        str,
        typer.Option(
            "--brain", help="Realtime model stand-in for the half-cascades: openai or google."
        ),
    ] = "openai",
    as_json: JsonOpt = False,
) -> None:
    """Run the scripted conversation through each pipeline, interleaved turn by turn, on
    the local stand-ins with the profile's delays, and compare with the floor."""
    if ctx.invoked_subcommand is not None:
        return
    from .bench.chart import write_chart
    from .bench.cli import run_and_report

    logging.basicConfig(level=logging.ERROR)
    names = [p.strip() for p in pipelines.split(",") if p.strip()]
    with _human_output_to_stderr(as_json):
        result = _configured(
            lambda: run_and_report(
                profile,
                names,
                turns=turns,
                seed=seed,
                opener_rate=opener_rate,
                remote_avatar_delay=remote_avatar_delay,
                mouth=mouth,
                brain=brain,
            )
        )
        out.mkdir(parents=True, exist_ok=True)
        suffix = "" if brain == "openai" else f"-{brain}"
        path = out / f"bench-{result.profile.name}{suffix}.json"
        data = result.to_json()
        path.write_text(json.dumps(data, indent=2))
        chart = write_chart(result, names, out / f"bench-{result.profile.name}{suffix}.png")
        typer.echo(f"raw results: {path}\nchart: {chart}")
    if as_json:
        _print_json(data)


@bench_app.command(
    "memory",
    context_settings=_RAW_ARGS,
    add_help_option=False,
    short_help="Memory recall latency per store and corpus size.",
)
def bench_memory(ctx: typer.Context) -> None:
    """Memory recall latency per store and corpus size (see: bench memory --help)."""
    from .bench.memory import main as memory_main

    memory_main(list(ctx.args))


@bench_app.command("concurrency", short_help="Sessions per core.")
def bench_concurrency(
    sessions: Annotated[str, typer.Option(help="Comma-separated session counts.")] = "1,10,25",
    turns: Annotated[int, typer.Option(min=3, help="Turns per session.")] = 20,
    cpu: Annotated[int | None, typer.Option(help="CPU to pin the worker to.")] = 0,
    standins_cpu: Annotated[int | None, typer.Option(help="CPU for the stand-ins.")] = 1,
    out: Annotated[Path, typer.Option(help="Folder for the JSON results.")] = Path("bench-results"),
    gc_freeze: Annotated[
        bool, typer.Option(help="Call gc.freeze() after warm-up, as a production worker should.")
    ] = True,
) -> None:
    """Sessions per core: N simultaneous sessions in one worker against one session."""
    from .bench.concurrency_cli import run_concurrency

    try:
        levels = [int(n) for n in sessions.split(",") if n.strip()]
    except ValueError:
        typer.echo(f"error: --sessions takes whole numbers, got {sessions!r}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    _configured(
        lambda: run_concurrency(
            levels, turns=turns, cpu=cpu, standins_cpu=standins_cpu, out=out, gc_freeze=gc_freeze
        )
    )


@bench_app.command(
    "soak",
    context_settings=_RAW_ARGS,
    add_help_option=False,
    short_help="Long runs with injected faults: reliability over time.",
)
def bench_soak(ctx: typer.Context) -> None:
    """Hours of sessions with injected faults: reliability over time (see: bench soak --help)."""
    try:
        soak_main = importlib.import_module("halfcascade.bench.soak").main
    except ImportError as exc:
        typer.echo(f"error: the soak benchmark is not available in this install ({exc})", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    code = soak_main(list(ctx.args))
    raise typer.Exit(code if isinstance(code, int) else 0)


# -- cache --------------------------------------------------------------------------------

cache_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="The persona phrase cache."
)
app.add_typer(cache_app, name="cache")


@cache_app.command("warm", short_help="Synthesise a persona's openers ahead of time.")
def cache_warm(
    persona: Annotated[Path, typer.Option(help="Persona TOML file.")],
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Cache directory (default: HALFCASCADE_CACHE_DIR or ~/.cache/halfcascade).",
        ),
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="The voice provider's API URL.")] = None,
    api_key: Annotated[str | None, typer.Option(help="The voice provider's API key.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Synthesise the persona's openers with its voice ahead of time, into the cache.

    Exits with 1 when some phrases failed (they are then spoken live).
    """
    from .speech.cache import PhraseCache, warm_persona

    def warm() -> tuple[Any, Any]:
        cache = PhraseCache(directory)
        report = asyncio.run(warm_persona(persona, cache=cache, api_key=api_key, base_url=base_url))
        return cache, report

    cache, report = _configured(warm)
    if as_json:
        _print_json(
            {
                "voice": report.voice,
                "ready": report.ready,
                "cached": report.cached,
                "loaded": report.loaded,
                "synthesized": report.synthesized,
                "failed": report.failed,
                "directory": str(cache.directory),
            }
        )
    else:
        typer.echo(
            f"{report.voice}: {report.ready} ready ({report.loaded} from disk, "
            f"{report.synthesized} synthesised), {report.failed} failed, in {cache.directory}"
        )
    if report.failed:
        raise typer.Exit(EXIT_FAILED)


# -- init ---------------------------------------------------------------------------------


@app.command(short_help="Write a starter project from one of the bundled examples.")
def init(
    directory: Annotated[Path, typer.Argument(help="Where to write the project.")] = Path("."),
    example: Annotated[
        str, typer.Option("--example", help="Which example becomes agent.py.")
    ] = "companion_worker",
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a starter project (agent.py, personas/, .env.example) from a bundled example.

    Run `halfcascade init --example list` to see the examples.
    """
    from .worker.init import init_project, list_examples

    if example == "list":
        names = list_examples()
        _print_json(names) if as_json else typer.echo("\n".join(names))
        return
    written = _configured(lambda: init_project(directory, example=example, force=force))
    if as_json:
        _print_json([str(p) for p in written])
    else:
        for path in written:
            typer.echo(str(path))


def main() -> None:
    """Entry point of the halfcascade script."""
    app()


if __name__ == "__main__":
    main()
