"""``TavusAvatar``: a Tavus face through ``livekit-plugins-tavus``.

Tavus renders only (its pals run ``pipeline_mode="echo"``): the agent's TTS audio is
streamed to the Tavus participant, which publishes video and audio on the agent's behalf.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from livekit import rtc
from livekit.agents import NOT_GIVEN, AgentSession, APIConnectOptions

from .._env import env_value, require_all
from ..errors import ConfigError
from .remote import LiveKitCredentials, RemoteAvatarLink, start_plugin

__all__ = ["TavusAvatar"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TavusAvatar:
    """A Tavus avatar.

    Attributes:
        face_id, pal_id: the Tavus face and pal (``None``: ``TAVUS_FACE_ID`` /
            ``TAVUS_PAL_ID``, else Tavus's stock pal).
        api_key: ``None`` reads ``TAVUS_API_KEY``.
        api_url: the Tavus API base (for tests: a local server).
        identity: the avatar participant's identity in the room.
        livekit: where the avatar joins (``None`` fields come from ``LIVEKIT_*``).
        max_retry: extra attempts for a failed API call (the join timeout still bounds all).
        request_timeout: connect timeout of one API call, seconds.
        start_timeout: seconds to wait for Tavus to report playback start before using the
            hand-over time.
    """

    face_id: str | None = None
    pal_id: str | None = None
    api_key: str | None = None
    api_url: str | None = None
    identity: str = "tavus-avatar-agent"
    livekit: LiveKitCredentials = field(default_factory=LiveKitCredentials)
    max_retry: int = 0
    request_timeout: float = 10.0
    start_timeout: float = 1.5

    def __post_init__(self) -> None:
        if self.max_retry < 0 or self.request_timeout <= 0 or self.start_timeout < 0:
            raise ConfigError(
                "TavusAvatar needs max_retry >= 0, request_timeout > 0, start_timeout >= 0"
            )

    @property
    def provider(self) -> str:
        """``"tavus"``."""
        return "tavus"

    async def connect(self, session: AgentSession[Any], room: rtc.Room | None) -> RemoteAvatarLink:
        """Create the Tavus conversation; the avatar then joins ``room``."""
        if room is None:
            raise ConfigError("TavusAvatar needs a room: Tavus joins it to publish the video")
        missing = [] if env_value(self.api_key, "TAVUS_API_KEY") else ["TAVUS_API_KEY"]
        require_all([*missing, *self.livekit.missing()], hint="or pass them to TavusAvatar")
        from livekit.plugins import tavus

        plugin = tavus.AvatarSession(
            face_id=self.face_id or NOT_GIVEN,
            pal_id=self.pal_id or NOT_GIVEN,
            api_url=self.api_url or NOT_GIVEN,
            api_key=self.api_key or NOT_GIVEN,
            avatar_participant_identity=self.identity,
            conn_options=APIConnectOptions(
                max_retry=self.max_retry, retry_interval=0.5, timeout=self.request_timeout
            ),
        )
        sink = await start_plugin(plugin, session, room, livekit=self.livekit)
        return RemoteAvatarLink(
            session=session, room=room, plugin=plugin, sink=sink, start_timeout=self.start_timeout
        )
