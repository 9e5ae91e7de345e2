"""Everything else on Gemini: persona and memory injection, and the latency timeline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _gemini import gemini_stack, server_of

from halfcascade import Agent
from halfcascade.memory import MEMORY_HEADER, MemoryBinding, SQLiteMemoryStore
from halfcascade.persona import load_persona, render_persona
from halfcascade.testing.gemini_live import ReplyContext

pytestmark = [pytest.mark.contract, pytest.mark.timeout(90)]

PERSONA = Path(__file__).parents[2] / "examples" / "personas" / "biscuit.toml"
MAX = "The user's dog is called Max."


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteMemoryStore]:
    async with SQLiteMemoryStore(tmp_path / "memories.db") as made:
        yield made


def _answer(ctx: ReplyContext) -> str:
    known = "Max" in ctx.instructions or any("Max" in str(i.get("text")) for i in ctx.items)
    if "dog's name" in ctx.transcript:
        return "It's Max!" if known else "I don't know."
    return "Woof! Nice!"


async def test_persona_and_memory_reach_gemini_and_a_spoken_fact_comes_back(
    store: SQLiteMemoryStore,
) -> None:
    prefix = render_persona(load_persona(PERSONA))

    memory = MemoryBinding(store, user_id="u1")
    await memory.prepare()
    agent = Agent(persona=load_persona(PERSONA), memory=memory)
    async with gemini_stack(reply=_answer, agent=agent) as stack:
        await stack.say("My dog is called Max.")
        await stack.next_reply()
        await memory.writer.flush(5)
        server = server_of(stack)
        refreshed: list[str] = []
        for _ in range(50):  # the binding refreshes the block between turns on its own
            refreshed = [
                turn["parts"][0]["text"]
                for m in server.received
                for turn in m.get("clientContent", {}).get("turns", [])
                if turn.get("role") == "model" and MAX in turn["parts"][0]["text"]
            ]
            if refreshed:
                break
            await asyncio.sleep(0.1)
        opening = server.setups[0]["systemInstruction"]["parts"][0]["text"]
    # the persona (spoken style included) opens the system instruction
    assert opening.startswith(prefix)
    # the refreshed memory block reached the live session as a model turn
    assert refreshed and refreshed[-1].startswith(prefix)
    assert MAX not in opening

    memory = MemoryBinding(store, user_id="u1")
    await memory.prepare()  # the next session connects with the fact in its instructions
    agent = Agent(persona=load_persona(PERSONA), memory=memory)
    async with gemini_stack(reply=_answer, agent=agent) as stack:
        await stack.say("What's my dog's name?")
        await stack.next_reply()
        server = server_of(stack)
    system = server.setups[0]["systemInstruction"]["parts"][0]["text"]
    assert system.startswith(prefix + "\n\n" + MEMORY_HEADER) and MAX in system
    assert server.turns[0].text == "It's Max!"


async def test_latency_timeline_has_every_stage() -> None:
    async with gemini_stack(reply="Woof, hello! I missed you so much today.") as stack:
        assert stack.session is not None
        await stack.say("Hello Biscuit.")
        await stack.next_reply()
        await stack.say("How are you?")
        await stack.next_reply()
        tracker = stack.session.latency  # type: ignore[attr-defined]
        for _ in range(50):  # the turn closes when its speech handle is done
            if len(tracker.timelines) == 2:
                break
            await asyncio.sleep(0.1)
        timelines = tracker.timelines
        startup = stack.session.startup.timeline.marks  # type: ignore[attr-defined]

    assert len(timelines) == 2
    for t in timelines:
        assert t.speech_end_source == "server_vad_audio"  # the user's real end of speech
        stages = [
            t.speech_end_at,
            t.first_text_at,
            t.first_tts_text_at,
            t.first_tts_audio_at,
            t.first_audio_out_at,
        ]
        assert None not in stages and t.playback_started_at is not None
        assert stages == sorted(stages)  # type: ignore[type-var]
        assert not t.interrupted
    assert "realtime_ready" in startup and "first_agent_audio" in startup
