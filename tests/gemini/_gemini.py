"""A half-cascade on Gemini: the real Google plugin on ``GeminiLiveServer``, the real
ElevenLabs plugin on ``ElevenLabsServer``, a paced microphone and a recording speaker."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from livekit.agents import Agent as LkAgent
from livekit.agents import utils

from halfcascade import Agent
from halfcascade.testing.elevenlabs import ElevenLabsServer
from halfcascade.testing.gemini_live import GeminiLiveServer, ReplyFn
from halfcascade.testing.gemini_live.stack import gemini_builder, gemini_stand_in
from halfcascade.testing.stack import Builder, LocalStack
from halfcascade.testing.transcribe import ScriptedTranscriber, Transcriber


@contextlib.asynccontextmanager
async def gemini_stack(
    *,
    reply: ReplyFn | str,
    agent: LkAgent | None = None,
    build: Builder | None = None,
    transcriber: Transcriber | None = None,
    token_interval: float = 0.01,
    reject_first: int = 0,
    **session_kwargs: Any,
) -> AsyncIterator[LocalStack]:
    """Start the stand-ins and a ``halfcascade.Session`` with ``GoogleBrain``; close all."""
    transcripts = transcriber or ScriptedTranscriber()
    async with (
        utils.http_context.open(),
        gemini_stand_in(
            reply=reply, transcriber=transcripts, token_interval=token_interval
        ) as server,
        ElevenLabsServer(ttfb=0.05) as tts,
    ):
        stack = LocalStack(realtime=server, tts=tts, transcripts=transcripts)  # type: ignore[arg-type]
        agent = agent or Agent(instructions="You are Biscuit, a friendly puppy.")
        session, agent = (build or gemini_builder(server, agent, **session_kwargs))(stack)
        server.reject_connections(reject_first)
        stack.session = session
        session.input.audio = stack.mic
        session.output.audio = stack.speaker
        try:
            await session.start(agent)
            yield stack
        finally:
            await session.aclose()
            await stack.speaker.aclose()
            for model in (session.llm, session.tts):
                if model is not None:
                    await model.aclose()


def server_of(stack: LocalStack) -> GeminiLiveServer:
    """The stack's Gemini stand-in."""
    server = stack.realtime
    assert isinstance(server, GeminiLiveServer)
    return server
