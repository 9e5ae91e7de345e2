"""``LocalAvatar``: the local audio-driven character as an :class:`~halfcascade.avatar.Avatar`.

In a room it runs livekit's ``AvatarRunner`` in the agent's own process: the agent
participant publishes ``avatar_audio`` and ``avatar_video`` and the session speaks into an
:class:`~halfcascade.avatar.lifecycle.AvatarAudioOutput`. Without a room it runs an
:class:`~halfcascade.avatar.local.player.AvatarPlayer` on a local clock, handing frames to
``on_video`` / ``on_audio``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.voice import io
from livekit.agents.voice.avatar import AvatarOptions, AvatarRunner

from ..._livekit.avatar_runner import FullRateAvatarRunner
from ...errors import ConfigError
from ..lifecycle import AvatarAudioOutput
from .character import Character
from .generator import LocalVideoGenerator
from .player import AvatarPlayer, PlayedAudio, PlayedVideo

__all__ = ["LocalAvatar", "LocalAvatarLink"]

logger = logging.getLogger("halfcascade.avatar.local")


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalAvatar:
    """The local avatar: a character animated from the agent's audio with numpy.

    Attributes:
        character: a :func:`load_character` cutout; ``None`` draws the default character.
        width, height, fps: video format (512x512 at 25 fps by default).
        sample_rate: audio rate the avatar plays (the session resamples to it).
        seed: blink schedule seed.
        motion: idle breathing and head motion.
        on_video, on_audio: room-less only: receive frames as they are played.
        start_timeout: seconds to wait for the runner's own playback-start report.
    """

    character: Character | None = None
    width: int = 512
    height: int = 512
    fps: float = 25.0
    sample_rate: int = 24000
    seed: int = 0
    motion: bool = True
    on_video: Callable[[PlayedVideo], None] | None = None
    on_audio: Callable[[PlayedAudio], None] | None = None
    start_timeout: float = 0.5

    def __post_init__(self) -> None:
        if self.width < 64 or self.height < 64 or self.width % 2 or self.height % 2:
            raise ConfigError("LocalAvatar width and height must be even and at least 64")
        if self.fps <= 0 or self.sample_rate % self.fps:
            raise ConfigError("LocalAvatar sample_rate must be a whole multiple of fps")
        if self.character is not None and (
            (self.character.width, self.character.height) != (self.width, self.height)
        ):
            raise ConfigError("LocalAvatar character must be built for width x height")

    @property
    def provider(self) -> str:
        """``"local"``."""
        return "local"

    def generator(self) -> LocalVideoGenerator:
        """A new video generator with these settings."""
        return LocalVideoGenerator(
            character=self.character,
            width=self.width,
            height=self.height,
            fps=self.fps,
            sample_rate=self.sample_rate,
            seed=self.seed,
            motion=self.motion,
        )

    async def connect(self, session: AgentSession[Any], room: rtc.Room | None) -> LocalAvatarLink:
        """Start the avatar: an ``AvatarRunner`` in ``room``, or a local player without one."""
        link = LocalAvatarLink(self, room)
        await link.start()
        return link


class LocalAvatarLink:
    """A running local avatar (see :class:`LocalAvatar`)."""

    def __init__(self, avatar: LocalAvatar, room: rtc.Room | None) -> None:
        self._room = room
        self.generator = avatar.generator()
        self.output = AvatarAudioOutput(
            sample_rate=avatar.sample_rate,
            on_clear=self._on_clear,
            start_timeout=avatar.start_timeout,
        )
        self.runner: AvatarRunner | None = None
        self.player: AvatarPlayer | None = None
        if room is not None:
            self.runner = FullRateAvatarRunner(
                room,
                audio_recv=self.output,
                video_gen=self.generator,
                options=AvatarOptions(
                    video_width=avatar.width,
                    video_height=avatar.height,
                    video_fps=avatar.fps,
                    audio_sample_rate=avatar.sample_rate,
                    audio_channels=1,
                ),
            )
        else:
            self.player = AvatarPlayer(
                audio_recv=self.output,
                video_gen=self.generator,
                on_video=avatar.on_video,
                on_audio=avatar.on_audio,
                fps=avatar.fps,
            )
        self._clear_tasks: set[asyncio.Task[None]] = set()

    @property
    def audio_output(self) -> io.AudioOutput:
        """The sink the session speaks into."""
        return self.output

    @property
    def identity(self) -> str | None:
        """The agent's own identity: the local avatar publishes as the agent."""
        return self._room.local_participant.identity if self._room is not None else None

    async def start(self) -> None:
        """Start the runner (or player)."""
        if self.runner is not None:
            await self.runner.start()
        elif self.player is not None:
            await self.player.start()

    async def wait_ready(self) -> None:
        """Ready as soon as it starts."""
        return None

    def _on_clear(self) -> None:
        self.generator.clear_buffer()
        if self.runner is not None:
            # drop the ~100 ms already queued in the room's audio source too
            task = asyncio.create_task(self.runner.av_sync.clear_queue())
            self._clear_tasks.add(task)
            task.add_done_callback(self._clear_tasks.discard)

    async def aclose(self) -> None:
        """Stop the avatar."""
        for task in list(self._clear_tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.runner is not None:
            await self.runner.aclose()
        if self.player is not None:
            await self.player.aclose()
        await self.generator.aclose()
