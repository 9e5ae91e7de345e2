"""Avatars: put a face on a half-cascade session.

One seam for every face::

    face = await attach_avatar(session, room, TavusAvatar())   # or RunwayAvatar(preset_id=...),
    await session.start(agent, room=room)                      # LocalAvatar(), NoAvatar()

- :class:`Avatar` / :class:`AvatarLink`: the protocol a provider implements.
- :class:`TavusAvatar`, :class:`RunwayAvatar`: the livekit plugins, with honest playback
  start, Runway's 5-minute cap handled, and an audio-only fallback.
- :class:`LocalAvatar`: a character animated locally from the agent's audio (numpy).
- :mod:`~halfcascade.avatar.lifecycle`: exactly one start and one finish per reply segment,
  reported when the avatar really plays it; barge-in clears the avatar with the TTS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .attach import AttachedAvatar, attach_avatar
from .base import Avatar, AvatarLink, NoAvatar
from .fallback import RoomAudioOutput
from .lifecycle import AvatarAudioOutput, RemotePlaybackGuard
from .local import Character, Eye, LocalAvatar, default_character, load_character
from .remote import LiveKitCredentials
from .runway import RunwayAvatar
from .tavus import TavusAvatar

if TYPE_CHECKING:
    from ..persona import AvatarSpec


def avatar_from_persona(spec: AvatarSpec | None) -> Avatar:
    """The avatar a persona file asks for (``NoAvatar`` without an ``[avatar]`` section)."""
    from ..errors import ConfigError

    if spec is None:
        return NoAvatar()
    if spec.provider == "tavus":
        return TavusAvatar(face_id=spec.id)
    if spec.provider == "runway":
        return RunwayAvatar(avatar_id=spec.id)
    if spec.image is not None:
        raise ConfigError(
            f"avatar image {spec.image}: a local avatar needs the body and a separate mouth "
            "layer; build LocalAvatar(character=load_character(body, mouth, mouth_center=...))"
        )
    return LocalAvatar()


__all__ = [
    "AttachedAvatar",
    "Avatar",
    "AvatarAudioOutput",
    "AvatarLink",
    "Character",
    "Eye",
    "LiveKitCredentials",
    "LocalAvatar",
    "NoAvatar",
    "RemotePlaybackGuard",
    "RoomAudioOutput",
    "RunwayAvatar",
    "TavusAvatar",
    "attach_avatar",
    "avatar_from_persona",
    "default_character",
    "load_character",
]
