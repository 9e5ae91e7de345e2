"""``attach_avatar``: the one call that puts a face on a session.

::

    async with await attach_avatar(session, ctx.room, TavusAvatar(), join_timeout=15) as face:
        await session.start(agent, room=ctx.room)
        ...

Call it before ``session.start()``. It connects the avatar, waits (at most
``join_timeout``) until the avatar can show speech, installs its audio output and turns off
pause-and-resume on false interruptions (an avatar cannot pause; livekit would warn and
ignore it). If the provider errors or never joins, the session stays audio-only, with one
warning, and ``face.active`` is ``False``. Configuration mistakes (missing credentials, no
room for a remote avatar) raise instead: they are not outages.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession

from .._livekit.session import session_started
from ..errors import ConfigError
from .base import Avatar, AvatarLink, NoAvatar

__all__ = ["AttachedAvatar", "attach_avatar"]

logger = logging.getLogger("halfcascade.avatar")

DEFAULT_JOIN_TIMEOUT = 15.0


@dataclass(slots=True, eq=False)
class AttachedAvatar:
    """The avatar attached to a session (or the audio-only fallback).

    Attributes:
        provider: ``"tavus"``, ``"runway"``, ``"local"``, ``"none"``...
        active: whether the face is on; ``False`` after a fallback or with ``NoAvatar``.
        reason: why it fell back (``None`` when active or not asked for).
        link: the running avatar, when active.
        join_time: seconds from the call to the avatar being ready.
    """

    provider: str
    active: bool
    reason: str | None = None
    link: AvatarLink | None = None
    join_time: float | None = None

    async def aclose(self) -> None:
        """Disconnect the avatar (idempotent)."""
        link, self.link = self.link, None
        if link is not None:
            await link.aclose()

    async def __aenter__(self) -> AttachedAvatar:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


async def attach_avatar(
    session: AgentSession[Any],
    room: rtc.Room | None,
    avatar: Avatar | None,
    *,
    join_timeout: float = DEFAULT_JOIN_TIMEOUT,
) -> AttachedAvatar:
    """Connect ``avatar`` to ``session`` before it starts; fall back to audio-only on failure.

    Args:
        session: a session that has not started yet.
        room: the room the session will join (``None``: room-less, local avatar only).
        avatar: ``TavusAvatar()``, ``RunwayAvatar(...)``, ``LocalAvatar()``, ``NoAvatar()``
            (or ``None``), or any :class:`Avatar`.
        join_timeout: seconds for the provider call plus the avatar joining.

    Raises:
        ConfigError: the session already started, or the avatar is misconfigured.
    """
    if session_started(session):
        raise ConfigError("attach_avatar() must be called before session.start()")
    if join_timeout <= 0:
        raise ConfigError("attach_avatar join_timeout must be positive")
    avatar = avatar or NoAvatar()
    if isinstance(avatar, NoAvatar):
        return AttachedAvatar(provider="none", active=False)
    loop = asyncio.get_running_loop()
    began = loop.time()
    link: AvatarLink | None = None
    try:
        async with asyncio.timeout(join_timeout):
            link = await avatar.connect(session, room)
            await link.wait_ready()
    except ConfigError:
        await _close_quietly(link)
        raise
    except Exception as e:
        await _close_quietly(link)
        return _audio_only(avatar.provider, e, join_timeout)
    if link.audio_output is not None:
        session.output.audio = link.audio_output
        # avatar outputs cannot pause: resuming after a false interruption is impossible
        session.options.interruption["resume_false_interruption"] = False
    if (startup := getattr(session, "startup", None)) is not None:
        startup.mark("avatar_ready")  # halfcascade.Session's start-up timeline
    return AttachedAvatar(
        provider=avatar.provider, active=True, link=link, join_time=loop.time() - began
    )


def _audio_only(provider: str, error: Exception, join_timeout: float) -> AttachedAvatar:
    reason = "timeout" if isinstance(error, TimeoutError) else f"{type(error).__name__}: {error}"
    logger.warning(
        "avatar unavailable, continuing audio-only",
        extra={"provider": provider, "reason": reason, "join_timeout": join_timeout},
    )
    return AttachedAvatar(provider=provider, active=False, reason=reason)


async def _close_quietly(link: AvatarLink | None) -> None:
    if link is None:
        return
    try:
        await link.aclose()
    except Exception:
        logger.debug("error closing a failed avatar", exc_info=True)
