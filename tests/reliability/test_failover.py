"""Bounded voice failover through a real session: the real plugins against the stand-ins.

The primary is the ElevenLabs plugin behind a FaultProxy (so its socket can hang or drop
mid-reply); the fallback is the OpenAI TTS plugin.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import pytest
from livekit.agents.utils import http_context

from halfcascade import Agent, ElevenLabsVoice, OpenAIBrain, OpenAIVoice, Session
from halfcascade.speech.cache.key import voice_key
from halfcascade.speech.failover import FailoverPolicy, FailoverTTS
from halfcascade.testing import (
    ElevenLabsServer,
    MicrophoneInput,
    OpenAITTSServer,
    RealtimeServer,
    SpeakerOutput,
    synthetic_voice,
)
from halfcascade.testing.faults import FaultProxy

pytestmark = pytest.mark.contract

REPLY = (
    "Woof, hello friend! I found a big red ball in the garden today, so please throw it "
    "far across the park for me."
)


@dataclass
class Rig:
    rt: RealtimeServer
    el: ElevenLabsServer
    backup: OpenAITTSServer
    proxy: FaultProxy
    session: Session
    mic: MicrophoneInput
    speaker: SpeakerOutput

    @property
    def tts(self) -> FailoverTTS:
        assert isinstance(self.session.tts, FailoverTTS)
        return self.session.tts

    async def turn(self) -> float:
        index = len(self.speaker.segments)
        await self.mic.say(synthetic_voice("hey there", 24000))
        async with asyncio.timeout(20):
            seg = await self.speaker.wait_for_segment(index, finished=True)
        return seg.duration


@asynccontextmanager
async def rig(policy: FailoverPolicy | None = None) -> AsyncIterator[Rig]:
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(http_context.open())
        rt = await stack.enter_async_context(RealtimeServer(reply=REPLY, ttft=0.05))
        el = await stack.enter_async_context(ElevenLabsServer(ttfb=0.05))
        backup = await stack.enter_async_context(OpenAITTSServer(ttfb=0.05))
        proxy = await stack.enter_async_context(FaultProxy(el.port))
        session = Session(
            brain=OpenAIBrain(base_url=rt.base_url, api_key="test"),
            voice=ElevenLabsVoice(base_url=proxy.base_url(el.base_url), api_key="test"),
            fallback_voices=[OpenAIVoice(base_url=backup.base_url, api_key="test")],
            failover=policy,
        )
        mic, speaker = MicrophoneInput(), SpeakerOutput()
        session.input.audio, session.output.audio = mic, speaker
        await session.start(Agent(instructions="You are a dog.", style=None))
        stack.push_async_callback(speaker.aclose)
        stack.push_async_callback(session.aclose)
        yield Rig(rt, el, backup, proxy, session, mic, speaker)


def words(text: str) -> list[str]:
    return [w.strip(",.!?").lower() for w in text.split()]


async def test_a_hung_primary_is_abandoned_then_restored_once_healthy() -> None:
    policy = FailoverPolicy(probe_interval=0.3)
    async with rig(policy) as r:
        primary_key = voice_key(r.tts)
        r.proxy.mode = "hang"
        r.proxy.hang_all()
        assert await r.turn() > 2.0  # the whole reply, spoken by the fallback
        assert words(" ".join(q.text for q in r.backup.requests)) == words(REPLY)
        assert not r.tts.health[0].available
        assert voice_key(r.tts) != primary_key  # the phrase cache now keys the fallback
        backup_requests = len(r.backup.requests)
        assert await r.turn() > 2.0  # marked down: straight to the fallback
        r.proxy.mode = "pass"
        r.proxy.drop_hung()
        for _ in range(100):
            if r.tts.health[0].available:
                break
            await asyncio.sleep(0.05)
        assert r.tts.health[0].available, "the probe never restored the primary"
        assert voice_key(r.tts) == primary_key
        contexts = len(r.el.contexts)
        await r.turn()
        assert len(r.el.contexts) > contexts  # the primary speaks again
        assert len(r.backup.requests) >= backup_requests


@pytest.mark.parametrize("hedge", [True, False])
async def test_a_late_phrase_is_already_asked_of_the_next_voice_when_its_deadline_passes(
    hedge: bool,
) -> None:
    async with rig(FailoverPolicy(hedge=hedge, probe_interval=60)) as r:
        failed_at: list[float] = []
        r.tts.on("tts_availability_changed", lambda ev: failed_at.append(time.perf_counter()))
        r.proxy.mode = "hang"
        r.proxy.hang_all()
        assert await r.turn() > 2.0
        first_ask = min(q.arrived_at for q in r.backup.requests)
        assert len(failed_at) == 1  # the primary missed its deadline once, then was down
        if hedge:  # the first phrase reached the fallback before the primary's deadline
            assert first_ask < failed_at[0]
        else:  # only once the deadline passed
            assert first_ask > failed_at[0]
        # hedged or not, the fallback was asked for every word once: none lost or repeated
        assert words(" ".join(q.text for q in r.backup.requests)) == words(REPLY)


async def test_a_primary_that_speaks_in_time_cancels_its_hedge() -> None:
    async with rig(FailoverPolicy(min_samples=1)) as r:
        await r.turn()  # measured: the primary's p95 and the deadline
        # late (past the hedge point, p95 + 0.125 s here) but inside the deadline (p95 + 0.5)
        r.proxy.delay = r.tts.health[0].deadline - 0.3
        await r.turn()
        assert r.backup.requests  # hedged: the fallback was asked too
        assert r.tts.health[0].available and r.tts.failovers == 0
        assert r.tts.health[1].p50 is None  # and never heard: its requests were dropped


async def test_a_reply_cut_mid_way_is_finished_by_the_fallback_without_lost_words() -> None:
    async with rig() as r:
        await r.turn()  # warm: the primary has spoken once
        await r.el.wait_for_contexts(1)

        r.proxy.bandwidth = 32_000  # slower than real time, so the drop lands mid-reply

        async def drop_soon() -> None:
            await r.speaker.wait_for_segment(1)
            await asyncio.sleep(0.3)
            r.proxy.drop_all()

        dropper = asyncio.create_task(drop_soon())
        await r.turn()
        await dropper
        fallback = words(" ".join(q.text for q in r.backup.requests))
        reply = words(REPLY)
        assert fallback, "the fallback never spoke the rest"
        # the rest of the reply, in order, each word once (a word the primary had not
        # finished is spoken again in full; none is lost)
        assert fallback == reply[len(reply) - len(fallback) :]
        assert r.tts.failovers >= 1
