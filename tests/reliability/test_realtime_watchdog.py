"""The realtime socket watchdog leaves a slow but live service alone (the stall itself is
in ``test_faults.py``: a half-open socket noticed, the repeated words answered)."""

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


async def test_a_slow_first_token_is_probed_not_reconnected() -> None:
    # first text 3 s after the turn: past half the stall timeout (1 s) three times over
    with WarningLog() as log:
        async with (
            http_context.open(),
            RealtimeServer(reply="Hi there, friend!", ttft=3.0) as rt,
            ElevenLabsServer() as tts,
        ):
            session, mic, speaker = standin_session(
                rt, tts.base_url, turn_detection="server_vad", silence_ms=200, stall_timeout=2.0
            )
            await session.start(Agent(instructions="You are a dog.", style=None))
            try:
                await mic.say(synthetic_voice("hey there", 24000))
                async with asyncio.timeout(20):
                    seg = await speaker.wait_for_segment(0, finished=True)
                connections = sum(1 for e in rt.sent if e.get("type") == "session.created")
                probes = [
                    e
                    for e in rt.received
                    if e.get("type") == "session.update" and e["session"] == {"type": "realtime"}
                ]
            finally:
                await session.aclose()
    assert seg.duration > 0.5 and not seg.interrupted  # the reply was heard in full
    assert probes  # the silence was probed, and the service answered
    assert log.counts()["realtime connection stalled, reconnecting"] == 0
    assert connections == 1  # one socket all along


def test_the_stall_timeout_is_checked() -> None:
    with pytest.raises(ConfigError, match="stall_timeout"):
        OpenAIBrain(api_key="k", stall_timeout=0.2)
    assert OpenAIBrain(api_key="k", stall_timeout=None).stall_timeout is None
