"""The stand-in speaker reports playback the way livekit's room output does."""

from __future__ import annotations

import asyncio

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

from halfcascade.testing.audio_io import SpeakerOutput


def _frame(ms: int = 100) -> rtc.AudioFrame:
    n = 24 * ms
    return rtc.AudioFrame(np.zeros(n, dtype=np.int16).tobytes(), 24000, 1, n)


async def test_clear_buffer_reports_later_from_the_playout_task() -> None:
    speaker = SpeakerOutput()
    finished: list[io.PlaybackFinishedEvent] = []
    speaker.on("playback_finished", finished.append)
    for _ in range(10):
        await speaker.capture_frame(_frame())
    speaker.flush()
    speaker.clear_buffer()
    assert finished == []  # never inside clear_buffer, as the room output
    event = await speaker.wait_for_playout()
    assert event.interrupted and event.playback_position < 1.0
    assert speaker.segments[0].interrupted
    await speaker.aclose()


async def test_a_segment_cleared_before_its_flush_is_reported_at_the_flush() -> None:
    speaker = SpeakerOutput()
    await speaker.capture_frame(_frame())
    speaker.clear_buffer()
    await asyncio.sleep(0.01)
    assert speaker.segments[0].finished_at is None
    speaker.flush()
    event = await speaker.wait_for_playout()
    assert event.interrupted
    await speaker.aclose()
