"""A single voice (no fallback, no ``failover=``) whose socket drops mid-reply.

livekit's own path ends the reply's audio at the drop while the model is still writing its
text (the ``playback_finished called before text/audio input is done`` warning) and drops
the rest of the reply. ``Session`` puts a single voice behind the failover too: the rest is
spoken by a fresh request of the same voice once it reconnects, and the audio never ends
before the text.
"""

from __future__ import annotations

import asyncio

import pytest
from livekit.agents.utils import http_context
from livekit.agents.voice.transcription import TranscriptSynchronizer

from halfcascade import Agent, ElevenLabsVoice, OpenAIBrain, Session
from halfcascade.testing import (
    ElevenLabsServer,
    MicrophoneInput,
    RealtimeServer,
    SpeakerOutput,
    synthetic_voice,
)
from halfcascade.testing.faults import FaultProxy
from halfcascade.testing.faults_run import WarningLog

pytestmark = pytest.mark.contract

REPLY = (
    "Woof, hello friend! I found a big red ball in the garden today, and I want to play "
    "fetch with you right now, so please throw it far across the green park for me."
)


def words(text: str) -> list[str]:
    return [w.strip(",.!?").lower() for w in text.split()]


async def test_a_single_voice_dropped_mid_reply_speaks_the_rest_after_reconnecting() -> None:
    with WarningLog() as log:
        async with (
            http_context.open(),
            RealtimeServer(reply=REPLY, ttft=0.05) as rt,
            ElevenLabsServer(ttfb=0.05) as el,
            FaultProxy(el.port) as proxy,
        ):
            session = Session(
                brain=OpenAIBrain(base_url=rt.base_url, api_key="test"),
                voice=ElevenLabsVoice(base_url=proxy.base_url(el.base_url), api_key="test"),
            )
            mic, speaker = MicrophoneInput(), SpeakerOutput()
            # the synchronizer RoomIO puts in front of a room's audio: it logs the warning
            sync = TranscriptSynchronizer(next_in_chain_audio=speaker, next_in_chain_text=None)
            session.input.audio = mic
            session.output.audio, session.output.transcription = sync.audio_output, sync.text_output
            await session.start(Agent(instructions="You are a dog.", style=None))
            try:
                proxy.bandwidth = 32_000  # slower than real time: the drop lands mid-reply

                async def drop_soon() -> None:
                    await speaker.wait_for_segment(0)
                    await asyncio.sleep(1.5)  # a few words heard in full
                    proxy.drop_all()
                    proxy.bandwidth = None  # the rest at full speed

                dropper = asyncio.create_task(drop_soon())
                await mic.say(synthetic_voice("hey there", 24000))
                async with asyncio.timeout(30):
                    segment = await speaker.wait_for_segment(0, finished=True)
                await dropper
            finally:
                await session.aclose()
                await sync.aclose()
                await speaker.aclose()

    assert dict(log.lifecycle()) == {}
    assert not segment.interrupted
    first, *resumed = el.contexts
    assert resumed, "the rest of the reply was never requested again"
    rest = words(" ".join(c.text for c in resumed))
    reply = words(REPLY)
    # the rest of the reply, in order, each word once (a word not heard in full is spoken
    # again in full; none is lost), and it was spoken after the reconnect
    assert 0 < len(rest) < len(reply)
    assert rest == reply[len(reply) - len(rest) :]
    assert words(first.text) == reply[: len(words(first.text))]  # the cut request
    assert all(c.first_audio_sent_at is not None for c in resumed)
