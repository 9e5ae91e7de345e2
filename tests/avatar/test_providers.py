"""Tavus and Runway through their real livekit plugins, against the local provider APIs.

No room here: these check what the plugins send, and that an outage (HTTP error, slow
answer, an avatar that never joins) leaves the session audio-only with one warning, in
bounded time. tests/avatar/test_room.py runs the same providers in a real room.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import jwt
import pytest
from _rooms import job
from livekit import api, rtc
from livekit.agents import AgentSession

from halfcascade.avatar import (
    AttachedAvatar,
    Avatar,
    LiveKitCredentials,
    NoAvatar,
    RunwayAvatar,
    TavusAvatar,
    attach_avatar,
)
from halfcascade.errors import ConfigError, MissingCredentialsError
from halfcascade.testing.runway import RunwayServer
from halfcascade.testing.tavus import AvatarBehaviour, TavusServer

pytestmark = pytest.mark.contract

LK = LiveKitCredentials(url="ws://127.0.0.1:9", api_key="devkey", api_secret="x" * 32)
AGENT = "agent-7"


class OfflineRoom(rtc.Room):
    """A room that is never connected but has a name (the plugins put it in the token)."""

    @property
    def name(self) -> str:
        return "offline-room"


@pytest.fixture
async def tavus(http: None) -> AsyncIterator[TavusServer]:
    async with TavusServer(behaviour=AvatarBehaviour(join=False)) as server:
        yield server


@pytest.fixture
async def runway(http: None) -> AsyncIterator[RunwayServer]:
    async with RunwayServer(behaviour=AvatarBehaviour(join=False)) as server:
        yield server


def _ours(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("halfcascade") and r.levelno >= logging.WARNING
    ]


async def _attach(
    avatar: Avatar, *, join_timeout: float
) -> tuple[AttachedAvatar, AgentSession, float]:
    session: AgentSession = AgentSession()
    room = OfflineRoom()  # never connected: the provider is asked, its avatar cannot come
    token = api.AccessToken("devkey", "x" * 32).with_identity(AGENT).to_jwt()
    with job(room, token, AGENT):
        began = time.perf_counter()
        face = await attach_avatar(session, room, avatar, join_timeout=join_timeout)
        elapsed = time.perf_counter() - began
        await face.aclose()
    return face, session, elapsed


async def test_tavus_request_and_an_avatar_that_never_joins(
    tavus: TavusServer, caplog: pytest.LogCaptureFixture
) -> None:
    avatar = TavusAvatar(api_url=tavus.api_url, api_key="tvs-key", livekit=LK)
    face, session, elapsed = await _attach(avatar, join_timeout=0.6)
    assert not face.active and face.reason == "timeout" and face.link is None
    assert 0.6 <= elapsed < 1.2
    assert session.output.audio is None  # RoomIO will publish the agent's own audio
    assert session.options.interruption["resume_false_interruption"] is True  # untouched
    assert _ours(caplog) == ["avatar unavailable, continuing audio-only"]
    [req] = tavus.requests
    assert (req.method, req.path) == ("POST", "/v2/conversations")
    assert req.headers["x-api-key"] == "tvs-key"
    assert req.body["pal_id"] and req.body["face_id"] and req.body["conversation_name"]
    props = req.body["properties"]
    assert props["livekit_ws_url"] == LK.url
    claims = jwt.decode(props["livekit_room_token"], options={"verify_signature": False})
    assert claims["sub"] == "tavus-avatar-agent" and claims["kind"] == "agent"
    assert claims["attributes"]["lk.publish_on_behalf"] == AGENT


@pytest.mark.parametrize("status", [500, 401])
async def test_tavus_http_errors_fall_back_at_once(
    tavus: TavusServer, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    tavus.fail_next(1, status=status)
    avatar = TavusAvatar(api_url=tavus.api_url, api_key="k", livekit=LK)
    face, _, elapsed = await _attach(avatar, join_timeout=5.0)
    assert not face.active and face.reason is not None and "APIStatusError" in face.reason
    assert elapsed < 1.0 and len(tavus.requests) == 1
    assert _ours(caplog) == ["avatar unavailable, continuing audio-only"]


async def test_a_slow_provider_is_cut_off_at_the_join_timeout(
    tavus: TavusServer, caplog: pytest.LogCaptureFixture
) -> None:
    tavus.behaviour = AvatarBehaviour(join=False, delay=5.0)
    face, _, elapsed = await _attach(
        TavusAvatar(api_url=tavus.api_url, api_key="k", livekit=LK), join_timeout=0.5
    )
    assert not face.active and face.reason == "timeout" and elapsed < 1.0
    assert len(_ours(caplog)) == 1


async def test_runway_request_and_the_session_cancelled_on_fallback(
    runway: RunwayServer, caplog: pytest.LogCaptureFixture
) -> None:
    avatar = RunwayAvatar(
        preset_id="game-character", api_url=runway.api_url, api_key="rw", livekit=LK
    )
    face, session, elapsed = await _attach(avatar, join_timeout=0.6)
    assert not face.active and face.reason == "timeout" and elapsed < 1.5
    assert session.output.audio is None
    post, delete = runway.requests
    assert (post.method, post.path) == ("POST", "/v1/realtime_sessions")
    assert post.headers["Authorization"] == "Bearer rw"
    assert post.headers["X-Runway-Version"] == "2024-11-06"
    assert post.body["model"] == "gwm1_avatars"
    assert post.body["avatar"] == {"type": "runway-preset", "presetId": "game-character"}
    assert post.body["maxDuration"] == 300
    lk = post.body["livekit"]
    assert lk["url"] == LK.url and lk["agentIdentity"] == AGENT
    assert lk["roomName"] == "offline-room"
    # the room never connected, so the plugin cancels over HTTP instead of END_CALL
    assert delete.method == "DELETE" and delete.path.startswith("/v1/realtime_sessions/")
    assert _ours(caplog) == ["avatar unavailable, continuing audio-only"]


async def test_runway_http_error_falls_back(
    runway: RunwayServer, caplog: pytest.LogCaptureFixture
) -> None:
    runway.fail_next(1, status=422, body='{"error": "bad avatar"}')
    avatar = RunwayAvatar(avatar_id="a1", api_url=runway.api_url, api_key="rw", livekit=LK)
    face, _, elapsed = await _attach(avatar, join_timeout=5.0)
    assert not face.active and "422" in (face.reason or "") and elapsed < 1.0
    assert _ours(caplog) == ["avatar unavailable, continuing audio-only"]


async def test_missing_credentials_raise_instead_of_falling_back(http: None) -> None:
    with pytest.raises(MissingCredentialsError) as e:
        await _attach(TavusAvatar(), join_timeout=1.0)
    assert set(e.value.missing) == {
        "TAVUS_API_KEY",
        "LIVEKIT_URL",
        "LIVEKIT_API_KEY",
        "LIVEKIT_API_SECRET",
    }
    with pytest.raises(MissingCredentialsError) as e:
        await _attach(RunwayAvatar(preset_id="p", livekit=LK), join_timeout=1.0)
    assert e.value.missing == ("RUNWAYML_API_SECRET",)
    with pytest.raises(ConfigError, match="needs a room"):
        await attach_avatar(AgentSession(), None, TavusAvatar(api_key="k", livekit=LK))


def test_runway_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        RunwayAvatar()
    with pytest.raises(ConfigError, match="exactly one"):
        RunwayAvatar(avatar_id="a", preset_id="p")
    with pytest.raises(ConfigError, match="max_duration"):
        RunwayAvatar(preset_id="p", max_duration=600)
    with pytest.raises(ConfigError, match="renew_before"):
        RunwayAvatar(preset_id="p", max_duration=60, renew_before=60)
    RunwayAvatar(preset_id="p", renew_before=None)


async def test_no_avatar_changes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    session: AgentSession = AgentSession()
    face = await attach_avatar(session, None, NoAvatar())
    assert face.provider == "none" and not face.active and face.reason is None
    assert session.output.audio is None and not _ours(caplog)
    face = await attach_avatar(session, None, None)
    assert face.provider == "none"
