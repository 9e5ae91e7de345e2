"""RemotePlaybackGuard: honest start for remote avatars, no orphaned segments."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from livekit import rtc
from livekit.agents.voice import io
from livekit.agents.voice.transcription import TranscriptSynchronizer

from halfcascade.avatar import RemotePlaybackGuard

pytestmark = pytest.mark.unit

FRAME = rtc.AudioFrame(np.zeros(480, np.int16).tobytes(), 24000, 1, 480)


class Sink(io.AudioOutput):
    """A remote-avatar-like sink: counts a segment, then the first frame's hand-over
    takes ``open_stream`` seconds (DataStreamAudioOutput opening its byte stream)."""

    def __init__(self, *, open_stream: float = 0.0) -> None:
        super().__init__(label="sink", capabilities=io.AudioOutputCapabilities(pause=False))
        self.open_stream = open_stream
        self._streaming = False

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._streaming:
            await asyncio.sleep(self.open_stream)
            self._streaming = True

    def flush(self) -> None:
        super().flush()
        self._streaming = False

    def clear_buffer(self) -> None:
        if self._pending_playback_count:
            # the avatar confirms the barge-in a little later
            asyncio.get_running_loop().call_later(
                0.02, lambda: self.on_playback_finished(playback_position=0, interrupted=True)
            )


class EarlyCounter(io.AudioOutput):
    """A wrapper that counts a segment before handing the frame on (like a latency probe)."""

    def __init__(self, inner: io.AudioOutput) -> None:
        super().__init__(
            label="early", capabilities=io.AudioOutputCapabilities(pause=False), next_in_chain=inner
        )

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        assert self.next_in_chain is not None
        await self.next_in_chain.capture_frame(frame)

    def flush(self) -> None:
        super().flush()
        assert self.next_in_chain is not None
        self.next_in_chain.flush()

    def clear_buffer(self) -> None:
        assert self.next_in_chain is not None
        self.next_in_chain.clear_buffer()


async def test_start_is_the_avatars_report_not_the_hand_over() -> None:
    sink = Sink()
    guard = RemotePlaybackGuard(sink, start_timeout=1.0)
    starts: list[float] = []
    guard.on("playback_started", lambda ev: starts.append(ev.created_at))
    await guard.capture_frame(FRAME)
    await asyncio.sleep(0.2)
    assert starts == []  # handed over, not playing yet
    shown = time.time()
    sink.on_playback_started(created_at=shown)
    sink.on_playback_started(created_at=shown + 1)  # a duplicate report
    assert starts == [shown] and guard.reports_start is True


async def test_avatar_without_start_reports_gets_the_hand_over_time_once() -> None:
    sink = Sink()
    guard = RemotePlaybackGuard(sink, start_timeout=0.1)
    starts: list[float] = []
    guard.on("playback_started", lambda ev: starts.append(ev.created_at))
    before = time.time()
    await guard.capture_frame(FRAME)
    await asyncio.sleep(0.2)
    assert len(starts) == 1 and before <= starts[0] < before + 0.05
    assert guard.reports_start is False
    guard.flush()
    sink.on_playback_finished(playback_position=0.02, interrupted=False)
    await guard.capture_frame(FRAME)  # learned: the next start is reported at hand-over
    assert len(starts) == 2


async def _barge_in_during_first_frame(top: io.AudioOutput) -> None:
    capture = asyncio.create_task(top.capture_frame(FRAME))
    await asyncio.sleep(0.05)  # the stream is still being opened
    capture.cancel()
    with pytest.raises(asyncio.CancelledError):
        await capture
    top.flush()
    top.clear_buffer()


@pytest.mark.parametrize("guarded", [True, False])
async def test_barge_in_during_hand_over_leaves_no_segment_pending(guarded: bool) -> None:
    """livekit's transcript synchronizer counts a segment only once its first frame is
    through; a wrapper above it that counts earlier needs the cut-off segment settled."""
    sink = Sink(open_stream=0.5)
    tail: io.AudioOutput = RemotePlaybackGuard(sink) if guarded else sink
    sync = TranscriptSynchronizer(next_in_chain_audio=tail, next_in_chain_text=None)
    top = EarlyCounter(sync.audio_output)
    await _barge_in_during_first_frame(top)
    try:
        await asyncio.wait_for(top.wait_for_playout(), 1.0)
        settled = True
    except TimeoutError:
        settled = False
    await sync.aclose()
    assert settled is guarded
