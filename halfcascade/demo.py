"""``halfcascade demo``: a short spoken conversation with a puppy companion.

Offline (no API keys): the user's lines are spoken with espeak-ng, the local OpenAI
Realtime server hears them (energy VAD, faster-whisper ``tiny.en``) and answers from a
small rule book, the local ElevenLabs server speaks the answers. With ``OPENAI_API_KEY``
and ``ELEVEN_API_KEY`` set, the same spoken lines go to the real providers instead.
Either way the real livekit plugins run, every turn prints its time to first audio, and
the conversation is written to a WAV file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import wave
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from livekit.agents import Agent as LkAgent
from livekit.agents import AgentSession, utils

from .agent import Agent
from .brain import OpenAIBrain
from .session import Session
from .speech import ElevenLabsVoice
from .testing.audio_io import MicrophoneInput, SpeakerOutput
from .testing.openai_realtime import ReplyContext
from .testing.stack import LocalStack, halfcascade_builder, open_stack, trim_silence
from .testing.voices import default_voice

__all__ = ["DemoTurn", "run_demo"]

INSTRUCTIONS = "You are Biscuit, a playful and affectionate puppy. You love walks and treats."
USER_LINES = (
    "Hi Biscuit, how are you today?",
    "Do you want to go for a walk?",
    "What is your favourite treat?",
    "Good night, Biscuit.",
)
_RULES: tuple[tuple[str, str], ...] = (
    ("walk", "Yes, yes! Grab the leash, let's go!"),
    ("treat", "Chicken treats, for sure. Yum!"),
    ("night", "Good night! Sweet dreams, friend."),
    ("how are", "Woof, I'm great! I missed you."),
)


_Running = tuple[AgentSession[Any], MicrophoneInput, SpeakerOutput]


@dataclass(frozen=True, slots=True)
class DemoTurn:
    """One demo turn: what the brain heard, what it said, how long until it was heard."""

    heard: str
    reply: str
    ttfa: float


def rule_book(ctx: ReplyContext) -> str:
    """The offline brain: a keyword rule book over the recognised words."""
    said = ctx.transcript.lower()
    return next((answer for key, answer in _RULES if key in said), "Woof? Say that again?")


@contextlib.asynccontextmanager
async def _live_stack() -> AsyncIterator[_Running]:
    async with utils.http_context.open():
        session = Session(brain=OpenAIBrain(), voice=ElevenLabsVoice())
        mic, speaker = MicrophoneInput(), SpeakerOutput()
        session.input.audio, session.output.audio = mic, speaker
        try:
            await session.start(Agent(instructions=INSTRUCTIONS))
            yield session, mic, speaker
        finally:
            await session.aclose()
            await speaker.aclose()


@contextlib.asynccontextmanager
async def _offline_stack() -> AsyncIterator[
    tuple[AgentSession[Any], MicrophoneInput, SpeakerOutput]
]:
    from .testing.transcribe import WhisperTranscriber

    whisper = WhisperTranscriber()
    await asyncio.to_thread(whisper.load)  # not on the first turn's clock
    build: Callable[[LocalStack], tuple[AgentSession[Any], LkAgent]] = halfcascade_builder(
        Agent(instructions=INSTRUCTIONS)
    )
    async with open_stack(reply=rule_book, build=build, transcriber=whisper, ttft=0.35) as stack:
        assert stack.session is not None
        yield stack.session, stack.mic, stack.speaker


def live_keys_present() -> bool:
    """Whether the real providers can be used."""
    return bool(os.environ.get("OPENAI_API_KEY") and os.environ.get("ELEVEN_API_KEY"))


async def run_demo(
    *, wav_path: Path | None, live: bool, on_turn: Callable[[DemoTurn], None] | None = None
) -> list[DemoTurn]:
    """Play the scripted user lines and return each turn's outcome."""
    voice = default_voice()
    turns: list[DemoTurn] = []
    recording: list[np.ndarray] = []
    opener = _live_stack if live else _offline_stack
    async with opener() as (session, mic, speaker):
        for line in USER_LINES:
            pcm = trim_silence(voice(line, 24000))
            index = len(speaker.segments)
            ended = await mic.say(pcm)
            async with asyncio.timeout(30):
                seg = await speaker.wait_for_segment(index, finished=True)
            said = await _texts(session, "assistant", len(turns) + 1)
            heard = await _texts(session, "user", len(turns) + 1)
            turn = DemoTurn(heard=heard[-1], reply=said[-1], ttfa=seg.first_frame_at - ended)
            turns.append(turn)
            recording += [pcm, np.zeros(int(24000 * turn.ttfa), np.int16), seg.pcm()]
            if on_turn is not None:
                on_turn(turn)
    if wav_path is not None:
        _write_wav(wav_path, np.concatenate(recording))
    return turns


async def _texts(session: AgentSession[Any], role: str, n: int) -> list[str]:
    """The session's messages of ``role``, waiting briefly until there are ``n``."""
    texts: list[str] = []
    for _ in range(40):  # transcripts land shortly after the audio
        texts = [
            getattr(item, "text_content", None) or ""
            for item in session.history.items
            if getattr(item, "type", "") == "message" and getattr(item, "role", "") == role
        ]
        if len(texts) >= n:
            break
        await asyncio.sleep(0.05)
    return texts + [""] * max(0, n - len(texts))


def _write_wav(path: Path, pcm: np.ndarray) -> None:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(24000)
        f.writeframes(pcm.astype(np.int16).tobytes())
