"""The pipelines a benchmark compares, each on its own local provider servers.

Every pipeline is a real livekit ``AgentSession`` with the real provider plugins, talking
to halfcascade's protocol servers, with a paced microphone in and a recording speaker out.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from livekit.agents import Agent as LkAgent
from livekit.agents import AgentSession

from ..agent import Agent
from ..testing.realtime_server import ReplyContext
from ..testing.stack import API_KEY, Builder, LocalStack, halfcascade_builder, open_stack
from ..testing.transcribe import ScriptedTranscriber
from ..testing.vad import VadConfig

__all__ = ["PIPELINES", "Pipeline", "PipelineName", "open_pipeline"]

PipelineName = Literal["halfcascade", "livekit-half-cascade"]
PIPELINES: tuple[PipelineName, ...] = ("livekit-half-cascade", "halfcascade")

INSTRUCTIONS = "You are Biscuit, a playful puppy who is the user's best friend."


@dataclass(slots=True)
class Pipeline:
    """A running pipeline: its name and its local stack."""

    name: PipelineName
    stack: LocalStack

    def set_delays(self, *, first_text: float, token_interval: float, tts_ttfb: float) -> None:
        """Inject this turn's provider delays."""
        self.stack.realtime.set_latency(ttft=first_text, token_interval=token_interval)
        self.stack.tts.set_ttfb(tts_ttfb)


def _replier(replies: Mapping[str, str]) -> Callable[[ReplyContext], str]:
    def reply(ctx: ReplyContext) -> str:
        return replies.get(ctx.transcript, "Woof!")

    return reply


def _livekit_default(stack: LocalStack) -> tuple[AgentSession[Any], LkAgent]:
    # livekit's own half-cascade as its docs write it; PCM only because the stand-in serves
    # no MP3 (decoding MP3 would only add to livekit's time)
    from livekit.plugins import elevenlabs, openai

    session: AgentSession[Any] = AgentSession(
        llm=openai.realtime.RealtimeModel(
            modalities=["text"], base_url=stack.realtime.base_url, api_key=API_KEY
        ),
        tts=elevenlabs.TTS(base_url=stack.tts.base_url, api_key=API_KEY, encoding="pcm_24000"),
    )
    return session, LkAgent(instructions=INSTRUCTIONS)


_BUILDERS: dict[PipelineName, Callable[[], Builder]] = {
    "halfcascade": lambda: halfcascade_builder(Agent(instructions=INSTRUCTIONS)),
    "livekit-half-cascade": lambda: _livekit_default,
}


@contextlib.asynccontextmanager
async def open_pipeline(
    name: PipelineName, *, replies: Mapping[str, str], vad_decision: float
) -> AsyncIterator[Pipeline]:
    """Start servers and a session for pipeline ``name``; close everything on exit."""
    window = int(vad_decision * 1000)
    async with open_stack(
        reply=_replier(replies),
        build=_BUILDERS[name](),
        transcriber=ScriptedTranscriber(),
        vad=VadConfig(silence_duration_ms=window, semantic_silence_duration_ms=window),
    ) as stack:
        yield Pipeline(name, stack)
