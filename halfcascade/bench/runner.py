"""Run the scripted conversation through several pipelines, interleaved turn by turn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..speech.phrases import PhraseChunker
from ..testing.openai_realtime import split_tokens
from ..testing.stack import trim_silence
from ..testing.voices import default_voice
from .pipelines import Pipeline, PipelineName, open_pipeline
from .profiles import Draw, LatencyProfile
from .script import TURNS

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


@dataclass(frozen=True, slots=True)
class BenchResult:
    """All turns of a run and the profile they ran under."""

    profile: LatencyProfile
    turns: list[TurnResult]

    def of(self, pipeline: str) -> list[TurnResult]:
        """The turns of one pipeline."""
        return [t for t in self.turns if t.pipeline == pipeline]

    def to_json(self) -> dict[str, object]:
        """Raw per-turn results, JSON-ready."""
        return {"profile": asdict(self.profile), "turns": [asdict(t) for t in self.turns]}


async def run_bench(
    profile: LatencyProfile,
    *,
    pipelines: Sequence[PipelineName],
    turns: int = 20,
    seed: int = 7,
    on_turn: Callable[[TurnResult], None] | None = None,
) -> BenchResult:
    """Play ``turns`` scripted turns through every pipeline, interleaved, under ``profile``."""
    script = [TURNS[i % len(TURNS)] for i in range(turns)]
    voice = default_voice()
    audio = [trim_silence(voice(line, 24000)) for line, _ in script]
    replies = dict(TURNS)
    draws = profile.draws(turns, seed=seed)
    results: list[TurnResult] = []
    async with contextlib.AsyncExitStack() as stack:
        pipes = [
            await stack.enter_async_context(
                open_pipeline(name, replies=replies, vad_decision=profile.vad_decision)
            )
            for name in pipelines
        ]
        for i, (line, _) in enumerate(script):
            order = pipes[i % len(pipes) :] + pipes[: i % len(pipes)]  # rotate: no order bias
            for pipe in order:
                res = await _one_turn(pipe, i, line, replies[line], audio[i], draws[i], profile)
                results.append(res)
                if on_turn is not None:
                    on_turn(res)
    return BenchResult(profile, results)


def first_phrase_tokens(reply: str) -> int:
    """How many streamed tokens of ``reply`` the first spoken clause needs."""
    chunker = PhraseChunker()
    tokens = split_tokens(reply)
    for n, token in enumerate(tokens, start=1):
        if chunker.push(token):
            return n
    return len(tokens)


async def _one_turn(
    pipe: Pipeline,
    i: int,
    line: str,
    reply: str,
    pcm: np.ndarray,
    draw: Draw,
    profile: LatencyProfile,
) -> TurnResult:
    pipe.set_delays(draw, token_interval=profile.token_interval)
    stack = pipe.stack
    seg_index = len(stack.speaker.segments)
    ctx_index = len(stack.tts.contexts)
    turn_index = len(stack.realtime.turns)
    ended_at = await stack.say(pcm, transcript=line)
    seg = await stack.next_reply(index=seg_index, within=_TURN_TIMEOUT)
    await asyncio.sleep(_GAP)
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
    return TurnResult(
        pipeline=pipe.name,
        turn=i,
        ttfa=seg.first_frame_at - ended_at,
        floor=pipe.floor(draw),
        phrase_floor=pipe.floor(draw) + profile.token_interval * (first_phrase_tokens(reply) - 1),
        first_text=first_text,
        tts_wait=tts_wait,
        first_tts_text=ctx.chunks[0] if ctx and ctx.chunks else "",
    )
