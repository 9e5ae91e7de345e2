"""Randomized barge-in runs through the real half-cascade stack and an avatar output.

The stack is the real one: ``halfcascade.Session`` with the OpenAI Realtime plugin against
the local :class:`RealtimeServer` (its energy VAD hears the user, so barge-ins are real
``input_audio_buffer.speech_started`` events) and the ElevenLabs plugin against the local
:class:`ElevenLabsServer`. The user is a paced :class:`MicrophoneInput`. The agent's audio
goes through livekit's ``TranscriptSynchronizer`` (as RoomIO inserts it) into the avatar
output under test, where the three warnings come from.

Each step: the user speaks, the agent's reply is created, then after a random delay the
user speaks again (barging in before, during or after the reply's playback).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import SpeechCreatedEvent
from livekit.agents.utils import http_context
from livekit.agents.voice import io
from livekit.agents.voice.speech_handle import SpeechHandle
from livekit.agents.voice.transcription import TranscriptSynchronizer

from halfcascade import Agent, ElevenLabsVoice, OpenAIBrain, Session
from halfcascade.testing.audio_io import MicrophoneInput
from halfcascade.testing.elevenlabs import ElevenLabsServer
from halfcascade.testing.openai_realtime import RealtimeServer, ReplyContext
from halfcascade.testing.transcribe import ScriptedTranscriber
from halfcascade.testing.vad import VadConfig
from halfcascade.testing.voices import synthetic_voice

WARNINGS = (
    "playback_finished called before text/audio input is done",
    "push_audio called after close",
    "skipping user input, speech scheduling is paused",
    # siblings of the third: a realtime reply dropped for the same reason
    "skipping new realtime generation",
    "skipping reply to user input",
    "speech not done in time after interruption",
)
REPLIES = ("Woof, hi!", "Sure, buddy.", "Okay then.", "Hello friend!", "Yes, let's go.")
RATE = 24000
SETTLE = 8.0  # a speech handle must be done this long after the run at the latest


@dataclass
class Captions(io.TextOutput):
    """The transcript sink behind the synchronizer."""

    text: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(label="captions", next_in_chain=None)

    async def capture_text(self, text: str) -> None:
        self.text.append(text)

    def flush(self) -> None:
        self.text.append("\n")


class WarningLog(logging.Handler):
    """Collects livekit/halfcascade warnings while installed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def matching(self, needles: tuple[str, ...] = WARNINGS) -> list[str]:
        msgs = [r.getMessage() for r in self.records]
        return [m for m in msgs if any(n in m for n in needles)]

    def __enter__(self) -> WarningLog:
        for name in ("livekit", "halfcascade"):
            logging.getLogger(name).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in ("livekit", "halfcascade"):
            logging.getLogger(name).removeHandler(self)


@dataclass
class Report:
    """What happened over a run."""

    steps: int = 0
    handles: list[SpeechHandle] = field(default_factory=list)
    user_turns: int = 0
    stuck: int = 0
    interrupted: int = 0
    completed: int = 0
    played_before_barge_in: int = 0
    elapsed: float = 0.0
    user_messages: int = 0
    stuck_handles: list[SpeechHandle] = field(default_factory=list)


OutputFactory = Callable[[Session], Awaitable[tuple[io.AudioOutput, Callable[[], Awaitable[None]]]]]


async def run_barge_ins(make_output: OutputFactory, *, steps: int, seed: int) -> Report:
    """Run ``steps`` user turns with random barge-in delays; return the report."""
    rng = random.Random(seed)
    transcriber = ScriptedTranscriber()
    vad = VadConfig(min_speech_ms=40, prefix_padding_ms=0)

    def reply(ctx: ReplyContext) -> str:
        return rng.choice(REPLIES)

    report = Report()
    async with (
        http_context.open(),
        RealtimeServer(
            reply=reply, ttft=0.05, token_interval=0.01, transcriber=transcriber, vad=vad
        ) as rt,
        ElevenLabsServer(ttfb=0.03) as el,
    ):
        session = Session(
            brain=OpenAIBrain(
                turn_detection="server_vad", silence_ms=150, base_url=rt.base_url, api_key="test"
            ),
            voice=ElevenLabsVoice(base_url=el.base_url, api_key="test"),
        )
        mic = MicrophoneInput(sample_rate=RATE)
        session.input.audio = mic
        avatar_out, close_output = await make_output(session)
        sync = TranscriptSynchronizer(next_in_chain_audio=avatar_out, next_in_chain_text=Captions())
        session.output.audio = sync.audio_output
        session.output.transcription = sync.text_output

        def on_created(ev: SpeechCreatedEvent) -> None:
            report.handles.append(ev.speech_handle)

        session.on("speech_created", on_created)
        await session.start(Agent(instructions="You are a dog.", style=None))
        utterance = synthetic_voice("hey", RATE)
        began = time.perf_counter()
        try:
            await _steps(session, mic, transcriber, utterance, rng, steps, report)
            await _settle(report)
        finally:
            report.elapsed = time.perf_counter() - began
            report.user_turns = len(rt.turns)
            report.user_messages = sum(1 for m in session.history.messages() if m.role == "user")
            await session.aclose()
            await sync.aclose()
            await close_output()
    return report


async def _steps(
    session: Session,
    mic: MicrophoneInput,
    transcriber: ScriptedTranscriber,
    utterance: Any,
    rng: random.Random,
    steps: int,
    report: Report,
) -> None:
    for i in range(steps):
        transcriber.push(f"turn {i}")
        await mic.say(utterance)
        report.steps += 1
        if i == steps - 1:
            break
        # the next barge-in: in the race window around the reply's creation and first audio
        # (the server VAD ends the turn 150 ms after the words), or during or after playback
        if rng.random() < 0.35:
            await asyncio.sleep(rng.uniform(0.15, 0.45))
        else:
            await asyncio.sleep(rng.uniform(0.45, 1.4))
        if session.agent_state == "speaking":
            report.played_before_barge_in += 1


async def _settle(report: Report) -> None:
    deadline = time.perf_counter() + SETTLE
    for handle in report.handles:
        try:
            await asyncio.wait_for(
                handle.wait_for_playout(), max(0.1, deadline - time.perf_counter())
            )
        except TimeoutError:
            report.stuck += 1
            report.stuck_handles.append(handle)
            continue
        if handle.interrupted:
            report.interrupted += 1
        else:
            report.completed += 1
