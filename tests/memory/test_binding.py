"""MemoryBinding against livekit's own session events, without servers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from livekit.agents import Agent, AgentSession, llm
from livekit.agents.voice.events import (
    AgentStateChangedEvent,
    ConversationItemAddedEvent,
    UserInputTranscribedEvent,
)

from halfcascade import StoreError
from halfcascade.memory import (
    Memory,
    MemoryBinding,
    MemoryConfig,
    SQLiteMemoryStore,
    WriteQueue,
    attach,
)

pytestmark = pytest.mark.unit


def say(session: AgentSession[None], text: str, *, audio: bool = False) -> None:
    if audio:  # the realtime model's input transcription
        session.emit(
            "user_input_transcribed", UserInputTranscribedEvent(transcript=text, is_final=True)
        )
    msg = llm.ChatMessage(role="user", content=[text])
    session.emit("conversation_item_added", ConversationItemAddedEvent(item=msg))


def turn_done(session: AgentSession[None]) -> None:
    ev = AgentStateChangedEvent(old_state="speaking", new_state="listening")
    session.emit("agent_state_changed", ev)


def text(agent: Agent) -> str:
    assert isinstance(agent.instructions, str)
    return agent.instructions


async def until(pred: Callable[[], bool], wait: float = 3.0) -> None:
    for _ in range(int(wait / 0.01)):  # background work: poll for its visible effect
        if pred():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def test_facts_refresh_the_block_and_forget_removes_them(tmp_path: Path) -> None:
    async with SQLiteMemoryStore(tmp_path / "m.db") as store:
        await store.remember("u1", Memory(text="The user's dog is called Rex.", key="dog.name"))
        memory = MemoryBinding(store, user_id="u1")
        agent = Agent(instructions=await memory.prepare("You are Biscuit."))
        assert "Rex" in text(agent)
        session: AgentSession[None] = AgentSession()
        async with memory.attach(session, agent):
            say(session, "My dog is called Max now.", audio=True)  # heard twice, handled once
            await until(lambda: "Max" in text(agent))
            assert "Rex" not in text(agent)
            assert text(agent).startswith("You are Biscuit.\n\n")
            say(session, "Please forget about my dog.")
            await until(lambda: "dog" not in text(agent))
            assert text(agent) == "You are Biscuit."
        assert await store.count("u1") == 0


async def test_concurrent_users_on_one_writer_stay_apart(tmp_path: Path) -> None:
    async with SQLiteMemoryStore(tmp_path / "m.db") as store:
        writer = WriteQueue(store)
        agents: dict[str, Agent] = {}
        bindings = []
        for user in ("alice", "bob", "carol"):
            agents[user] = Agent(instructions="P")
            session: AgentSession[None] = AgentSession()
            binding = MemoryBinding(store, user_id=user, writer=writer)
            bindings.append((user, session, binding.attach(session, agents[user])))
        for user, session, _ in bindings:
            say(session, f"My name is {user}.")
        await writer.flush(5)
        for user, _, binding in bindings:
            name, agent = user.capitalize(), agents[user]
            await until(lambda n=name, a=agent: n in text(a))  # type: ignore[misc]
            others = {"alice", "bob", "carol"} - {user}
            assert not any(o.capitalize() in text(agents[user]) for o in others)
            # the block shows a fact once it is submitted; the store has it once it landed
            assert await writer.flush(5)
            assert [m.text for m in await store.recall(user, "")] == [
                f"The user's name is {user.capitalize()}."
            ]
            await binding.aclose()
        await writer.aclose()


class _DownStore:
    """A store whose backend is unreachable (or slow)."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay

    async def remember(self, user_id: str, memory: Memory) -> Memory:
        raise StoreError("down")

    async def recall(self, user_id: str, query: str, *, limit: int = 5) -> list[Memory]:
        await asyncio.sleep(self.delay)
        raise StoreError("down")

    async def forget(self, user_id: str, memory_ids: Sequence[str]) -> int:
        raise StoreError("down")

    async def count(self, user_id: str) -> int:
        raise StoreError("down")

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize("delay", [0.0, 5.0])
async def test_store_down_or_slow_never_blocks_and_session_facts_still_show(delay: float) -> None:
    cfg = MemoryConfig(connect_budget=0.1, refresh_budget=0.1, drain_timeout=0.1)
    store = _DownStore(delay=delay)
    memory = MemoryBinding(store, user_id="u1", config=cfg)
    start = time.perf_counter()
    agent = Agent(instructions=await memory.prepare("P"))
    assert text(agent) == "P" and time.perf_counter() - start < 0.5
    session: AgentSession[None] = AgentSession()
    async with memory.attach(session, agent):
        say(session, "I love jazz")
        turn_done(session)
        # stale is fine, late is not: the fact heard this session is shown from memory
        await until(lambda: "The user loves jazz." in text(agent))
        start = time.perf_counter()
        assert not await memory.refresh()
        assert time.perf_counter() - start < 0.5
        assert memory.writer.pending == 1  # queued, retrying


async def test_attach_helper_and_close_cancels_every_task(tmp_path: Path) -> None:
    async with SQLiteMemoryStore(tmp_path / "m.db") as store:
        before = asyncio.all_tasks()
        agent = Agent(instructions="P")
        session: AgentSession[None] = AgentSession()
        async with attach(session, agent, store=store, user_id="u1") as memory:
            assert memory.user_id == "u1"
            say(session, "I live in Porto")
        await asyncio.sleep(0)
        assert asyncio.all_tasks() - before == set()
        # what was heard right before close still landed
        assert [m.text for m in await store.recall("u1", "")] == ["The user lives in Porto."]
