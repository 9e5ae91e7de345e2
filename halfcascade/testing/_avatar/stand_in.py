"""The provider's avatar participant, played by halfcascade's local avatar.

It joins the room with the token the agent gave the provider, receives the agent's audio
over livekit's data-stream protocol (``DataStreamAudioReceiver``) and publishes a face and
the audio through livekit's ``AvatarRunner`` driving :class:`LocalVideoGenerator`, so the
whole remote-avatar protocol runs against a real livekit-server. It leaves on
``END_CALL``, after ``leave_after`` seconds, or on :meth:`StandInAvatar.aclose`;
:meth:`StandInAvatar.drop` makes it vanish mid-reply (fault tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import jwt
from livekit import rtc
from livekit.agents.voice.avatar import (
    AudioSegmentEnd,
    AvatarOptions,
    AvatarRunner,
    DataStreamAudioReceiver,
)

from ...avatar.local import LocalVideoGenerator
from .behaviour import AvatarBehaviour

__all__ = ["StandInAvatar"]

logger = logging.getLogger("halfcascade.testing.avatar")


class _Receiver(DataStreamAudioReceiver):
    def __init__(self, room: rtc.Room, *, sender: str | None, reports_start: bool) -> None:
        super().__init__(room, sender_identity=sender)
        self._reports_start = reports_start
        self.first_audio = asyncio.Event()
        self.silenced = False
        self.silence_on_audio = False

    async def __anext__(self) -> rtc.AudioFrame | AudioSegmentEnd:
        item = await super().__anext__()
        if isinstance(item, rtc.AudioFrame):
            self.silenced = self.silenced or self.silence_on_audio
            self.first_audio.set()
        return item

    def notify_playback_started(self) -> None:
        if self._reports_start and not self.silenced:
            super().notify_playback_started()

    def notify_playback_finished(self, playback_position: float, interrupted: bool) -> None:
        if not self.silenced:
            super().notify_playback_finished(playback_position, interrupted)


class StandInAvatar:
    """A provider's avatar participant: receives the agent's audio, publishes a face."""

    def __init__(self, *, url: str, token: str, sender: str | None, behaviour: AvatarBehaviour):
        self._url, self._token, self._sender, self._b = url, token, sender, behaviour
        self.room = rtc.Room()
        self.identity: str = jwt.decode(token, options={"verify_signature": False})["sub"]
        self.runner: AvatarRunner | None = None
        self.receiver: _Receiver | None = None
        self.left = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self, *, leave_after: float | None = None) -> None:
        """Connect in the background (and leave after ``leave_after`` seconds)."""
        self._task = asyncio.create_task(self._run(leave_after), name=f"stand-in-{self.identity}")

    async def _run(self, leave_after: float | None) -> None:
        try:
            await asyncio.sleep(self._b.join_delay)
            await self.room.connect(self._url, self._token)
            self.room.on("data_received", self._on_data)
            size = self._b.size
            gen = LocalVideoGenerator(width=size, height=size, sample_rate=24000)
            self.receiver = _Receiver(
                self.room, sender=self._sender, reports_start=self._b.reports_start
            )
            self.runner = AvatarRunner(
                self.room,
                audio_recv=self.receiver,
                video_gen=gen,
                options=AvatarOptions(
                    video_width=size,
                    video_height=size,
                    video_fps=25,
                    audio_sample_rate=24000,
                    audio_channels=1,
                ),
            )
            await self.runner.start()
            if leave_after is None:
                await asyncio.Event().wait()
            else:
                await asyncio.sleep(max(0.0, leave_after - self._b.join_delay))
            logger.debug("stand-in avatar reached its duration", extra={"id": self.identity})
        finally:
            await self._leave()

    def _on_data(self, packet: rtc.DataPacket) -> None:
        with contextlib.suppress(ValueError):
            if json.loads(packet.data).get("type") == "END_CALL" and self._task is not None:
                self._task.cancel()

    async def _leave(self) -> None:
        if self.runner is not None:
            with contextlib.suppress(Exception):
                await self.runner.aclose()
        with contextlib.suppress(Exception):
            await self.room.disconnect()
        self.left.set()

    async def wait_first_audio(self) -> None:
        """Wait until the avatar took the first frame of a reply, and fall silent then: it
        never reports that playback started (drop it next, for the hardest drop)."""
        while self.receiver is None:  # noqa: ASYNC110 (set once the runner is built)
            await asyncio.sleep(0.005)
        self.receiver.silence_on_audio = True
        await self.receiver.first_audio.wait()

    def silence(self) -> None:
        """Send no more playback reports (the avatar is about to vanish)."""
        if self.receiver is not None:
            self.receiver.silenced = True

    async def drop(self, *, abrupt: bool) -> None:
        """Vanish mid-reply: from now on no playback report leaves the avatar.

        ``abrupt=False`` leaves the room (the agent sees the participant go at once);
        ``abrupt=True`` disconnects without stopping the runner first, as a crashed
        provider would (use the server's remove-participant to cut it from outside).
        """
        self.silence()
        if abrupt:
            with contextlib.suppress(Exception):
                await self.room.disconnect()
        await self.aclose()

    async def aclose(self) -> None:
        """Leave the room."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        else:
            await self._leave()
