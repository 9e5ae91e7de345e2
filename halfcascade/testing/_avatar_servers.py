"""Local Tavus and Runway APIs for the real avatar plugins, with a stand-in avatar.

Point the plugins at them and nothing else changes::

    async with TavusServer() as tavus:
        avatar = TavusAvatar(api_url=tavus.api_url, api_key="test")

What they serve, exactly as ``livekit-plugins-tavus`` / ``-runway`` 1.8.9 call it:

- Tavus: ``POST {api_url}/conversations`` (``x-api-key``; ``{pal_id, face_id?,
  conversation_name, properties: {livekit_ws_url, livekit_room_token}}``) answers
  ``{"conversation_id", ...}``; ``POST /pals`` and ``/personas`` answer their ids.
- Runway: ``POST {api_url}/v1/realtime_sessions`` (``Authorization: Bearer``,
  ``X-Runway-Version: 2024-11-06``; ``{model, avatar, livekit: {url, token, roomName,
  agentIdentity}, maxDuration?}``) answers ``{"id"}``; ``DELETE .../{id}`` ends it.

With ``behaviour.join`` (the default) the server then sends a stand-in avatar into the
room with the token it was given: livekit's ``DataStreamAudioReceiver`` and
``AvatarRunner`` driving halfcascade's local avatar, publishing video and audio and
answering the ``lk.*`` RPCs, so the whole remote-avatar protocol runs against a real
livekit-server. A Runway avatar leaves at ``maxDuration``, on ``END_CALL`` or ``DELETE``.

Faults: :meth:`fail_next` (HTTP errors), ``behaviour.delay`` (slow responses),
``behaviour.join=False`` (accepted but never joins), ``behaviour.reports_start=False``
(never sends ``lk.playback_started``). Every request is kept in :attr:`requests`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from livekit import rtc
from livekit.agents.voice.avatar import AvatarOptions, AvatarRunner, DataStreamAudioReceiver

from .._service import Service
from ..avatar.local import LocalVideoGenerator

__all__ = ["AvatarBehaviour", "AvatarRequest", "RunwayServer", "StandInAvatar", "TavusServer"]

logger = logging.getLogger("halfcascade.testing.avatar")

_ON_BEHALF = "lk.publish_on_behalf"
_JSON: web.RequestKey[dict[str, Any]] = web.RequestKey("json", dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class AvatarBehaviour:
    """How the stand-in provider and its avatar behave.

    Attributes:
        join: send an avatar into the room after a successful create call.
        delay: seconds before each HTTP response.
        join_delay: seconds between the response and the avatar connecting.
        reports_start: the avatar sends ``lk.playback_started``.
        size: the avatar's video width and height (small keeps tests light).
    """

    join: bool = True
    delay: float = 0.0
    join_delay: float = 0.0
    reports_start: bool = True
    size: int = 128


@dataclass(frozen=True, slots=True)
class AvatarRequest:
    """One HTTP request as received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.perf_counter)


class _Receiver(DataStreamAudioReceiver):
    def __init__(self, room: rtc.Room, *, sender: str | None, reports_start: bool) -> None:
        super().__init__(room, sender_identity=sender)
        self._reports_start = reports_start

    def notify_playback_started(self) -> None:
        if self._reports_start:
            super().notify_playback_started()


class StandInAvatar:
    """A provider's avatar participant: receives the agent's audio, publishes a face."""

    def __init__(self, *, url: str, token: str, sender: str | None, behaviour: AvatarBehaviour):
        self._url, self._token, self._sender, self._b = url, token, sender, behaviour
        self.room = rtc.Room()
        self.identity: str = jwt.decode(token, options={"verify_signature": False})["sub"]
        self.runner: AvatarRunner | None = None
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
            self.runner = AvatarRunner(
                self.room,
                audio_recv=_Receiver(
                    self.room, sender=self._sender, reports_start=self._b.reports_start
                ),
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

    async def aclose(self) -> None:
        """Leave the room."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        else:
            await self._leave()


class _AvatarServer(Service):
    def __init__(self, *, behaviour: AvatarBehaviour | None = None, port: int = 0) -> None:
        self.behaviour = behaviour or AvatarBehaviour()
        self.requests: list[AvatarRequest] = []
        self.avatars: list[StandInAvatar] = []
        self._faults: list[tuple[int, str]] = []
        self._port = port
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._port}"

    def fail_next(self, n: int = 1, *, status: int = 500, body: str = "stand-in failure") -> None:
        """Answer the next ``n`` requests with HTTP ``status``."""
        self._faults.extend([(status, body)] * n)

    async def start(self) -> None:
        """Bind and serve."""
        app = web.Application(middlewares=[self._middleware])
        self._routes(app)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port, shutdown_timeout=0.5)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def aclose(self) -> None:
        """Stop serving and take every stand-in avatar out of its room."""
        for avatar in self.avatars:
            await avatar.aclose()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            with contextlib.suppress(ValueError):
                body = json.loads(raw)
        self.requests.append(
            AvatarRequest(request.method, request.path, dict(request.headers), body)
        )
        await asyncio.sleep(self.behaviour.delay)
        if self._faults:
            status, text = self._faults.pop(0)
            return web.Response(status=status, text=text)
        request[_JSON] = body if isinstance(body, dict) else {}
        response: web.StreamResponse = await handler(request)
        return response

    def _spawn(self, url: str, token: str, sender: str | None, leave_after: float | None) -> None:
        if not self.behaviour.join:
            return
        avatar = StandInAvatar(url=url, token=token, sender=sender, behaviour=self.behaviour)
        self.avatars.append(avatar)
        avatar.start(leave_after=leave_after)


class TavusServer(_AvatarServer):
    """The Tavus API (``/v2``) used by ``livekit-plugins-tavus``."""

    @property
    def api_url(self) -> str:
        """Pass as ``api_url=``."""
        return f"{self.base_url}/v2"

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/v2/conversations", self._conversation)
        app.router.add_post("/v2/pals", self._named("pal_id"))
        app.router.add_post("/v2/personas", self._named("persona_id"))

    async def _conversation(self, request: web.Request) -> web.Response:
        if not request.headers.get("x-api-key"):
            return web.Response(status=401, text='{"message": "Invalid access token"}')
        props = request[_JSON].get("properties") or {}
        url, token = props.get("livekit_ws_url"), props.get("livekit_room_token")
        if not (url and token):
            return web.Response(status=400, text='{"message": "missing livekit properties"}')
        cid = f"c{uuid.uuid4().hex[:12]}"
        sender = jwt.decode(token, options={"verify_signature": False})
        self._spawn(url, token, (sender.get("attributes") or {}).get(_ON_BEHALF), None)
        return web.json_response(
            {
                "conversation_id": cid,
                "conversation_name": request[_JSON].get("conversation_name"),
                "status": "active",
            }
        )

    def _named(self, key: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response({key: f"p{uuid.uuid4().hex[:10]}"})

        return handler


class RunwayServer(_AvatarServer):
    """The Runway realtime-sessions API used by ``livekit-plugins-runway``."""

    @property
    def api_url(self) -> str:
        """Pass as ``api_url=``."""
        return self.base_url

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/realtime_sessions", self._create)
        app.router.add_delete("/v1/realtime_sessions/{sid}", self._delete)
        self._sessions: dict[str, StandInAvatar | None] = {}

    async def _create(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or len(auth) <= len("Bearer "):
            return web.Response(status=401, text='{"error": "unauthorized"}')
        if request.headers.get("X-Runway-Version") != "2024-11-06":
            return web.Response(status=400, text='{"error": "unsupported X-Runway-Version"}')
        body = request[_JSON]
        lk = body.get("livekit") or {}
        if body.get("model") != "gwm1_avatars" or not (lk.get("url") and lk.get("token")):
            return web.Response(status=400, text='{"error": "bad request"}')
        sid = str(uuid.uuid4())
        before = len(self.avatars)
        self._spawn(lk["url"], lk["token"], lk.get("agentIdentity"), body.get("maxDuration"))
        self._sessions[sid] = self.avatars[-1] if len(self.avatars) > before else None
        return web.json_response({"id": sid})

    async def _delete(self, request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        if sid not in self._sessions:
            return web.Response(status=404, text='{"error": "not found"}')
        avatar = self._sessions.pop(sid)
        if avatar is not None:
            await avatar.aclose()
        return web.Response(status=204)
