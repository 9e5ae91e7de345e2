"""A whole half-cascade on local servers, room-less: for tests, demos and benchmarks.

``open_stack`` starts a local OpenAI Realtime server and a local ElevenLabs server, builds a
session against them, wires a paced microphone and a recording speaker, starts the agent
and closes everything on exit::

    async with open_stack(reply=lambda ctx: "Woof! Hi!") as stack:
        await stack.say("Hello Biscuit")
        segment = await stack.next_reply()
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from livekit.agents import Agent as LkAgent
from livekit.agents import AgentSession, utils

from .audio_io import MicrophoneInput, PlayedSegment, SpeakerOutput
from .elevenlabs import ElevenLabsServer
from .openai_realtime import RealtimeServer, ReplyFn
from .transcribe import ScriptedTranscriber, Transcriber
from .vad import VadConfig
from .voices import default_voice

if TYPE_CHECKING:
    from .gemini_live import GeminiLiveServer

__all__ = [
    "Builder",
    "LocalStack",
    "close_models",
    "halfcascade_builder",
    "open_stack",
    "trim_silence",
]

API_KEY = "local-test-key"

Builder = Callable[["LocalStack"], tuple[AgentSession[Any], LkAgent]]
"""Builds the session and agent for a stack whose servers are already running."""


@dataclass(slots=True)
class LocalStack:
    """Running local servers, and the session wired to them once built."""

    realtime: RealtimeServer | GeminiLiveServer
    tts: ElevenLabsServer
    transcripts: Transcriber
    mic: MicrophoneInput = field(default_factory=MicrophoneInput)
    speaker: SpeakerOutput = field(default_factory=SpeakerOutput)
    session: AgentSession[Any] | None = None

    async def say(self, text_or_pcm: str | np.ndarray, *, transcript: str | None = None) -> float:
        """Speak into the microphone; returns when the last sample was delivered.

        A string is synthesised (espeak-ng, else a synthetic voice). With a
        :class:`ScriptedTranscriber`, the spoken string (or ``transcript``) is queued as what
        the server will have heard.
        """
        if isinstance(text_or_pcm, str):
            pcm = trim_silence(default_voice()(text_or_pcm, 24000))
            transcript = transcript if transcript is not None else text_or_pcm
        else:
            pcm = text_or_pcm
        if transcript is not None and isinstance(self.transcripts, ScriptedTranscriber):
            self.transcripts.push(transcript)
        return await self.mic.say(pcm)

    async def next_reply(self, *, index: int | None = None, within: float = 15.0) -> PlayedSegment:
        """Wait for agent audio segment ``index`` (default: the next one) to finish playing."""
        i = len(self.speaker.segments) if index is None else index
        async with asyncio.timeout(within):
            return await self.speaker.wait_for_segment(i, finished=True)


def trim_silence(pcm: np.ndarray, threshold: int = 300) -> np.ndarray:
    """``pcm`` without leading and trailing near-silence (so speech end is the last sample)."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > threshold)
    return pcm[loud[0] : loud[-1] + 1] if len(loud) else pcm


def halfcascade_builder(agent: LkAgent, **session_kwargs: Any) -> Builder:
    """A builder for a :class:`halfcascade.Session` on the stack's servers."""

    def build(stack: LocalStack) -> tuple[AgentSession[Any], LkAgent]:
        from ..brain import OpenAIBrain
        from ..session import Session
        from ..speech import ElevenLabsVoice

        kwargs = dict(session_kwargs)  # a builder may be called again: never consume its options
        brain = kwargs.pop("brain", None)
        if brain is None:
            if isinstance(stack.realtime, RealtimeServer):
                brain = OpenAIBrain(base_url=stack.realtime.base_url, api_key=API_KEY)
            else:
                from .gemini_live.stack import gemini_brain

                brain = gemini_brain(stack.realtime)
        voice = kwargs.pop("voice", None) or ElevenLabsVoice(
            base_url=stack.tts.base_url, api_key=API_KEY
        )
        return Session(brain=brain, voice=voice, **kwargs), agent

    return build


@contextlib.asynccontextmanager
async def open_stack(
    *,
    reply: ReplyFn | str,
    build: Builder | None = None,
    transcriber: Transcriber | None = None,
    ttft: float = 0.15,
    token_interval: float = 0.01,
    tts_ttfb: float = 0.05,
    vad: VadConfig | None = None,
    brain: Literal["openai", "google"] = "openai",
) -> AsyncIterator[LocalStack]:
    """Start the local servers and a session built by ``build`` (default: a halfcascade
    ``Session`` with a plain ``halfcascade.Agent``); close everything on exit.

    ``brain="google"`` starts a Gemini Live stand-in instead of the OpenAI Realtime one,
    with the same reply and timing options.
    """
    transcripts = transcriber or ScriptedTranscriber()
    vad = vad or VadConfig(silence_duration_ms=300, semantic_silence_duration_ms=300)
    options: dict[str, Any] = {
        "reply": reply,
        "ttft": ttft,
        "token_interval": token_interval,
        "transcriber": transcripts,
        "vad": vad,
    }
    if brain == "google":
        from .gemini_live import GeminiLiveServer

        server: RealtimeServer | GeminiLiveServer = GeminiLiveServer(**options)
    elif brain == "openai":
        server = RealtimeServer(**options)
    else:
        raise ValueError(f"open_stack(brain={brain!r}): choose 'openai' or 'google'")
    async with (
        utils.http_context.open(),
        server as realtime,
        ElevenLabsServer(ttfb=tts_ttfb) as tts,
    ):
        stack = LocalStack(realtime=realtime, tts=tts, transcripts=transcripts)
        if build is None:
            from ..agent import Agent

            build = halfcascade_builder(Agent(instructions="You are a friendly companion."))
        session, agent = build(stack)
        stack.session = session
        session.input.audio = stack.mic
        session.output.audio = stack.speaker
        try:
            await session.start(agent)
            yield stack
        finally:
            await session.aclose()
            await stack.speaker.aclose()
            await close_models(session)


async def close_models(session: AgentSession[Any]) -> None:
    """Close a finished session's model and voices, those passed in too: a harness owns
    everything it put in the session (a ``Session`` closes only what it built)."""
    from ..speech.failover import FailoverTTS

    tts = session.tts
    voices = tts.voices if isinstance(tts, FailoverTTS) else (tts,)
    for model in (session.llm, *voices):
        if model is not None:
            await model.aclose()
