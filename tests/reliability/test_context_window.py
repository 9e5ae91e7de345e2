"""``OpenAIBrain(context_items=...)``: the conversation is trimmed between turns, on the
service too, and never loses the user's newest words."""

from __future__ import annotations

import asyncio

import pytest
from _realtime_stack import standin_session
from livekit.agents.utils import http_context

from halfcascade import Agent, OpenAIBrain
from halfcascade.errors import ConfigError
from halfcascade.testing import ElevenLabsServer, RealtimeServer, synthetic_voice
from halfcascade.testing.faults_run import WarningLog

pytestmark = pytest.mark.contract

TURNS = 8


async def test_a_long_conversation_is_trimmed_between_turns_on_the_service_too() -> None:
    with WarningLog() as log:
        async with (
            http_context.open(),
            RealtimeServer(reply="Woof, I hear you!") as rt,
            ElevenLabsServer() as tts,
        ):
            session, mic, speaker = standin_session(
                rt, tts.base_url, turn_detection="server_vad", silence_ms=200, context_items=4
            )
            agent = Agent(instructions="You are a dog.", style=None)
            await session.start(agent)
            try:
                for turn in range(TURNS):
                    await mic.say(synthetic_voice(f"hey there number {turn}", 24000))
                    async with asyncio.timeout(20):
                        seg = await speaker.wait_for_segment(turn, finished=True)
                    assert seg.duration > 0.3 and not seg.interrupted
                    await asyncio.sleep(0.3)  # the trim runs once the agent is listening
                items = agent.chat_ctx.items
                kept = [i for i in items if i.type != "message" or i.role != "system"]
                remote = [i.id for i in agent.realtime_llm_session.chat_ctx.items]
                history = len(session.history.items)
                trims = session.context_window.trims if session.context_window else 0
            finally:
                await session.aclose()
    added = [e["item"]["id"] for e in rt.sent if e.get("type") == "conversation.item.added"]
    deleted = [e["item_id"] for e in rt.sent if e.get("type") == "conversation.item.deleted"]
    assert trims >= 2 and deleted  # trimmed more than once, on the service
    assert 4 <= len(kept) <= 5  # the window, plus less than a quarter of slack
    assert [i.id for i in kept] == remote  # livekit's two copies agree
    assert len(added) - len(deleted) == len(remote)  # and the service holds the same
    # only the oldest went: every deleted item was added before every item still kept
    assert max(added.index(d) for d in deleted) < min(added.index(i) for i in remote)
    assert kept[-1].type == "message" and kept[-1].role == "assistant"
    assert kept[-2].role == "user"  # the newest exchange is whole
    assert history >= 2 * TURNS  # the transcript livekit reports is left whole
    assert not log.counts(), log.counts()  # no warning: no rejected delete, no failed trim


async def test_without_a_window_the_conversation_is_kept_whole() -> None:
    async with (
        http_context.open(),
        RealtimeServer(reply="Woof!") as rt,
        ElevenLabsServer() as tts,
    ):
        session, mic, speaker = standin_session(
            rt, tts.base_url, turn_detection="server_vad", silence_ms=200, context_items=None
        )
        await session.start(Agent(instructions="You are a dog.", style=None))
        try:
            for turn in range(4):
                await mic.say(synthetic_voice(f"hello number {turn}", 24000))
                async with asyncio.timeout(20):
                    await speaker.wait_for_segment(turn, finished=True)
        finally:
            await session.aclose()
    assert session.context_window is None
    assert not [e for e in rt.sent if e.get("type") == "conversation.item.deleted"]


def test_the_window_is_checked() -> None:
    with pytest.raises(ConfigError, match="context_items"):
        OpenAIBrain(api_key="k", context_items=2)
