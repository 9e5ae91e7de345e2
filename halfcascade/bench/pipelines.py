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
from ..brain import OpenAIBrain
from ..session import Session
from ..speech import ElevenLabsVoice
from ..testing.audio_io import MicrophoneInput, SpeakerOutput
from ..testing.elevenlabs_server import ElevenLabsServer
from ..testing.realtime_server import RealtimeServer, ReplyContext
from ..testing.transcribe import ScriptedTranscriber
from ..testing.vad import VadConfig

__all__ = ["PIPELINES", "Pipeline", "PipelineName", "open_pipeline"]

PipelineName = Literal["halfcascade", "livekit-half-cascade"]
PIPELINES: tuple[PipelineName, ...] = ("livekit-half-cascade", "halfcascade")

INSTRUCTIONS = "You are Biscuit, a playful puppy who is the user's best friend."
_KEY = "bench-key"


@dataclass(slots=True)
class Pipeline:
    """A running pipeline: its session, its I/O and the servers it talks to."""

    name: PipelineName
    session: AgentSession[Any]
    mic: MicrophoneInput
    speaker: SpeakerOutput
    realtime: RealtimeServer
    tts: ElevenLabsServer
    transcripts: ScriptedTranscriber

    def set_delays(self, *, first_text: float, token_interval: float, tts_ttfb: float) -> None:
        """Inject this turn's provider delays."""
        self.realtime.set_latency(ttft=first_text, token_interval=token_interval)
        self.tts.set_ttfb(tts_ttfb)


def _replier(replies: Mapping[str, str]) -> Callable[[ReplyContext], str]:
    def reply(ctx: ReplyContext) -> str:
        return replies.get(ctx.transcript, "Woof!")

    return reply


@contextlib.asynccontextmanager
async def open_pipeline(
    name: PipelineName, *, replies: Mapping[str, str], vad_decision: float
) -> AsyncIterator[Pipeline]:
    """Start servers and a session for pipeline ``name``; close everything on exit."""
    transcripts = ScriptedTranscriber()
    vad = VadConfig(
        silence_duration_ms=int(vad_decision * 1000),
        semantic_silence_duration_ms=int(vad_decision * 1000),
    )
    async with (
        RealtimeServer(reply=_replier(replies), transcriber=transcripts, vad=vad) as realtime,
        ElevenLabsServer() as tts,
    ):
        session, agent = _build(name, realtime.base_url, tts.base_url)
        mic, speaker = MicrophoneInput(), SpeakerOutput()
        session.input.audio = mic
        session.output.audio = speaker
        try:
            await session.start(agent)
            yield Pipeline(name, session, mic, speaker, realtime, tts, transcripts)
        finally:
            await session.aclose()
            await speaker.aclose()
            if session.llm is not None:
                await session.llm.aclose()
            if session.tts is not None:
                await session.tts.aclose()


def _build(
    name: PipelineName, realtime_url: str, tts_url: str
) -> tuple[AgentSession[Any], LkAgent]:
    if name == "halfcascade":
        session = Session(
            brain=OpenAIBrain(base_url=realtime_url, api_key=_KEY),
            voice=ElevenLabsVoice(base_url=tts_url, api_key=_KEY),
        )
        return session, Agent(instructions=INSTRUCTIONS)
    # livekit's own half-cascade as its docs write it; PCM only because the stand-in
    # serves no MP3 (decoding MP3 would only add to livekit's time)
    from livekit.plugins import elevenlabs, openai

    lk_session: AgentSession[Any] = AgentSession(
        llm=openai.realtime.RealtimeModel(modalities=["text"], base_url=realtime_url, api_key=_KEY),
        tts=elevenlabs.TTS(base_url=tts_url, api_key=_KEY, encoding="pcm_24000"),
    )
    return lk_session, LkAgent(instructions=INSTRUCTIONS)
