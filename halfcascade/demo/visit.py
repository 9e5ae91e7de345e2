"""One visit of the demo: a full halfcascade session with persona, memory, phrase cache
and the local avatar, driven by a paced microphone and recorded into the MP4."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from livekit.agents import AgentSession

from ..agent import Agent
from ..avatar import LocalAvatar, attach_avatar
from ..avatar.local import PlayedAudio, PlayedVideo, puppy_character
from ..latency import TurnTimeline
from ..memory import MemoryBinding, SQLiteMemoryStore
from ..memory.render import split_instructions
from ..persona import Persona
from ..session import Session
from ..speech.cache import PhraseCache
from ..testing.audio_io import MicrophoneInput
from ..testing.stack import close_models
from .providers import Providers
from .recording import AvRecorder
from .script import USER_ID, Visit

__all__ = ["DemoEvent", "DemoTurn", "EventKind", "run_visit"]

EventKind = Literal["step", "user", "agent", "memory", "cache"]


@dataclass(frozen=True, slots=True)
class DemoEvent:
    """Something the demo shows while it runs; ``step`` events advance the progress."""

    kind: EventKind
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoTurn:
    """One answered user turn of the demo."""

    visit: int
    said: str
    """What the user said (the scripted line)."""
    heard: str
    """What the brain heard (the session's user transcript)."""
    reply: str
    timeline: TurnTimeline
    floor: float | None
    """The injected provider delays of this turn (offline), ``None`` live."""
    memories: tuple[str, ...]
    """The memory notes in the agent's instructions when the turn ended."""


@dataclass(slots=True, kw_only=True)
class VisitSetup:
    """What every visit shares."""

    providers: Providers
    persona: Persona
    cache: PhraseCache
    memory_db: Path
    recorder: AvRecorder | None
    emit: Callable[[DemoEvent], None]
    speech: Callable[[str], np.ndarray]
    """The user's voice: a line to 24 kHz int16 PCM."""


async def run_visit(
    number: int, visit: Visit, setup: VisitSetup, first_turn: int
) -> list[DemoTurn]:
    """Hold one visit's conversation; returns its answered turns."""
    emit = setup.emit
    store = SQLiteMemoryStore(setup.memory_db)
    memory = MemoryBinding(store, user_id=USER_ID)
    recalled = _notes(await memory.prepare())
    emit(DemoEvent("memory", f"recalled before connecting: {_list(recalled)}"))
    session = Session(brain=setup.providers.brain(), voice=setup.providers.voice(setup.persona))
    mic = MicrophoneInput()
    session.input.audio = mic
    rec = setup.recorder
    if rec is not None:
        rec.begin_section(time.perf_counter())
    face = await attach_avatar(session, None, _avatar(rec))
    agent = Agent(persona=setup.persona, memory=memory, phrase_cache=setup.cache)
    finished: asyncio.Queue[TurnTimeline] = asyncio.Queue()
    session.latency.on("turn", finished.put_nowait)
    turns: list[DemoTurn] = []
    try:
        report = await setup.cache.warm(session.tts, agent.openers) if session.tts else None
        if report is not None:
            emit(
                DemoEvent(
                    "cache",
                    f"{report.ready} openers ready for this voice "
                    f"({report.synthesized} synthesised, {report.cached} already "
                    "in memory)",
                )
            )
        await session.start(agent)
        emit(DemoEvent("step", f"visit {number} ({visit.title}): session started"))
        if setup.persona.greeting:
            await session.say(setup.persona.greeting)
            emit(DemoEvent("agent", setup.persona.greeting))
        known = recalled
        for i, line in enumerate(visit.lines):
            turn = await _turn(session, mic, finished, setup, number, line, first_turn + i)
            turns.append(turn)
            if turn.memories != known:
                new = [m for m in turn.memories if m not in known]
                emit(DemoEvent("memory", f"refreshed between turns, now also: {_list(new)}"))
                known = turn.memories
    finally:
        await session.aclose()
        await face.aclose()
        await close_models(session)
        await store.aclose()
    return turns


async def _turn(
    session: AgentSession[Any],
    mic: MicrophoneInput,
    finished: asyncio.Queue[TurnTimeline],
    setup: VisitSetup,
    visit: int,
    line: str,
    index: int,
) -> DemoTurn:
    pcm = await asyncio.to_thread(setup.speech, line)
    seen = {role: len(_texts(session, role)) for role in ("user", "assistant")}
    floor = setup.providers.set_turn(index, line)
    setup.emit(DemoEvent("user", line))
    ended = await mic.say(pcm)
    if setup.recorder is not None:
        setup.recorder.add_user_audio(ended, pcm)
    async with asyncio.timeout(30):
        timeline = await finished.get()
        while timeline.speech_end_at is None:  # a turn the user did not start
            timeline = await finished.get()
    heard = await _next_text(session, "user", seen["user"])
    reply = await _next_text(session, "assistant", seen["assistant"])
    setup.emit(DemoEvent("agent", reply))
    setup.emit(DemoEvent("step", f"turn {index + 1} answered"))
    agent = session.current_agent
    return DemoTurn(
        visit=visit,
        said=line,
        heard=heard,
        reply=reply,
        timeline=timeline,
        floor=floor,
        memories=_notes(_instructions(agent)),
    )


def _avatar(rec: AvRecorder | None) -> LocalAvatar:
    if rec is None:
        return LocalAvatar(character=puppy_character())

    def video(v: PlayedVideo) -> None:
        f = v.frame
        rec.add_video(v.pts, np.frombuffer(f.data, np.uint8).reshape(f.height, f.width, 4))

    def audio(a: PlayedAudio) -> None:
        rec.add_agent_audio(a.pts, np.frombuffer(a.frame.data, np.int16))

    return LocalAvatar(character=puppy_character(), on_video=video, on_audio=audio)


def _instructions(agent: Any) -> str:
    current = agent.instructions
    return current if isinstance(current, str) else str(current.render(modality="audio"))


def _notes(instructions: str) -> tuple[str, ...]:
    block = split_instructions(instructions)[1]
    return tuple(
        line[3:-1] for line in block.splitlines() if line.startswith('- "') and line.endswith('"')
    )


def _list(notes: tuple[str, ...] | list[str]) -> str:
    return "; ".join(notes) if notes else "nothing yet"


def _texts(session: AgentSession[Any], role: str) -> list[str]:
    return [
        getattr(item, "text_content", None) or ""
        for item in session.history.items
        if getattr(item, "type", "") == "message" and getattr(item, "role", "") == role
    ]


async def _next_text(session: AgentSession[Any], role: str, seen: int) -> str:
    """The newest ``role`` message after the first ``seen``, waiting briefly for it."""
    for _ in range(40):  # transcripts land shortly after the audio
        texts = _texts(session, role)
        if len(texts) > seen:
            return texts[-1]
        await asyncio.sleep(0.05)
    return ""
