"""Shared plumbing for remote avatars built on livekit avatar plugins (Tavus, Runway).

A plugin's ``AvatarSession.start()`` posts to the provider, then installs a
``DataStreamAudioOutput`` into the session itself. halfcascade starts it against a
:class:`_SessionShim` that catches that output instead, so the output is installed when and
where halfcascade decides (before ``session.start()``, or between turns when a Runway
session is renewed), behind one
:class:`~halfcascade.avatar.lifecycle.RemotePlaybackGuard` for the link's lifetime: a new
provider session or the audio-only fallback only swaps the sink under it.

:class:`RemoteAvatarLink` also watches the avatar participant: if it leaves mid-session,
the session switches to :class:`~halfcascade.avatar.fallback.RoomAudioOutput` with one
warning instead of speaking into an empty room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, cast

from livekit import rtc
from livekit.agents import AgentSession, utils
from livekit.agents.voice import io
from livekit.agents.voice.avatar import AvatarSession, DataStreamAudioOutput

from .._env import env_value
from .._livekit.datastream import cancel_pending_start, forget_departed_avatar
from .._livekit.session import wait_for_playback_start
from .fallback import RoomAudioOutput
from .lifecycle import RemotePlaybackGuard

__all__ = ["LiveKitCredentials", "RemoteAvatarLink", "start_plugin", "wait_for_avatar"]

logger = logging.getLogger("halfcascade.avatar.remote")


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveKitCredentials:
    """Where the provider's avatar joins: ``None`` fields come from ``LIVEKIT_*``."""

    url: str | None = None
    api_key: str | None = None
    api_secret: str | None = None

    def kwargs(self) -> dict[str, str]:
        """Keyword arguments for a plugin's ``start()`` (only the ones given)."""
        given = {
            "livekit_url": self.url,
            "livekit_api_key": self.api_key,
            "livekit_api_secret": self.api_secret,
        }
        return {k: v for k, v in given.items() if v}

    def missing(self) -> list[str]:
        """The ``LIVEKIT_*`` variables needed because neither given nor set."""
        pairs = [
            (self.url, "LIVEKIT_URL"),
            (self.api_key, "LIVEKIT_API_KEY"),
            (self.api_secret, "LIVEKIT_API_SECRET"),
        ]
        return [name for value, name in pairs if not env_value(value, name)]


class _CapturedOutput:
    def __init__(self) -> None:
        self.sink: io.AudioOutput | None = None

    def replace_audio_tail(self, sink: io.AudioOutput) -> None:
        self.sink = sink


class _SessionShim:
    """The session as a plugin's ``start()`` sees it: real, except the output it installs."""

    def __init__(self, session: AgentSession[Any]) -> None:
        self._session = session
        self.output = _CapturedOutput()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


async def start_plugin(
    plugin: AvatarSession[Any],
    session: AgentSession[Any],
    room: rtc.Room,
    *,
    livekit: LiveKitCredentials,
) -> io.AudioOutput:
    """Run ``plugin.start()`` and return the audio output it made, not installed."""
    shim = _SessionShim(session)
    await plugin.start(cast(AgentSession[Any], shim), room, **livekit.kwargs())
    sink = shim.output.sink
    if sink is None:
        raise RuntimeError(f"{plugin.provider} plugin installed no audio output")
    if isinstance(sink, DataStreamAudioOutput):
        # set before the room-connected callback runs, so the lk.playback_started RPC is
        # registered and the start is no longer reported at hand-over
        wait_for_playback_start(sink)
    return sink


async def wait_for_avatar(room: rtc.Room, identity: str) -> None:
    """Wait until ``room`` is connected and ``identity`` publishes a video track."""
    if not room.isconnected():
        connected = asyncio.Event()

        def _on_state(_: Any) -> None:
            if room.isconnected():
                connected.set()

        room.on("connection_state_changed", _on_state)
        try:
            _on_state(None)
            await connected.wait()
        finally:
            room.off("connection_state_changed", _on_state)
    await utils.wait_for_participant(room=room, identity=identity)
    await utils.wait_for_track_publication(
        room=room, identity=identity, kind=rtc.TrackKind.KIND_VIDEO
    )


class RemoteAvatarLink:
    """A remote avatar started through its livekit plugin.

    Args:
        session, room: where it runs.
        plugin: the started plugin session.
        sink: its audio output (from :func:`start_plugin`).
        start_timeout: see :class:`~halfcascade.avatar.lifecycle.RemotePlaybackGuard`.
    """

    def __init__(
        self,
        *,
        session: AgentSession[Any],
        room: rtc.Room,
        plugin: AvatarSession[Any],
        sink: io.AudioOutput,
        start_timeout: float,
    ) -> None:
        self._session, self._room = session, room
        self.plugin = plugin
        self.output = RemotePlaybackGuard(sink, start_timeout=start_timeout)
        self._sink = sink
        self.fallback: RoomAudioOutput | None = None
        self._closed = False
        room.on("participant_disconnected", self._on_left)

    @property
    def audio_output(self) -> io.AudioOutput:
        """The sink the session speaks into (its tail is the fallback once the avatar left)."""
        return self.output

    @property
    def identity(self) -> str:
        """The avatar participant's identity."""
        return self.plugin.avatar_identity

    async def wait_ready(self) -> None:
        """Wait (unbounded; the caller sets the deadline) for the avatar's video track.

        The plugin's own ``wait_for_join()`` returns at once while the room is not yet
        connected, so this waits for the connection first.
        """
        await wait_for_avatar(self._room, self.identity)

    def replace(self, plugin: AvatarSession[Any], sink: io.AudioOutput) -> None:
        """Switch to a new avatar session's output (Runway renewal)."""
        self.plugin = plugin
        self._sink = sink
        self.output.swap_sink(sink)

    def _on_left(self, participant: rtc.RemoteParticipant) -> None:
        if self._closed or participant.identity != self.identity or self.fallback is not None:
            return
        logger.warning(
            "avatar left the room; continuing audio-only",
            extra={"provider": self.plugin.provider, "identity": participant.identity},
        )
        # the avatar cannot be told to clear: the swap below would send it an RPC that fails
        forget_departed_avatar(self._sink)
        self.fallback = RoomAudioOutput(self._room, sample_rate=self.output.sample_rate or 24000)
        self.output.swap_sink(self.fallback)

    async def aclose(self) -> None:
        """End the provider session and release the fallback output."""
        self._closed = True
        self._room.off("participant_disconnected", self._on_left)
        cancel_pending_start(self._sink)  # an avatar that never joined: livekit would wait on
        with contextlib.suppress(Exception):
            await self.plugin.aclose()
        if self.fallback is not None:
            await self.fallback.aclose()
