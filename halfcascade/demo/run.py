"""``run_demo``: both visits, then the MP4 and the latency report.

::

    result = await run_demo(DemoConfig(out_dir=Path("halfcascade-demo")))
    result.video        # halfcascade-demo/biscuit.mp4: the avatar and the conversation
    result.report_png   # halfcascade-demo/latency.png: each turn's stages against its floor
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import ConfigError
from ..persona import load_persona
from ..speech.cache import PhraseCache
from ..testing.stack import trim_silence
from ..testing.voices import default_voice
from .providers import Providers, live_providers, offline_providers
from .recording import AvRecorder, Interval
from .report import write_html, write_png
from .script import SESSIONS, Visit
from .visit import DemoEvent, DemoTurn, VisitSetup, run_visit

__all__ = ["DemoConfig", "DemoResult", "default_persona_path", "run_demo", "total_steps"]

_FPS, _SIZE, _RATE = 25, 512, 24000


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoConfig:
    """What ``halfcascade demo`` runs and where it writes.

    Attributes:
        out_dir: folder for ``biscuit.mp4``, ``latency.png``, ``latency.html``, ``memories.db``.
        live: use the real providers (``OPENAI_API_KEY`` or ``GOOGLE_API_KEY``, and
            ``ELEVEN_API_KEY``).
        brain: ``"openai"`` (OpenAI Realtime) or ``"google"`` (Gemini Live, text out).
        persona: the persona file; ``None``: Biscuit, shipped with halfcascade.
        profile: offline only: the benchmark profile whose provider delays are injected.
        seed: offline only: seed of the per-turn delay draws.
        video: write the MP4 (PyAV).
        visits: the script (both visits by default).
    """

    out_dir: Path
    live: bool = False
    brain: str = "openai"
    persona: Path | None = None
    profile: str = "fixed"
    seed: int = 7
    video: bool = True
    visits: tuple[Visit, ...] = SESSIONS


@dataclass(slots=True, kw_only=True)
class DemoResult:
    """What the demo did and wrote."""

    mode: str
    turns: list[DemoTurn]
    video: Path | None = None
    video_duration: float = 0.0
    report_png: Path | None = None
    report_html: Path | None = None
    agent_speech: list[Interval] = field(default_factory=list)
    """Where the agent speaks in the MP4 (seconds)."""
    user_speech: list[Interval] = field(default_factory=list)
    """Where the user speaks in the MP4 (seconds)."""


def total_steps(config: DemoConfig) -> int:
    """How many ``step`` events a run emits (for a progress bar)."""
    return 2 + sum(1 + len(v.lines) for v in config.visits)


def default_persona_path() -> Path:
    """Biscuit's persona file: shipped in the wheel, or in this source checkout."""
    packaged = resources.files("halfcascade").joinpath("examples/personas/biscuit.toml")
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "examples" / "personas" / "biscuit.toml"
    if checkout.is_file():
        return checkout
    raise ConfigError("Biscuit's persona file is not installed: pass --persona PATH to a TOML file")


async def run_demo(
    config: DemoConfig, *, on_event: Callable[[DemoEvent], None] | None = None
) -> DemoResult:
    """Hold both visits, then write the MP4 and the latency report into ``config.out_dir``."""
    emit = on_event or (lambda _: None)
    persona = load_persona(config.persona or default_persona_path())
    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    db = out / "memories.db"
    for stale in out.glob("memories.db*"):  # every run starts with a user Biscuit never met
        stale.unlink()
    voice = default_voice()
    n_turns = sum(len(v.lines) for v in config.visits)
    turns: list[DemoTurn] = []
    async with _providers(config, n_turns) as providers:
        emit(DemoEvent("step", providers.label))
        recorder = _recorder(out / "biscuit.mp4") if config.video else None
        try:
            with tempfile.TemporaryDirectory(prefix="halfcascade-demo-") as tmp:
                setup = VisitSetup(
                    providers=providers,
                    persona=persona,
                    cache=PhraseCache(Path(tmp) / "phrases"),
                    memory_db=db,
                    recorder=recorder,
                    emit=emit,
                    speech=lambda line: trim_silence(voice(line, _RATE)),
                )
                for number, visit in enumerate(config.visits, start=1):
                    turns += await run_visit(number, visit, setup, first_turn=len(turns))
        except BaseException:
            if recorder is not None:
                recorder.close()
            raise
    result = DemoResult(mode=providers.label, turns=turns)
    if recorder is not None:
        result.video_duration = recorder.close()
        result.video = recorder.path
        result.agent_speech, result.user_speech = recorder.agent_speech, recorder.user_speech
    result.report_png = write_png(turns, out / "latency.png", title=providers.label)
    result.report_html = write_html(turns, out / "latency.html", png=result.report_png)
    emit(DemoEvent("step", "report written"))
    return result


def _recorder(path: Path) -> AvRecorder:
    try:
        return AvRecorder(path, width=_SIZE, height=_SIZE, fps=_FPS, sample_rate=_RATE)
    except ImportError as exc:
        raise ConfigError(
            "the demo video needs PyAV: pip install av (or run with --no-video)"
        ) from exc


@contextlib.asynccontextmanager
async def _providers(config: DemoConfig, n_turns: int) -> AsyncIterator[Providers]:
    from livekit.agents import utils

    async with utils.http_context.open():
        if config.live:
            async with live_providers(config.brain) as providers:
                yield providers
        else:
            async with offline_providers(
                config.profile, seed=config.seed, turns=n_turns, brain=config.brain
            ) as p:
                yield p
