"""``RunwayAvatar``: a Runway Characters face through ``livekit-plugins-runway``.

A Runway realtime session lasts at most ``max_duration`` (5 minutes). A user expects the
face to stay for the whole conversation, so by default halfcascade renews it: some time
before the cap it creates a new Runway session under a fresh participant identity, waits for
that avatar to join, switches the agent's audio to it *between* turns (never mid-reply),
then ends the old session (``END_CALL``). If renewal fails, or ``renew_before=None``, the
face leaves at the cap and the agent carries on audio-only with one warning; it never goes
silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc
from livekit.agents import NOT_GIVEN, AgentSession, APIConnectOptions

from .._env import env_value, require_all
from ..errors import ConfigError
from .remote import LiveKitCredentials, RemoteAvatarLink, start_plugin, wait_for_avatar

__all__ = ["RunwayAvatar", "RunwayAvatarLink"]

logger = logging.getLogger("halfcascade.avatar.runway")

#: Runway's cap on one realtime session, seconds
MAX_SESSION = 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RunwayAvatar:
    """A Runway Characters avatar.

    Attributes:
        avatar_id, preset_id: exactly one: your custom avatar or a Runway preset.
        api_key: ``None`` reads ``RUNWAYML_API_SECRET``.
        api_url: the API base (``None``: ``RUNWAYML_BASE_URL`` or Runway's); tests use a
            local server.
        identity: the avatar participant's identity (renewals append ``-2``, ``-3``...).
        livekit: where the avatar joins (``None`` fields come from ``LIVEKIT_*``).
        max_duration: seconds one Runway session may last (at most 300).
        renew_before: start the next session this long before the cap; ``None``: never.
        renew_join_timeout: seconds the next session's avatar has to join.
        max_retry: attempts for the create call (the plugin makes at least one).
        request_timeout: connect timeout of one API call, seconds.
        start_timeout: seconds to wait for Runway to report playback start.
    """

    avatar_id: str | None = None
    preset_id: str | None = None
    api_key: str | None = None
    api_url: str | None = None
    identity: str = "runway-avatar-agent"
    livekit: LiveKitCredentials = field(default_factory=LiveKitCredentials)
    max_duration: float = MAX_SESSION
    renew_before: float | None = 30.0
    renew_join_timeout: float = 20.0
    max_retry: int = 1
    request_timeout: float = 10.0
    start_timeout: float = 1.5

    def __post_init__(self) -> None:
        if (self.avatar_id is None) == (self.preset_id is None):
            raise ConfigError("RunwayAvatar needs exactly one of avatar_id= or preset_id=")
        if not 0 < self.max_duration <= MAX_SESSION:
            raise ConfigError(f"RunwayAvatar max_duration must be in (0, {MAX_SESSION:g}]")
        if self.renew_before is not None and not 0 < self.renew_before < self.max_duration:
            raise ConfigError("RunwayAvatar renew_before must be in (0, max_duration) or None")
        if self.max_retry < 1:
            raise ConfigError("RunwayAvatar max_retry must be >= 1 (it counts attempts)")

    @property
    def provider(self) -> str:
        """``"runway"``."""
        return "runway"

    def plugin(self, identity: str) -> Any:
        """A new ``runway.AvatarSession`` for ``identity`` (not started)."""
        from livekit.plugins import runway

        return runway.AvatarSession(
            avatar_id=self.avatar_id or NOT_GIVEN,
            preset_id=self.preset_id or NOT_GIVEN,
            max_duration=round(self.max_duration),
            api_url=self.api_url or NOT_GIVEN,
            api_key=self.api_key or NOT_GIVEN,
            avatar_participant_identity=identity,
            conn_options=APIConnectOptions(
                max_retry=self.max_retry, retry_interval=0.5, timeout=self.request_timeout
            ),
        )

    async def connect(self, session: AgentSession[Any], room: rtc.Room | None) -> RunwayAvatarLink:
        """Create the Runway session; the avatar then joins ``room``."""
        if room is None:
            raise ConfigError("RunwayAvatar needs a room: Runway joins it to publish the video")
        secret = env_value(self.api_key, "RUNWAYML_API_SECRET")
        missing = [] if secret else ["RUNWAYML_API_SECRET"]
        require_all([*missing, *self.livekit.missing()], hint="or pass them to RunwayAvatar")
        plugin = self.plugin(self.identity)
        created = time.monotonic()
        sink = await start_plugin(plugin, session, room, livekit=self.livekit)
        link = RunwayAvatarLink(
            self,
            session=session,
            room=room,
            plugin=plugin,
            sink=sink,
            start_timeout=self.start_timeout,
        )
        link.schedule_renewal(created)
        return link


class RunwayAvatarLink(RemoteAvatarLink):
    """A running Runway avatar that renews its session before the cap."""

    def __init__(self, avatar: RunwayAvatar, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._avatar = avatar
        self._renewals = 0
        self._task: asyncio.Task[None] | None = None
        self.renewed = 0
        """Sessions successfully renewed so far."""

    def schedule_renewal(self, created: float) -> None:
        """Renew ``renew_before`` seconds before the cap of a session created at ``created``."""
        if self._avatar.renew_before is None or self._closed:
            return
        self._task = asyncio.create_task(self._renew_at(created), name="runway-renewal")

    async def _renew_at(self, created: float) -> None:
        a = self._avatar
        assert a.renew_before is not None
        await asyncio.sleep(max(0.0, created + a.max_duration - a.renew_before - time.monotonic()))
        started = time.monotonic()
        if not await self._renew(deadline=created + a.max_duration - 0.5):
            return
        self.schedule_renewal(started)

    async def _renew(self, *, deadline: float) -> bool:
        a = self._avatar
        self._renewals += 1
        plugin = a.plugin(f"{a.identity}-{self._renewals + 1}")
        try:
            async with asyncio.timeout(min(a.renew_join_timeout, deadline - time.monotonic())):
                sink = await start_plugin(plugin, self._session, self._room, livekit=a.livekit)
                await wait_for_avatar(self._room, plugin.avatar_identity)
        except Exception as e:
            logger.warning(
                "could not renew the Runway session; the avatar leaves at its cap",
                extra={"error": f"{type(e).__name__}: {e}"},
            )
            with contextlib.suppress(Exception):
                await plugin.aclose()
            return False
        await self._wait_between_turns(deadline)
        old = self.plugin
        self.replace(plugin, sink)
        self.renewed += 1
        logger.info("Runway session renewed", extra={"identity": self.identity})
        with contextlib.suppress(Exception):
            await old.aclose()
        return True

    async def _wait_between_turns(self, deadline: float) -> None:
        quiet = asyncio.Event()

        def _check(_: Any = None) -> None:
            if self._session.agent_state not in ("speaking", "thinking"):
                quiet.set()

        self._session.on("agent_state_changed", _check)
        try:
            _check()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await quiet.wait()
        finally:
            self._session.off("agent_state_changed", _check)

    async def aclose(self) -> None:
        """Stop renewing and end the current Runway session."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await super().aclose()
