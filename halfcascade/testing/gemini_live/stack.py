"""Gemini on the local stand-ins: the server, the brain pointed at it, a session builder.

::

    async with gemini_stand_in(reply=lambda ctx: "Woof!") as server:
        session = Session(brain=gemini_brain(server), voice=...)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from livekit.agents import Agent as LkAgent
from livekit.agents import AgentSession

from ...brain.google import GoogleBrain
from ..openai_realtime._types import ReplyFn
from ..stack import API_KEY, Builder, LocalStack
from ..transcribe import Transcriber
from ..vad import VadConfig
from .server import API_VERSION, GeminiLiveServer

__all__ = ["gemini_brain", "gemini_builder", "gemini_stand_in", "livekit_gemini_builder"]


@contextlib.asynccontextmanager
async def gemini_stand_in(
    *,
    reply: ReplyFn | str,
    transcriber: Transcriber | None = None,
    ttft: float = 0.15,
    token_interval: float = 0.01,
    vad: VadConfig | None = None,
) -> AsyncIterator[GeminiLiveServer]:
    """A running :class:`GeminiLiveServer` with ``open_stack``'s defaults (300 ms silence)."""
    vad = vad or VadConfig(silence_duration_ms=300, semantic_silence_duration_ms=300)
    async with GeminiLiveServer(
        reply=reply, ttft=ttft, token_interval=token_interval, transcriber=transcriber, vad=vad
    ) as server:
        yield server


def gemini_brain(server: GeminiLiveServer, **overrides: Any) -> GoogleBrain:
    """A :class:`GoogleBrain` that talks to ``server`` (its CA trusted, a test key)."""
    options: dict[str, Any] = {
        "api_key": API_KEY,
        "base_url": server.base_url,
        "api_version": API_VERSION,
        "ca_file": server.ca_file,
    }
    return GoogleBrain(**{**options, **overrides})


def gemini_builder(server: GeminiLiveServer, agent: LkAgent, **session_kwargs: Any) -> Builder:
    """A ``LocalStack`` builder for a :class:`halfcascade.Session` whose brain is Gemini on
    ``server`` (the stack's own TTS stand-in still speaks)."""

    def build(stack: LocalStack) -> tuple[AgentSession[Any], LkAgent]:
        from ...session import Session
        from ...speech import ElevenLabsVoice

        kwargs = dict(session_kwargs)  # a builder may be called again: never consume options
        brain = kwargs.pop("brain", None) or gemini_brain(server)
        voice = kwargs.pop("voice", None) or ElevenLabsVoice(
            base_url=stack.tts.base_url, api_key=API_KEY
        )
        return Session(brain=brain, voice=voice, **kwargs), agent

    return build


def livekit_gemini_builder(server: GeminiLiveServer, instructions: str) -> Builder:
    """livekit's own half-cascade on Gemini, as its docs write it: the Google
    ``RealtimeModel`` with TEXT responses and the stack's ElevenLabs TTS (PCM), for
    side-by-side comparisons with :func:`gemini_builder`."""

    def build(stack: LocalStack) -> tuple[AgentSession[Any], LkAgent]:
        from google.genai import types
        from livekit.plugins import elevenlabs, google

        model = google.realtime.RealtimeModel(
            model="gemini-live-2.5-flash-preview",
            modalities=[types.Modality.TEXT],
            api_key=API_KEY,
            http_options=server.http_options(),
        )
        tts = elevenlabs.TTS(base_url=stack.tts.base_url, api_key=API_KEY, encoding="pcm_24000")
        session: AgentSession[Any] = AgentSession(llm=model, tts=tts)
        return session, LkAgent(instructions=instructions)

    return build
