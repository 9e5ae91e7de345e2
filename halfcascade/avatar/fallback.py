"""Audio-only output used when an avatar drops out mid-session.

Before ``session.start()`` an avatar that fails simply leaves ``session.output.audio``
unset and livekit's RoomIO publishes the agent's audio itself. Once the session runs, RoomIO
no longer creates one, so an avatar that leaves (a Runway session reaching its duration cap,
a provider crash) would leave the agent mute. :class:`RoomAudioOutput` publishes the agent's
own microphone track on first use and plays into it, reporting playback like RoomIO.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from livekit import rtc
from livekit.agents.voice import io

__all__ = ["RoomAudioOutput"]


class RoomAudioOutput(io.AudioOutput):
    """Publishes the agent's audio to the room (lazily) and reports its playback.

    Args:
        room: a connected room.
        sample_rate: the track's sample rate.
        track_name: name of the published track.
    """

    def __init__(
        self, room: rtc.Room, *, sample_rate: int = 24000, track_name: str = "agent_audio"
    ) -> None:
        super().__init__(
            label="halfcascade.RoomAudioOutput",
            next_in_chain=None,
            sample_rate=sample_rate,
            capabilities=io.AudioOutputCapabilities(pause=False),
        )
        self._room, self._name = room, track_name
        self._source = rtc.AudioSource(sample_rate, 1, queue_size_ms=200)
        self._publication: rtc.LocalTrackPublication | None = None
        self._publish_lock = asyncio.Lock()
        self._started_at: float | None = None
        self._pushed = 0.0
        self._waiter: asyncio.Task[None] | None = None

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        """Play a frame (publishing the track first if needed)."""
        await self._publish()
        await super().capture_frame(frame)
        if self._started_at is None:
            self._started_at, self._pushed = time.perf_counter(), 0.0
            self.on_playback_started(created_at=time.time())
        self._pushed += frame.duration
        await self._source.capture_frame(frame)

    def flush(self) -> None:
        """Report the segment finished once the source has played it out."""
        super().flush()
        if self._started_at is None:
            return
        self._waiter = asyncio.create_task(self._finish_when_played(self._pushed))
        self._started_at = None

    def clear_buffer(self) -> None:
        """Stop now and report the segment interrupted."""
        self._source.clear_queue()
        played = 0.0
        if self._started_at is not None:
            played = min(self._pushed, time.perf_counter() - self._started_at)
            self._started_at = None
        elif self._waiter is not None and not self._waiter.done():
            self._waiter.cancel()
            played = self._pushed
        else:
            return
        self.on_playback_finished(playback_position=played, interrupted=True)

    async def _finish_when_played(self, pushed: float) -> None:
        await self._source.wait_for_playout()
        self.on_playback_finished(playback_position=pushed, interrupted=False)

    async def _publish(self) -> None:
        async with self._publish_lock:
            if self._publication is not None:
                return
            track = rtc.LocalAudioTrack.create_audio_track(self._name, self._source)
            opts = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
            self._publication = await self._room.local_participant.publish_track(track, opts)

    async def aclose(self) -> None:
        """Unpublish the track and release the source."""
        if self._waiter is not None:
            self._waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._waiter
        if self._publication is not None and self._room.isconnected():
            with contextlib.suppress(Exception):
                await self._room.local_participant.unpublish_track(self._publication.sid)
        await self._source.aclose()
