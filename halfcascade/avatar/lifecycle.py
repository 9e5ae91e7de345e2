"""Honest playback reporting for avatar outputs.

livekit decides when a reply "started" and "finished" from what the audio sink reports, and
waits for every flushed segment to be reported finished before the next reply. Avatar sinks
get this wrong in small ways that add up to wrong captions, a wrong latency timeline and,
at worst, a turn that never ends:

- ``QueueAudioOutput`` reports playback start when audio is *handed over*, long before the
  face moves; with ``wait_playback_start=True`` it relies on ``AvatarRunner``, whose
  start report goes missing for the next reply after a barge-in (its playback position is
  reset before an in-flight frame lands) and arrives for a segment that no longer exists.
- A segment cleared before the runner read any of it is never reported, so the session
  waits for it forever.

:class:`AvatarAudioOutput` is the in-process sink (session side) and ``AudioReceiver``
(runner side) in one, keeping its own per-segment books: exactly one start and one finish
per captured segment, start when the avatar takes the audio (or says it plays), finish
when it says so, interrupted segments it never saw finished by the sink itself, and
watchdogs so nothing waits for a report that is not coming.
:class:`RemotePlaybackGuard` does the same for a remote avatar's
``DataStreamAudioOutput``: start when the avatar reports it (``lk.playback_started``),
else at hand-over after ``start_timeout``, once; and a reply cut off while its first frame
is being handed over is settled for every wrapper above instead of left pending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal

from livekit import rtc
from livekit.agents import utils
from livekit.agents.voice import io
from livekit.agents.voice.avatar import AudioReceiver, AudioSegmentEnd
from livekit.agents.voice.io import _AudioSinkProxy, _CaptureCancelledEvent

__all__ = ["AvatarAudioOutput", "RemotePlaybackGuard"]

logger = logging.getLogger("halfcascade.avatar.lifecycle")

_END = AudioSegmentEnd()


@dataclass(slots=True, eq=False)
class _Segment:
    captured_at: float
    pushed: float = 0.0
    flushed: bool = False
    delivered_at: float | None = None
    started: bool = False
    timer: asyncio.TimerHandle | None = None  # finish or barge-in watchdog
    start_timer: asyncio.TimerHandle | None = None


class AvatarAudioOutput(io.AudioOutput, AudioReceiver, rtc.EventEmitter[Literal["clear_buffer"]]):
    """The session's audio sink and the avatar runner's audio source, with honest reports.

    Args:
        sample_rate: rate the avatar wants (the session resamples to it).
        on_clear: called synchronously on barge-in, before the runner hears of it (the local
            avatar clears its generator here so no stale frame slips out).
        start_timeout: seconds after the avatar took a segment's first audio without it
            saying playback started; then the start is reported at that hand-over time.
        finish_slack: seconds past a segment's audio duration to wait for the avatar's
            finish report before reporting it anyway.
        clear_timeout: seconds to wait for the avatar to confirm a barge-in.
    """

    def __init__(
        self,
        *,
        sample_rate: int | None = None,
        on_clear: Callable[[], None] | None = None,
        start_timeout: float = 0.5,
        finish_slack: float = 5.0,
        clear_timeout: float = 2.0,
    ) -> None:
        super().__init__(
            label="halfcascade.AvatarAudioOutput",
            next_in_chain=None,
            sample_rate=sample_rate,
            capabilities=io.AudioOutputCapabilities(pause=False),
        )
        self._on_clear = on_clear
        self._start_timeout = start_timeout
        self._finish_slack = finish_slack
        self._clear_timeout = clear_timeout
        self._chan = utils.aio.Chan[tuple[_Segment, rtc.AudioFrame | AudioSegmentEnd]]()
        self._segments: list[_Segment] = []
        self._current: _Segment | None = None
        self.watchdog_fired = 0
        """How many times a report had to be made up because the avatar never sent it."""

    # -- session side ----------------------------------------------------------------------

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        """Queue a frame for the avatar."""
        await super().capture_frame(frame)
        if self._current is None:
            self._current = _Segment(captured_at=time.perf_counter())
            self._segments.append(self._current)
        self._current.pushed += frame.duration
        self._chan.send_nowait((self._current, frame))

    def flush(self) -> None:
        """End the current segment."""
        super().flush()
        seg, self._current = self._current, None
        if seg is None:
            return
        seg.flushed = True
        self._chan.send_nowait((seg, _END))
        due = seg.captured_at + seg.pushed + self._finish_slack - time.perf_counter()
        self._arm(seg, max(due, self._finish_slack), "finish")

    def clear_buffer(self) -> None:
        """Barge-in: drop queued audio, tell the avatar, settle what it never saw."""
        while True:
            try:
                self._chan.recv_nowait()
            except utils.aio.channel.ChanEmpty:
                break
        self._current = None
        if self._on_clear is not None:
            self._on_clear()
        self.emit("clear_buffer")  # type: ignore[arg-type]
        for seg in list(self._segments):
            if seg.delivered_at is None:
                self._finish(seg, 0.0, interrupted=True)
            else:
                self._arm(seg, self._clear_timeout, "clear")

    # -- avatar side (AudioReceiver) -------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[rtc.AudioFrame | AudioSegmentEnd]:
        return self._frames()

    async def _frames(self) -> AsyncIterator[rtc.AudioFrame | AudioSegmentEnd]:
        async for seg, item in self._chan:
            if seg not in self._segments:
                continue  # already settled by a barge-in
            if seg.delivered_at is None and isinstance(item, rtc.AudioFrame):
                seg.delivered_at = time.time()
                self._arm(seg, self._start_timeout, "start")
            yield item

    def notify_playback_started(self) -> None:
        """The avatar started playing: report it for the segment it is playing."""
        seg = next((s for s in self._segments if s.delivered_at and not s.started), None)
        if seg is None:
            logger.debug("playback start reported for no pending segment, ignored")
            return
        self._start(seg, time.time())

    def notify_playback_finished(self, playback_position: float, interrupted: bool) -> None:
        """The avatar finished (or was cut off): report it for its oldest segment."""
        seg = next((s for s in self._segments if s.delivered_at is not None), None)
        if seg is None:
            logger.debug("playback finish reported for no pending segment, ignored")
            return
        self._finish(seg, playback_position, interrupted=interrupted)

    async def aclose(self) -> None:
        """Settle pending segments and stop the avatar's audio stream."""
        for seg in list(self._segments):
            self._finish(seg, 0.0, interrupted=True)
        self._chan.close()

    # -- books -----------------------------------------------------------------------------

    def _start(self, seg: _Segment, created_at: float) -> None:
        if seg.started:
            return
        seg.started = True
        if seg.start_timer is not None:
            seg.start_timer.cancel()
            seg.start_timer = None
        self.on_playback_started(created_at=created_at)

    def _finish(self, seg: _Segment, position: float, *, interrupted: bool) -> None:
        if seg not in self._segments:
            return
        if seg.delivered_at is not None and not seg.started:
            self._start(seg, seg.delivered_at)  # it played: the start was never reported
        self._segments.remove(seg)
        for timer in (seg.timer, seg.start_timer):
            if timer is not None:
                timer.cancel()
        self.on_playback_finished(playback_position=position, interrupted=interrupted)

    def _arm(self, seg: _Segment, delay: float, why: Literal["start", "finish", "clear"]) -> None:
        loop = asyncio.get_running_loop()
        if why == "start":
            seg.start_timer = loop.call_later(delay, self._assume_started, seg)
            return
        if seg.timer is not None:
            seg.timer.cancel()
        seg.timer = loop.call_later(delay, self._expire, seg, why)

    def _assume_started(self, seg: _Segment) -> None:
        seg.start_timer = None
        if seg in self._segments and not seg.started and seg.delivered_at is not None:
            self._start(seg, seg.delivered_at)

    def _expire(self, seg: _Segment, why: Literal["finish", "clear"]) -> None:
        seg.timer = None
        if seg not in self._segments:
            return
        self.watchdog_fired += 1
        logger.warning(
            "avatar did not report the end of playback in time, reporting it for the avatar",
            extra={"reason": why, "pushed": round(seg.pushed, 3)},
        )
        self._finish(seg, seg.pushed if why == "finish" else 0.0, interrupted=why == "clear")


class RemotePlaybackGuard(io.AudioOutput):
    """Honest playback reports for a remote avatar's ``DataStreamAudioOutput``.

    - **Start** is the avatar's ``lk.playback_started`` (build the output with
      ``wait_playback_start=True``). An avatar that does not send it within
      ``start_timeout`` of the first frame gets its start at hand-over, and from then on
      (logged once) at hand-over directly. Exactly one start per segment goes up.
    - **A barge-in during the hand-over of a reply's first frame** (the byte stream being
      opened) leaves a segment the sink counted but the wrappers above never will:
      livekit's transcript synchronizer counts a segment only once its first frame is
      through. A wrapper above it that counts earlier would wait for that segment forever.
      Its finish is therefore passed up as a capture cancellation, which every wrapper
      settles whether or not it counted the segment.

    Args:
        inner: the avatar's audio output.
        start_timeout: seconds to wait for the avatar's own start report.
    """

    def __init__(self, inner: io.AudioOutput, *, start_timeout: float = 1.5) -> None:
        super().__init__(
            label="halfcascade.RemotePlaybackGuard",
            next_in_chain=inner,
            sample_rate=inner.sample_rate,
            capabilities=io.AudioOutputCapabilities(pause=False),
        )
        self._start_timeout = start_timeout
        self._segment = 0
        self._handed_at: float | None = None
        self._handed: dict[int, float] = {}  # hand-over time of segments not yet finished
        self._started_seg = -1
        self._orphans: set[int] = set()
        self._timer: asyncio.TimerHandle | None = None
        self.reports_start: bool | None = None
        """``True`` once the avatar reported a start itself, ``False`` once it did not."""

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        """Pass the frame on; remember when a segment's first frame was handed over."""
        first = self._handed_at is None
        await super().capture_frame(frame)
        if first:
            self._segment = self.captured_playout_segments
        assert self.next_in_chain is not None
        try:
            await self.next_in_chain.capture_frame(frame)
        except asyncio.CancelledError:
            if first:
                self._orphans.add(self._segment)
            raise
        if first and self._handed_at is None:
            self._handed_at = self._handed[self._segment] = time.time()
            if self.reports_start is False:
                self._report(self._segment, self._handed_at)
            else:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(self._start_timeout, self._assume, self._segment)

    def swap_sink(self, sink: io.AudioOutput) -> None:
        """Put ``sink`` under the guard (a renewed avatar session, the audio-only fallback).

        A segment still playing on the old sink is finished as interrupted.
        """
        proxy = self.next_in_chain
        if not isinstance(proxy, _AudioSinkProxy):
            raise TypeError("RemotePlaybackGuard lost its sink proxy")
        proxy.set_next_in_chain(sink)
        self._handed_at = None

    def flush(self) -> None:
        """End the segment."""
        super().flush()
        assert self.next_in_chain is not None
        self.next_in_chain.flush()
        self._handed_at = None

    def clear_buffer(self) -> None:
        """Barge-in: pass it on."""
        assert self.next_in_chain is not None
        self.next_in_chain.clear_buffer()
        self._handed_at = None

    def _forward_next_playback_started(self, ev: io.PlaybackStartedEvent) -> None:
        if self._started_seg >= self._segment or self._segment in self._orphans:
            return  # already reported (assumed) for this segment, or never handed over
        if self.reports_start is None:
            self.reports_start = True
        self._report(self._segment, ev.created_at)

    def _forward_next_playback_finished(self, ev: io.PlaybackFinishedEvent) -> None:
        finishing = self.captured_playout_segments - self._pending_playback_count + 1
        if finishing in self._orphans:
            self._orphans.discard(finishing)
            self._dispatch_playback_finished(
                _CaptureCancelledEvent(
                    playback_position=ev.playback_position, interrupted=ev.interrupted
                )
            )
            return
        handed = self._handed.pop(finishing, None)
        played = ev.playback_position > 0 or not ev.interrupted
        if self._started_seg < finishing and handed is not None and played:
            self._report(finishing, handed)  # it played, but the start was never reported
        super()._forward_next_playback_finished(ev)

    def _assume(self, segment: int) -> None:
        self._timer = None
        if self._started_seg >= segment or self._handed_at is None:
            return
        if self.reports_start is None:
            self.reports_start = False
            logger.info("avatar does not report playback start; using the hand-over time")
        self._report(segment, self._handed_at)

    def _report(self, segment: int, created_at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._started_seg = segment
        self.on_playback_started(created_at=created_at)
