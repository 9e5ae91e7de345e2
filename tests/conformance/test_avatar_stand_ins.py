"""The Tavus and Runway stand-ins as strict as the real APIs: the livekit plugins' own
requests are accepted; a missing key, a bad body, a room token that is not a livekit JWT,
an unknown route all get the provider's JSON error (never a 500, never text/plain).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from livekit import api
from livekit.agents import APIStatusError
from livekit.plugins import runway
from livekit.plugins.tavus.api import TavusAPI

from halfcascade.testing.runway import RunwayServer
from halfcascade.testing.tavus import AvatarBehaviour, TavusServer

pytestmark = [pytest.mark.conformance, pytest.mark.timeout(60)]

OFFLINE = AvatarBehaviour(join=False)  # no room here: the avatars never join
LK_URL = "ws://127.0.0.1:9"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def tavus_server() -> AsyncIterator[TavusServer]:
    async with TavusServer(behaviour=OFFLINE, api_key="tvs") as server:
        yield server


@pytest.fixture
async def runway_server() -> AsyncIterator[RunwayServer]:
    async with RunwayServer(behaviour=OFFLINE, api_key="rw") as server:
        yield server


def room_token(identity: str = "avatar", room: str = "r") -> str:
    grants = api.VideoGrants(room_join=True, room=room)
    token = api.AccessToken("devkey", "x" * 32).with_identity(identity).with_grants(grants)
    return token.with_attributes({"lk.publish_on_behalf": "agent"}).to_jwt()


async def answer(resp: aiohttp.ClientResponse) -> tuple[int, Any]:
    assert resp.content_type == "application/json", await resp.text()
    return resp.status, await resp.json()


# --- Tavus --------------------------------------------------------------------------------


async def test_tavus_plugin_requests_are_accepted(
    tavus_server: TavusServer, http: aiohttp.ClientSession
) -> None:
    client = TavusAPI(api_key="tvs", api_url=tavus_server.api_url, session=http)
    props = {"livekit_ws_url": LK_URL, "livekit_room_token": room_token()}
    cid = await client.create_conversation(properties=props)
    pal = await client.create_pal(default_face_id="r4067604db72")
    persona = await client.create_persona()
    assert cid.startswith("c") and pal and persona
    assert [r.path for r in tavus_server.requests] == [
        "/v2/conversations",
        "/v2/pals",
        "/v2/personas",
    ]


@pytest.mark.parametrize("path", ["/v2/conversations", "/v2/pals", "/v2/personas"])
@pytest.mark.parametrize("key", [None, "wrong"])
async def test_tavus_every_route_checks_the_key(
    tavus_server: TavusServer, http: aiohttp.ClientSession, path: str, key: str | None
) -> None:
    headers = {} if key is None else {"x-api-key": key}
    async with http.post(tavus_server.base_url + path, json={}, headers=headers) as resp:
        assert await answer(resp) == (401, {"message": "Invalid access token"})


TAVUS_BAD: dict[str, dict[str, Any]] = {
    "no pal or face": {"properties": {}},
    "unknown field": {"pal_id": "p1", "bogus": True},
    "wrong type": {"pal_id": 7},
    "unknown property": {"pal_id": "p1", "properties": {"colour": "red"}},
    "call too long": {"pal_id": "p1", "properties": {"max_call_duration": 7200}},
    "token not a JWT": {
        "pal_id": "p1",
        "properties": {"livekit_ws_url": LK_URL, "livekit_room_token": "not-a-jwt"},
    },
    "token without url": {"pal_id": "p1", "properties": {"livekit_room_token": room_token()}},
    "url not a websocket": {
        "pal_id": "p1",
        "properties": {"livekit_ws_url": "ftp://x", "livekit_room_token": room_token()},
    },
}


@pytest.mark.parametrize("body", TAVUS_BAD.values(), ids=TAVUS_BAD.keys())
async def test_tavus_bad_conversation_bodies_get_a_400(
    tavus_server: TavusServer, http: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    url = tavus_server.api_url + "/conversations"
    async with http.post(url, json=body, headers={"x-api-key": "tvs"}) as resp:
        status, error = await answer(resp)
    assert status == 400 and set(error) == {"error"} and error["error"]
    assert not tavus_server.avatars


async def test_tavus_bodies_that_are_not_json_objects(
    tavus_server: TavusServer, http: aiohttp.ClientSession
) -> None:
    for data in (b"{broken", b"[]"):
        url = tavus_server.api_url + "/pals"
        async with http.post(url, data=data, headers={"x-api-key": "tvs"}) as resp:
            assert (await answer(resp))[0] == 400


async def test_tavus_plugin_sees_a_json_error_it_does_not_retry(
    tavus_server: TavusServer, http: aiohttp.ClientSession
) -> None:
    client = TavusAPI(api_key="wrong", api_url=tavus_server.api_url, session=http)
    with pytest.raises(APIStatusError) as info:
        await client.create_conversation(properties={})
    assert info.value.status_code == 401 and "Invalid access token" in str(info.value.body)
    assert len(tavus_server.requests) == 1


# --- Runway -------------------------------------------------------------------------------


def runway_session(server: RunwayServer, **kw: Any) -> runway.AvatarSession:
    session = runway.AvatarSession(api_url=server.api_url, api_key="rw", **kw)
    session._local_participant_identity = "agent"  # what start() takes from the job
    return session


@pytest.mark.parametrize(
    "avatar", [{"preset_id": "game-character"}, {"avatar_id": "5b5ed0f5-2a8f-4a5e-9a1e-3a9b"}]
)
async def test_runway_plugin_requests_are_accepted(
    runway_server: RunwayServer, avatar: dict[str, str]
) -> None:
    session = runway_session(runway_server, max_duration=120, **avatar)
    async with aiohttp.ClientSession() as http:
        session._http_session = http
        await session._create_session(LK_URL, room_token("runway-avatar-agent", "r"), "r")
        assert session._realtime_session_id is not None
        await session._cancel_runway_realtime_session()  # DELETE: 204
    post, delete = runway_server.requests
    assert post.body["maxDuration"] == 120 and delete.method == "DELETE"


def rw_headers(key: str | None = "rw", version: str | None = "2024-11-06") -> dict[str, str]:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    return headers | ({} if version is None else {"X-Runway-Version": version})


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (rw_headers(key=None), 401),
        (rw_headers(key="wrong"), 401),
        (rw_headers(version=None), 400),
        (rw_headers(version="2023-01-01"), 400),
    ],
    ids=["no key", "wrong key", "no version", "old version"],
)
@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_runway_every_route_checks_key_and_version(
    runway_server: RunwayServer,
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    status: int,
    method: str,
) -> None:
    path = "/v1/realtime_sessions" + ("/x" if method == "DELETE" else "")
    async with http.request(method, runway_server.base_url + path, headers=headers) as resp:
        got, error = await answer(resp)
    assert got == status and set(error) == {"error"}


def rw_body(**change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "gwm1_avatars",
        "avatar": {"type": "runway-preset", "presetId": "game-character"},
        "livekit": {"url": LK_URL, "token": room_token(), "roomName": "r", "agentIdentity": "a"},
        "maxDuration": 60,
    }
    return body | change


RUNWAY_BAD: dict[str, dict[str, Any]] = {
    "wrong model": rw_body(model="gen4_turbo"),
    "no avatar": {k: v for k, v in rw_body().items() if k != "avatar"},
    "avatar type": rw_body(avatar={"type": "face", "presetId": "x"}),
    "preset without id": rw_body(avatar={"type": "runway-preset"}),
    "too long": rw_body(maxDuration=301),
    "unknown field": rw_body(colour="red"),
    "token not a JWT": rw_body(livekit={"url": LK_URL, "token": "nope", "roomName": "r"}),
    "token for another room": rw_body(
        livekit={"url": LK_URL, "token": room_token(room="other"), "roomName": "r"}
    ),
    "not an object": [],  # type: ignore[dict-item]
}


@pytest.mark.parametrize("body", RUNWAY_BAD.values(), ids=RUNWAY_BAD.keys())
async def test_runway_bad_bodies_get_validation_issues(
    runway_server: RunwayServer, http: aiohttp.ClientSession, body: Any
) -> None:
    url = runway_server.base_url + "/v1/realtime_sessions"
    async with http.post(url, json=body, headers=rw_headers()) as resp:
        status, error = await answer(resp)
    assert status == 400 and error["error"] == "Validation of body failed"
    assert error["issues"] and all({"code", "path", "message"} <= set(i) for i in error["issues"])
    assert not runway_server.avatars


async def test_runway_unknown_session_and_route(
    runway_server: RunwayServer, http: aiohttp.ClientSession
) -> None:
    base = runway_server.base_url
    async with http.delete(base + "/v1/realtime_sessions/nope", headers=rw_headers()) as resp:
        assert (await answer(resp))[0] == 404
    async with http.get(base + "/v1/tasks", headers=rw_headers()) as resp:
        assert (await answer(resp))[0] == 404
    async with http.get(base + "/v1/realtime_sessions", headers=rw_headers()) as resp:
        assert (await answer(resp))[0] == 405


# --- injected faults ----------------------------------------------------------------------


async def test_fail_next_answers_in_the_providers_json(
    tavus_server: TavusServer, runway_server: RunwayServer, http: aiohttp.ClientSession
) -> None:
    tavus_server.fail_next(1, status=503)
    tavus_server.fail_next(1, status=401)
    runway_server.fail_next(1, status=500, body="plain words")
    runway_server.fail_next(1, status=422, body='{"error": "bad avatar"}')
    url = tavus_server.api_url + "/conversations"
    async with http.post(url, json={}, headers={"x-api-key": "tvs"}) as resp:
        status, body = await answer(resp)
        assert status == 503 and set(body) == {"error"}
    async with http.post(url, json={}, headers={"x-api-key": "tvs"}) as resp:
        status, body = await answer(resp)
        assert status == 401 and set(body) == {"message"}
    url = runway_server.base_url + "/v1/realtime_sessions"
    async with http.post(url, json={}, headers=rw_headers()) as resp:
        assert await answer(resp) == (500, {"error": "plain words"})
    async with http.post(url, json={}, headers=rw_headers()) as resp:
        assert await answer(resp) == (422, {"error": "bad avatar"})
