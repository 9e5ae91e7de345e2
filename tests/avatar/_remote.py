"""An in-process remote avatar that behaves like livekit's DataStreamAudioOutput protocol.

:class:`RemoteStyleOutput` is the agent side and :class:`_RemoteReceiver` the avatar side,
joined by :class:`_Wire`, an ordered link with random latency. What it copies from
``DataStreamAudioOutput`` / ``DataStreamAudioReceiver`` (livekit-agents 1.8.9):

- the first frame of a segment opens a byte stream (one round trip) and every write may
  wait; a capture after a barge-in waits for the clear to be acknowledged;
- playback start and finish are reported by the avatar, over the wire, and start only if
  the sender asked for it (``wait_playback_start``);
- ``clear_buffer`` is an RPC; the receiver drops what it holds and still sends an end of
  segment for the stream it cleared; with no finish report within ``clear_timeout`` the
  sender marks the segment finished itself.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Literal

from livekit import rtc
from livekit.agents import utils
from livekit.agents.voice import io
from livekit.agents.voice.avatar import AudioReceiver, AudioSegmentEnd

from halfcascade.avatar.local import AvatarPlayer, LocalVideoGenerator


class _Wire:
    """Ordered delivery with random one-way latency."""

    def __init__(self, rng: random.Random, latency: tuple[float, float]) -> None:
        self._rng, self._latency = rng, latency
        self._last = 0.0

    def send(self, fn: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        # strictly increasing: asyncio runs timers due at the same instant in any order
        due = max(self._last + 1e-6, loop.time() + self._rng.uniform(*self._latency))
        self._last = due
        loop.call_at(due, fn)

    async def round_trip(self) -> None:
        done = asyncio.get_running_loop().create_future()
        self.send(lambda: self.send(lambda: done.done() or done.set_result(None)))
        await done


class _RemoteReceiver(AudioReceiver, rtc.EventEmitter[Literal["clear_buffer"]]):
    def __init__(self, back: _Wire, sender: RemoteStyleOutput) -> None:
        super().__init__()
        self._back, self._sender = back, sender
        self._ch = utils.aio.Chan[rtc.AudioFrame | AudioSegmentEnd]()
        self._open = False

    def on_frame(self, frame: rtc.AudioFrame) -> None:
        self._open = True
        self._ch.send_nowait(frame)

    def on_end(self) -> None:
        if self._open:
            self._open = False
            self._ch.send_nowait(AudioSegmentEnd())

    def on_clear(self) -> None:
        while not self._ch.empty():
            self._ch.recv_nowait()
        self.emit("clear_buffer")  # type: ignore[arg-type]
        if self._open:  # like DataStreamAudioReceiver: the cleared stream still ends
            self._open = False
            self._ch.send_nowait(AudioSegmentEnd())

    def notify_playback_started(self) -> None:
        if self._sender.wait_playback_start:
            self._back.send(lambda: self._sender.on_playback_started(created_at=time.time()))

    def notify_playback_finished(self, playback_position: float, interrupted: bool) -> None:
        self._back.send(
            lambda: self._sender.remote_finished(playback_position, interrupted=interrupted)
        )

    def __aiter__(self) -> AsyncIterator[rtc.AudioFrame | AudioSegmentEnd]:
        return self._ch.__aiter__()

    async def aclose(self) -> None:
        self._ch.close()


class RemoteStyleOutput(io.AudioOutput):
    """Agent-side sink streaming to an in-process remote avatar over a latent wire."""

    def __init__(self, *, seed: int, wait_playback_start: bool = True) -> None:
        super().__init__(
            label="RemoteStyleOutput",
            next_in_chain=None,
            sample_rate=24000,
            capabilities=io.AudioOutputCapabilities(pause=False),
        )
        rng = random.Random(seed)
        self._rng = rng
        self._out, self._back = _Wire(rng, (0.004, 0.03)), _Wire(rng, (0.004, 0.03))
        self.wait_playback_start = wait_playback_start
        self._receiver = _RemoteReceiver(self._back, self)
        self._player = AvatarPlayer(audio_recv=self._receiver, video_gen=LocalVideoGenerator())
        self._streaming = False
        self._pushed = 0.0
        self._clear_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self._player.start()

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        while self._clear_task is not None and not self._clear_task.done():
            await asyncio.shield(self._clear_task)
        await super().capture_frame(frame)
        if not self._streaming:
            await self._out.round_trip()  # open the byte stream
            self._streaming, self._pushed = True, 0.0
            if not self.wait_playback_start:
                self.on_playback_started(created_at=time.time())
        if self._rng.random() < 0.2:
            await asyncio.sleep(self._rng.uniform(0.0, 0.01))  # write back-pressure
        self._out.send(lambda f=frame: self._receiver.on_frame(f))  # type: ignore[misc]
        self._pushed += frame.duration

    def flush(self) -> None:
        super().flush()
        if not self._streaming:
            return
        self._streaming = False
        self._out.send(self._receiver.on_end)

    def clear_buffer(self) -> None:
        if not self._pending_playback_count:
            return
        if self._clear_task is not None and not self._clear_task.done():
            return
        self._clear_task = asyncio.create_task(self._clear(self._pushed))

    async def _clear(self, pushed: float) -> None:
        captured = self.captured_playout_segments
        self._out.send(self._receiver.on_clear)
        try:
            await asyncio.wait_for(self.wait_for_playout(), 2.0)
        except TimeoutError:
            done = self.captured_playout_segments - self._pending_playback_count
            for _ in range(captured - done):
                self.on_playback_finished(playback_position=pushed, interrupted=True)

    def remote_finished(self, position: float, *, interrupted: bool) -> None:
        self.on_playback_finished(playback_position=position, interrupted=interrupted)

    async def aclose(self) -> None:
        if self._clear_task is not None:
            self._clear_task.cancel()
        await self._player.aclose()
