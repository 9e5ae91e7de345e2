"""The avatar plug point: a small :class:`Avatar` protocol and the "no avatar" choice.

An avatar is a configuration that knows how to connect a face to a session. Connecting
gives an :class:`AvatarLink`: the audio sink the session should speak into, a way to wait
until the face is really there, and ``aclose()``. :func:`~halfcascade.avatar.attach_avatar`
does the rest (options, timeouts, the audio-only fallback), so a new provider only has to
say how it connects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.voice import io

__all__ = ["Avatar", "AvatarLink", "NoAvatar"]


@runtime_checkable
class AvatarLink(Protocol):
    """A connected avatar."""

    @property
    def audio_output(self) -> io.AudioOutput | None:
        """The sink the session should speak into (``None``: leave the session's own)."""
        ...

    @property
    def identity(self) -> str | None:
        """The avatar's participant identity in the room, if it joins one."""
        ...

    async def wait_ready(self) -> None:
        """Return once the avatar can show speech (joined, publishing video)."""
        ...

    async def aclose(self) -> None:
        """Disconnect the avatar and release what it holds."""
        ...


@runtime_checkable
class Avatar(Protocol):
    """An avatar choice: Tavus, Runway, the local avatar, none, or your own."""

    @property
    def provider(self) -> str:
        """Short provider name for logs and metrics (``"tavus"``, ``"local"``...)."""
        ...

    async def connect(self, session: AgentSession[Any], room: rtc.Room | None) -> AvatarLink:
        """Start the avatar for ``session`` in ``room`` (``None``: room-less, if supported)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class NoAvatar:
    """No face: the session speaks straight into the room (or its own audio output)."""

    @property
    def provider(self) -> str:
        """``"none"``."""
        return "none"

    async def connect(self, session: AgentSession[Any], room: rtc.Room | None) -> AvatarLink:
        """Nothing to connect."""
        return _NoLink()


class _NoLink:
    @property
    def audio_output(self) -> io.AudioOutput | None:
        return None

    @property
    def identity(self) -> str | None:
        return None

    async def wait_ready(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
