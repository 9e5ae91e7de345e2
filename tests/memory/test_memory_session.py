"""End to end: a fact told in one session is used in the next, on the real livekit path.

The real OpenAI Realtime plugin talks to the local ``RealtimeServer`` (server VAD, text
output) and the real ElevenLabs plugin to the local ``ElevenLabsServer``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from livekit.agents import RunResult
from livekit.agents.utils import http_context

from halfcascade import Agent, ElevenLabsVoice, OpenAIBrain, Session
from halfcascade.memory import MEMORY_HEADER, MemoryBinding, MemoryStore, SQLiteMemoryStore
from halfcascade.persona import load_persona, render_persona
from halfcascade.testing.audio_io import MicrophoneInput, SpeakerOutput
from halfcascade.testing.elevenlabs import ElevenLabsServer
from halfcascade.testing.openai_realtime import RealtimeServer, ReplyContext, ReplyFn, ToolCall
from halfcascade.testing.transcribe import ScriptedTranscriber
from halfcascade.testing.voices import synthetic_voice

pytestmark = [pytest.mark.contract, pytest.mark.timeout(60)]

PERSONA = Path(__file__).parents[2] / "examples" / "personas" / "biscuit.toml"
MAX = "The user's dog is called Max."


@dataclass
class Companion:
    session: Session
    mic: MicrophoneInput
    speaker: SpeakerOutput
    memory: MemoryBinding


@dataclass
class Servers:
    realtime: RealtimeServer
    tts: ElevenLabsServer
    transcriber: ScriptedTranscriber
    seen: list[ReplyContext]


@contextlib.asynccontextmanager
async def servers(reply: ReplyFn) -> AsyncIterator[Servers]:
    seen: list[ReplyContext] = []

    def recording(ctx: ReplyContext) -> str | ToolCall:
        seen.append(ctx)
        answer = reply(ctx)
        assert isinstance(answer, str | ToolCall)
        return answer

    transcriber = ScriptedTranscriber()
    async with (
        http_context.open(),
        RealtimeServer(reply=recording, ttft=0.05, transcriber=transcriber) as rt,
        ElevenLabsServer(ttfb=0.05, voice=synthetic_voice) as tts,
    ):
        yield Servers(rt, tts, transcriber, seen)


@contextlib.asynccontextmanager
async def companion(
    srv: Servers, store: MemoryStore, user_id: str, *, snapshot: bool = True
) -> AsyncIterator[Companion]:
    memory = MemoryBinding(store, user_id=user_id)
    if snapshot:
        await memory.prepare()  # recall before connecting
    # the user-facing path: the Agent composes persona + memory and follows the session
    agent = Agent(persona=load_persona(PERSONA), memory=memory)
    assert agent.instructions.startswith(render_persona(load_persona(PERSONA)))
    session = Session(
        brain=OpenAIBrain(
            base_url=srv.realtime.base_url, api_key="test", turn_detection="server_vad"
        ),
        voice=ElevenLabsVoice(base_url=srv.tts.base_url, api_key="test"),
    )
    mic, speaker = MicrophoneInput(), SpeakerOutput()
    session.input.audio, session.output.audio = mic, speaker
    await session.start(agent)
    try:
        yield Companion(session, mic, speaker, memory)
    finally:
        await session.aclose()  # Agent.on_exit closes the binding: writes drain
        await speaker.aclose()


def answer_from_memory(ctx: ReplyContext) -> str | ToolCall:
    if ctx.tool_output is not None:
        return "Max! Woof!" if "Max" in ctx.tool_output else "I don't know."
    if "dog's name" in ctx.transcript:
        if "Max" in ctx.instructions:
            return "It's Max!"
        return ToolCall("recall_memory", {"query": "dog name"})
    return "Woof! Nice!"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteMemoryStore]:
    async with SQLiteMemoryStore(tmp_path / "memories.db") as made:
        yield made


async def test_spoken_fact_is_in_the_next_sessions_instructions(store: SQLiteMemoryStore) -> None:
    async with servers(answer_from_memory) as srv:
        srv.transcriber.push("My dog is called Max.")
        async with companion(srv, store, "u1") as c:
            await c.mic.say(synthetic_voice("My dog is called Max.", 24000))
            await srv.realtime.wait_for_turns(1)
            await c.speaker.wait_for_segment(0)
            # the refreshed block reached the live session already
            await c.memory.writer.flush(5)
        assert srv.realtime.session is not None
        assert MAX in srv.realtime.session["instructions"]

        srv.transcriber.push("What's my dog's name?")
        async with companion(srv, store, "u1") as c:
            opening = srv.realtime.session
            assert opening is not None
            prefix = render_persona(load_persona(PERSONA))
            assert opening["instructions"].startswith(prefix + "\n\n" + MEMORY_HEADER)
            await c.mic.say(synthetic_voice("What's my dog's name?", 24000))
            turns = await srv.realtime.wait_for_turns(2)
            await c.speaker.wait_for_segment(0)
    assert turns[1].transcript == "What's my dog's name?" and turns[1].text == "It's Max!"
    assert srv.seen[1].tool_output is None  # answered from the instructions, no tool round trip


def answer_by_looking_up(ctx: ReplyContext) -> str | ToolCall:
    """A model that always looks the answer up, whatever its instructions say."""
    if "dog's name" in ctx.transcript and ctx.tool_output is None:
        return ToolCall("recall_memory", {"query": "dog name"})
    return answer_from_memory(ctx)


async def test_fact_is_used_through_the_recall_tool(store: SQLiteMemoryStore) -> None:
    async with servers(answer_by_looking_up) as srv:
        async with companion(srv, store, "u1") as c:
            await c.session.run(user_input="My dog is called Max.")
        async with companion(srv, store, "u1", snapshot=False) as c:
            result: RunResult[None] = await c.session.run(user_input="What's my dog's name?")
    result.expect.next_event().is_function_call(name="recall_memory")
    output = result.expect.next_event().is_function_call_output()
    assert MAX in output.event().item.output
    result.expect.next_event().is_message(role="assistant")
    assert result.events[-1].item.text_content == "Max! Woof!"  # type: ignore[union-attr]


async def test_remember_tool_then_another_user_cannot_recall_it(store: SQLiteMemoryStore) -> None:
    def reply(ctx: ReplyContext) -> str | ToolCall:
        if ctx.tool_output is not None:
            return "Luna!" if "Luna" in ctx.tool_output else ctx.tool_output[:22]
        if ctx.transcript.startswith("note"):
            return ToolCall("remember", {"fact": "The user's cat is Luna.", "topic": "cat.name"})
        return ToolCall("recall_memory", {"query": "cat"})

    async with servers(reply) as srv:
        async with companion(srv, store, "alice") as c:
            await c.session.run(user_input="note my cat")
        async with companion(srv, store, "bob") as c:
            bob: RunResult[None] = await c.session.run(user_input="what's my cat called")
        async with companion(srv, store, "alice", snapshot=False) as c:
            alice: RunResult[None] = await c.session.run(user_input="what's my cat called")
    assert bob.events[-1].item.text_content == "Nothing remembered abo"  # type: ignore[union-attr]
    assert alice.events[-1].item.text_content == "Luna!"  # type: ignore[union-attr]
