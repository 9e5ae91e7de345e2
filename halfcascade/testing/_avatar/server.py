"""What the Tavus and Runway stand-ins share: lifecycle, records, faults, JSON answers.

Every request is recorded, delayed by ``behaviour.delay``, and answered by the
subclass's handler unless a fault is queued. Every answer with a body is JSON in the
provider's own error or response shape and is reported to the conformance recorder
(``emit(provider, kind, body)``); an unknown route or method gets the provider's JSON
404/405. Any non-empty API key is accepted unless ``api_key`` names the one that is.

Livekit room credentials handed to a provider are checked before an avatar is sent: the
URL must be ``ws``/``wss`` (or ``http``/``https``) and the token a livekit JWT with a
``sub`` (the avatar's identity) and a ``video`` grant; anything else is the provider's
400, never a server error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Literal
from urllib.parse import urlparse

import jwt
from aiohttp import web

from ..._service import Service
from ...errors import ConfigError
from ..conformance import emit
from .behaviour import AvatarBehaviour, AvatarRequest
from .stand_in import StandInAvatar

__all__ = ["JSON_BODY", "AvatarServer", "livekit_problem", "token_claims"]

logger = logging.getLogger("halfcascade.testing.avatar")

#: The parsed JSON body of the request being handled (``None``: empty or not JSON).
JSON_BODY: web.RequestKey[Any] = web.RequestKey("json", object)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_FAULT_MESSAGE = "injected fault (halfcascade test server)"


class AvatarServer(Service):
    """Base of the avatar provider stand-ins; subclasses add routes and the error shape."""

    provider: ClassVar[Literal["tavus", "runway"]]

    def __init__(
        self,
        *,
        behaviour: AvatarBehaviour | None = None,
        port: int = 0,
        api_key: str | None = None,
    ) -> None:
        """Args:
        behaviour: how the provider and its avatar behave (see :class:`AvatarBehaviour`).
        port: where to listen on 127.0.0.1 (0: a free port).
        api_key: the only key accepted (``None``: any non-empty key).
        """
        if api_key is not None and not api_key:
            raise ConfigError("api_key must be a non-empty string, or None to accept any key")
        self.behaviour = behaviour or AvatarBehaviour()
        self.requests: list[AvatarRequest] = []
        self.avatars: list[StandInAvatar] = []
        self._api_key = api_key
        self._faults: list[tuple[int, str | None]] = []
        self._port = port
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._port}"

    def fail_next(self, n: int = 1, *, status: int = 500, body: str | None = None) -> None:
        """Answer the next ``n`` requests with HTTP ``status``.

        ``body`` is sent as given if it is JSON; other text becomes the message of the
        provider's JSON error; ``None`` sends the provider's error with a stock message.
        """
        if n < 1 or not 400 <= status <= 599:
            raise ConfigError(f"fail_next needs n >= 1 and a 4xx/5xx status, got {n}, {status}")
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

    # --- for subclasses ----------------------------------------------------------------------

    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _error(self, status: int, message: str) -> web.Response:
        """The provider's JSON error answer (reported as ``<provider>/error``)."""
        raise NotImplementedError

    def _answer(self, kind: str, body: Any, *, status: int = 200) -> web.Response:
        """A JSON answer, reported to the conformance recorder."""
        emit(self.provider, kind, body)
        return web.json_response(body, status=status)

    def _key_problem(self, key: str | None) -> str | None:
        """Why ``key`` is refused, or ``None``."""
        if not key or not key.strip():
            return "missing"
        if self._api_key is not None and key != self._api_key:
            return "invalid"
        return None

    def _spawn(self, url: str, token: str, sender: str | None, leave_after: float | None) -> None:
        if not self.behaviour.join:
            return
        avatar = StandInAvatar(url=url, token=token, sender=sender, behaviour=self.behaviour)
        self.avatars.append(avatar)
        avatar.start(leave_after=leave_after)

    # --- the pipeline every request goes through ---------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
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
            return self._fault(*self._faults.pop(0))
        request[JSON_BODY] = body
        try:
            return await handler(request)
        except web.HTTPMethodNotAllowed:
            return self._error(405, f"Method {request.method} not allowed on {request.path}")
        except web.HTTPNotFound:
            return self._error(404, f"Not found: {request.method} {request.path}")

    def _fault(self, status: int, body: str | None) -> web.Response:
        if body is None:
            return self._error(status, _FAULT_MESSAGE)
        try:
            parsed = json.loads(body)
        except ValueError:
            return self._error(status, body)
        return self._answer("error", parsed, status=status)


def livekit_problem(url: Any, token: Any) -> str | None:
    """Why a livekit URL and room token cannot be used, or ``None`` when they can."""
    if not isinstance(url, str) or urlparse(url).scheme not in ("ws", "wss", "http", "https"):
        return f"the livekit url must be a ws:// or wss:// URL, got {url!r}"
    if not isinstance(token, str):
        return "the livekit token must be a string (a livekit access token, a JWT)"
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return "the livekit token is not a JWT (mint it with livekit.api.AccessToken)"
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        return "the livekit token has no identity (sub)"
    if not isinstance(claims.get("video"), dict) or not claims["video"].get("roomJoin"):
        return "the livekit token does not grant roomJoin"
    return None


def token_claims(token: str) -> dict[str, Any]:
    """The unverified claims of a token :func:`livekit_problem` accepted."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims
