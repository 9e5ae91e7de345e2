"""The per-turn and startup timelines on scripted turns: presence and order, not times."""

from __future__ import annotations

import asyncio
import logging

import pytest
from livekit.agents import RunContext, function_tool

from halfcascade import Agent, Session
from halfcascade.latency import LatencySummary, TurnTimeline
from halfcascade.testing import open_stack
from halfcascade.testing.openai_realtime import ReplyContext, ToolCall
from halfcascade.testing.stack import halfcascade_builder


class BallAgent(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You are Biscuit, a puppy who fetches balls.")

    @function_tool
    async def fetch_ball(self, context: RunContext, color: str) -> str:
        """Fetch the ball.

        Args:
            color: the ball's color.
        """
        return f"fetched the {color} ball"


pytestmark = [pytest.mark.contract, pytest.mark.timeout(120)]

LONG = " ".join(f"Sentence {n} is about my favourite squeaky toy." for n in range(8))


def reply(ctx: ReplyContext) -> str:
    if "toys" in ctx.transcript:
        return LONG
    return "Woof, hello! Nice to see you."


def assert_ordered(t: TurnTimeline) -> None:
    stages = [
        t.speech_end_at,
        t.first_text_at,
        t.first_tts_text_at,
        t.first_tts_audio_at,
        t.first_audio_out_at,
    ]
    assert all(s is not None for s in stages), t
    assert stages == sorted(stages), t  # type: ignore[type-var]
    assert t.playback_started_at is not None and t.playback_started_at >= stages[-1]
    assert t.ended_at >= t.playback_started_at


async def test_every_turn_has_every_stage_in_order_and_interruptions_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="halfcascade.latency")
    async with open_stack(reply=reply) as stack:
        session = stack.session
        assert isinstance(session, Session)
        seen: list[TurnTimeline] = []
        session.latency.on("turn", seen.append)

        await stack.say("Hello Biscuit.")
        await stack.next_reply()
        await stack.say("Tell me about your toys.")
        await stack.speaker.wait_for_segment(1)
        await asyncio.sleep(0.8)
        await stack.say("Hello again.")  # barge-in
        await stack.next_reply(index=2)
        for _ in range(50):
            if len(seen) == 3:
                break
            await asyncio.sleep(0.05)
        startup = session.startup.timeline

    assert [t.turn for t in seen] == [1, 2, 3]
    assert [t.interrupted for t in seen] == [False, True, False]
    for t in seen:
        assert t.speech_end_source == "server_vad_audio"
        assert_ordered(t)
        assert t.ttfa is not None and t.tts_ttfb is not None and t.total is not None
    summary = LatencySummary.of(seen)
    assert summary.turns == 3 and summary.interrupted == 1
    assert summary.figures["ttfa"]["n"] == 3  # no turn lost from the summary
    # one structured line per turn, in the KEY=ms form users already log, no user words
    lines = [r.getMessage() for r in caplog.records if "TURN_LATENCY" in r.getMessage()]
    assert len(lines) == 3 and all("TOTAL_TIME_TO_FIRST_AUDIO_MS=" in line for line in lines)
    assert not any("toys" in r.getMessage() for r in caplog.records)
    assert any("LATENCY_SUMMARY TURNS=3 INTERRUPTED=1" in r.getMessage() for r in caplog.records)
    # the job's start: realtime ready and TTS warm before the first agent audio
    for stage in ("realtime_ready", "tts_warm", "first_agent_audio"):
        assert startup.offset(stage) is not None, stage
    assert startup.marks["first_agent_audio"] > max(
        startup.marks["realtime_ready"], startup.marks["tts_warm"]
    )


async def test_a_tool_call_turn_is_one_turn() -> None:
    def tool_reply(ctx: ReplyContext) -> str | ToolCall:
        if ctx.tool_output is None:
            return ToolCall("fetch_ball", {"color": "blue"})
        return "Woof! Got it."

    async with open_stack(reply=tool_reply, build=halfcascade_builder(BallAgent())) as stack:
        session = stack.session
        assert isinstance(session, Session)
        await stack.say("Fetch the blue ball!")
        await stack.next_reply()
        for _ in range(50):
            if session.latency.timelines:
                break
            await asyncio.sleep(0.05)
        (turn,) = session.latency.timelines
    assert not turn.interrupted
    assert_ordered(turn)
