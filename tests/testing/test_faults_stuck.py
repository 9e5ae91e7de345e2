"""The fault runs' definition of a stuck turn: late against the audio's real-time playout."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import pytest
from livekit import rtc

from halfcascade.testing import faults_run
from halfcascade.testing.audio_io import SpeakerOutput

pytestmark = pytest.mark.contract


class _Reply:
    """Stands in for a SpeechHandle whose playout ends at ``ends_at``, or never."""

    def __init__(self, ends_at: float | None) -> None:
        self._ends_at = ends_at

    async def wait_for_playout(self) -> None:
        if self._ends_at is None:
            await asyncio.Event().wait()
        await asyncio.sleep(max(0.0, self._ends_at - time.perf_counter()))


def _frame(seconds: float) -> rtc.AudioFrame:
    samples = int(24000 * seconds)
    return rtc.AudioFrame(b"\0\0" * samples, 24000, 1, samples)


async def _tap_with_burst(seconds: float) -> Any:
    tap = faults_run._Tap(SpeakerOutput(keep_audio=False))
    for _ in range(int(seconds / 0.1)):  # a fast voice: all of it at once
        await tap.capture_frame(_frame(0.1))
    return tap


async def test_a_reply_still_playing_a_burst_of_audio_is_not_stuck(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(faults_run, "_QUIET_LIMIT", 0.5)
    tap = await _tap_with_burst(2.0)
    # playout ends 2 s on, past the quiet limit counted from now: it is playing, not stuck
    reply = _Reply(ends_at=time.perf_counter() + 2.2)
    assert await faults_run._finished(SimpleNamespace(tap=tap), reply)  # type: ignore[arg-type]


async def test_a_reply_that_outlasts_its_audio_by_the_limit_is_stuck(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(faults_run, "_QUIET_LIMIT", 0.5)
    tap = await _tap_with_burst(1.0)
    began = time.perf_counter()
    assert not await faults_run._finished(SimpleNamespace(tap=tap), _Reply(ends_at=None))  # type: ignore[arg-type]
    assert 1.5 <= time.perf_counter() - began < 3.0  # audio (1 s) + limit, polled each 0.5 s


async def test_audio_dropped_by_a_barge_in_does_not_count_as_playing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(faults_run, "_QUIET_LIMIT", 0.5)
    tap = await _tap_with_burst(5.0)
    tap.clear_buffer()
    began = time.perf_counter()
    assert not await faults_run._finished(SimpleNamespace(tap=tap), _Reply(ends_at=None))  # type: ignore[arg-type]
    assert time.perf_counter() - began < 2.0
