"""Run the scripted conversation through several pipelines, interleaved turn by turn.

Every pipeline's output is tapped (:mod:`halfcascade.bench.tap`): mid-reply gaps for all,
and, for the half-cascade pipelines, a local avatar whose first mouth movement is timed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..latency import TurnTimeline
from ..session import Session
from ..speech.phrases import PhraseChunker
from ..testing.openai_realtime import split_tokens
from ..testing.stack import trim_silence
from ..testing.voices import default_voice
from .pipelines import BrainName, Pipeline, PipelineName, open_pipeline
from .profiles import Draw, LatencyProfile
from .script import ScriptedTurn, script
from .tap import OutputTap, install_tap

__all__ = ["BenchResult", "TurnResult", "run_bench"]

_TURN_TIMEOUT = 20.0
_GAP = 0.4  # silence between turns, so every pipeline starts a turn idle


@dataclass(frozen=True, slots=True)
class TurnResult:
    """One turn of one pipeline (seconds)."""

    pipeline: str
    turn: int
    ttfa: float
    """User's end of speech to the first agent audio frame at the output."""
    floor: float
    """The injected provider delays for this turn, summed (first text + TTS first byte)."""
    phrase_floor: float
    """``floor`` plus the token intervals the first clause of the reply waits for: no
    pipeline that speaks whole clauses can start sooner."""
    first_text: float | None
    """End of speech to the realtime model's first text (server side)."""
    tts_wait: float | None
    """First text from the model to the TTS's first audio, as the TTS server saw it."""
    first_tts_text: str
    """The first text the TTS received."""
    opener: str | None = None
    """The scripted opener the reply starts with (``None``: the reply has none)."""
    opener_floor: float | None = None
    """For a reply with an opener: the first-text delay plus the token intervals until the
    opener is written (no cache can play it sooner)."""
    cache: str | None = None
    """``"hit"``/``"miss"`` for a pipeline with a phrase cache, as its timeline reports."""
    mouth: float | None = None
    """User's end of speech to the local avatar's first mouth movement for the reply
    (half-cascade pipelines)."""
    gap: float | None = None
    """Seconds of silence inside the reply: audio that arrived after the output ran dry."""


@dataclass(frozen=True, slots=True)
class BenchResult:
    """All turns of a run and the profile they ran under."""

    profile: LatencyProfile
    turns: list[TurnResult]
    opener_rate: float = 0.7
    """The share of scripted replies that open with an opener."""

    def of(self, pipeline: str) -> list[TurnResult]:
        """The turns of one pipeline."""
        return [t for t in self.turns if t.pipeline == pipeline]

    def to_json(self) -> dict[str, object]:
        """Raw per-turn results, JSON-ready."""
        return {
            "profile": asdict(self.profile),
            "opener_rate": self.opener_rate,
            "turns": [asdict(t) for t in self.turns],
        }


async def run_bench(
    profile: LatencyProfile,
    *,
    pipelines: Sequence[PipelineName],
    turns: int = 20,
    seed: int = 7,
    opener_rate: float = 0.7,
    mouth: bool = True,
    brain: BrainName = "openai",
    on_turn: Callable[[TurnResult], None] | None = None,
) -> BenchResult:
    """Play ``turns`` scripted turns through every pipeline, interleaved, under ``profile``.

    ``opener_rate`` of the replies open with one of the companion's openers; ``mouth``
    times a local avatar on the half-cascade pipelines; ``brain`` is the realtime model's
    stand-in ("openai" or "google").
    """
    lines = script(turns, opener_rate=opener_rate, seed=seed)
    voice = default_voice()
    audio = [trim_silence(voice(t.line, 24000)) for t in lines]
    replies = {t.line: t.reply for t in lines}
    draws = profile.draws(turns, seed=seed)
    results: list[TurnResult] = []
    async with contextlib.AsyncExitStack() as stack:
        pipes: list[tuple[Pipeline, OutputTap]] = []
        for name in pipelines:
            pipe = await stack.enter_async_context(
                open_pipeline(name, replies=replies, vad_decision=profile.vad_decision, brain=brain)
            )
            assert pipe.stack.session is not None
            tap = await install_tap(pipe.stack.session.output, avatar=mouth and pipe.half_cascade)
            stack.push_async_callback(tap.aclose)
            pipes.append((pipe, tap))
        for i, turn in enumerate(lines):
            order = pipes[i % len(pipes) :] + pipes[: i % len(pipes)]  # rotate: no order bias
            for pipe, tap in order:
                res = await _one_turn(pipe, tap, i, turn, audio[i], draws[i], profile)
                results.append(res)
                if on_turn is not None:
                    on_turn(res)
    return BenchResult(profile, results, opener_rate)


def first_phrase_tokens(reply: str) -> int:
    """How many streamed tokens of ``reply`` the first spoken clause needs."""
    chunker = PhraseChunker()
    tokens = split_tokens(reply)
    for n, token in enumerate(tokens, start=1):
        if chunker.push(token):
            return n
    return len(tokens)


def _timelines(pipe: Pipeline) -> list[TurnTimeline]:
    session = pipe.stack.session
    return session.latency.timelines if isinstance(session, Session) else []


async def _one_turn(
    pipe: Pipeline,
    tap: OutputTap,
    i: int,
    scripted: ScriptedTurn,
    pcm: np.ndarray,
    draw: Draw,
    profile: LatencyProfile,
) -> TurnResult:
    pipe.set_delays(draw, token_interval=profile.token_interval)
    stack = pipe.stack
    seg_index = len(stack.speaker.segments)
    ctx_index = len(stack.tts.contexts)
    turn_index = len(stack.realtime.turns)
    timeline_index = len(_timelines(pipe))
    ended_at = await stack.say(pcm, transcript=scripted.line)
    seg = await stack.next_reply(index=seg_index, within=_TURN_TIMEOUT)
    await asyncio.sleep(_GAP)
    timelines = _timelines(pipe)
    timeline = timelines[timeline_index] if len(timelines) > timeline_index else None
    out = tap.segment_near(seg.first_frame_at)
    turn = stack.realtime.turns[turn_index] if len(stack.realtime.turns) > turn_index else None
    ctx = stack.tts.contexts[ctx_index] if len(stack.tts.contexts) > ctx_index else None
    first_delta = turn.first_delta_at if turn else None
    if pipe.llm is not None and pipe.llm.first_tokens:  # the cascade's first token
        first_delta = pipe.llm.first_tokens[-1]
    first_text = first_delta - ended_at if first_delta else None
    tts_wait = (
        ctx.first_audio_sent_at - first_delta
        if ctx and ctx.first_audio_sent_at and first_delta
        else None
    )
    cache = timeline.phrase_cache if timeline is not None else None
    if cache == "hit":
        tts_wait = 0.0  # the opener needed no TTS request
    interval = profile.token_interval
    opener_floor = None
    if scripted.opener is not None:
        opener_floor = draw.first_text + interval * (len(split_tokens(scripted.opener)) - 1)
    phrase_tokens = first_phrase_tokens(scripted.reply)
    return TurnResult(
        pipeline=pipe.name,
        turn=i,
        ttfa=seg.first_frame_at - ended_at,
        floor=pipe.floor(draw),
        phrase_floor=pipe.floor(draw) + interval * (phrase_tokens - 1),
        first_text=first_text,
        tts_wait=tts_wait,
        first_tts_text=ctx.chunks[0] if ctx and ctx.chunks else "",
        opener=scripted.opener,
        opener_floor=opener_floor,
        cache=cache,
        mouth=out.mouth_at - ended_at if out is not None and out.mouth_at is not None else None,
        gap=out.gap if out is not None else None,
    )
