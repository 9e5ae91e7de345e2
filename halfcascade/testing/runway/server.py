"""A local Runway realtime-sessions API for ``livekit-plugins-runway``, with a stand-in avatar.

Point the plugin (or halfcascade's :class:`~halfcascade.avatar.RunwayAvatar`) at it::

    async with RunwayServer() as runway:
        avatar = RunwayAvatar(preset_id="game-character", api_url=runway.api_url, api_key="k")

What it serves, with ``Authorization: Bearer <key>`` and ``X-Runway-Version: 2024-11-06``
on every route:

- ``POST /v1/realtime_sessions``: ``{model: "gwm1_avatars", avatar: {type: "custom",
  avatarId} | {type: "runway-preset", presetId}, livekit: {url, token, roomName,
  agentIdentity}, maxDuration?}`` answers ``{"id"}``; with ``behaviour.join`` the
  stand-in avatar joins the room and leaves at ``maxDuration``, on ``END_CALL`` or on
  ``DELETE``.
- ``DELETE /v1/realtime_sessions/{id}`` ends it (204; 404 if unknown).

Bodies are checked against the documented shape (``maxDuration`` at most 300 s, the
token a livekit JWT for ``roomName``); a bad one gets Runway's 400 ``{"error":
"Validation of body failed", "issues": [{code, path, message}], "docUrl"}``. Other errors
are ``{"error": "..."}``: 401 for a missing or wrong key, 400 for a missing or wrong
``X-Runway-Version``, 404/405 for unknown sessions and routes.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from .._avatar import (
    JSON_BODY,
    AvatarBehaviour,
    AvatarRequest,
    AvatarServer,
    StandInAvatar,
    livekit_problem,
    token_claims,
)

__all__ = ["AvatarBehaviour", "AvatarRequest", "RunwayServer"]

API_VERSION = "2024-11-06"
_DOC_URL = "https://docs.dev.runwayml.com/api"
_NonEmpty = Annotated[StrictStr, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Custom(_Strict):
    type: Literal["custom"]
    avatarId: _NonEmpty


class _Preset(_Strict):
    type: Literal["runway-preset"]
    presetId: _NonEmpty


class _LiveKit(_Strict):
    url: _NonEmpty
    token: _NonEmpty
    roomName: _NonEmpty
    agentIdentity: _NonEmpty | None = None


class _Session(_Strict):
    model: Literal["gwm1_avatars"]
    avatar: Annotated[_Custom | _Preset, Field(discriminator="type")]
    maxDuration: Annotated[int, Field(ge=1, le=300)] | None = None
    livekit: _LiveKit | None = None
    instructions: StrictStr | None = None
    startScript: StrictStr | None = None
    personality: StrictStr | None = None
    tools: list[dict[str, Any]] | None = None


class RunwayServer(AvatarServer):
    """The Runway realtime-sessions API used by ``livekit-plugins-runway``."""

    provider = "runway"

    @property
    def api_url(self) -> str:
        """Pass as ``api_url=``."""
        return self.base_url

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/realtime_sessions", self._create)
        app.router.add_delete("/v1/realtime_sessions/{sid}", self._delete)
        self._sessions: dict[str, StandInAvatar | None] = {}

    def _error(self, status: int, message: str) -> web.Response:
        return self._answer("error", {"error": message}, status=status)

    def _refuse(self, request: web.Request) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        key = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
        if (problem := self._key_problem(key)) is not None:
            what = "No API key was provided" if problem == "missing" else "Invalid API key"
            return self._error(401, f"{what}. Pass it as 'Authorization: Bearer <key>'.")
        version = request.headers.get("X-Runway-Version")
        if version != API_VERSION:
            return self._error(
                400, f"The X-Runway-Version header must be {API_VERSION!r}, got {version!r}."
            )
        return None

    def _invalid(self, issues: list[dict[str, Any]]) -> web.Response:
        body = {"error": "Validation of body failed", "issues": issues, "docUrl": _DOC_URL}
        return self._answer("error", body, status=400)

    async def _create(self, request: web.Request) -> web.Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        try:
            body = _Session.model_validate(request[JSON_BODY])
        except ValidationError as exc:
            return self._invalid([_issue(err) for err in exc.errors()])
        lk = body.livekit
        if lk is not None:
            if (problem := livekit_problem(lk.url, lk.token)) is not None:
                return self._invalid([{"code": "custom", "path": ["livekit"], "message": problem}])
            room = (token_claims(lk.token).get("video") or {}).get("room")
            if room != lk.roomName:
                message = f"the token grants room {room!r}, not roomName {lk.roomName!r}"
                return self._invalid([{"code": "custom", "path": ["livekit"], "message": message}])
        sid = str(uuid.uuid4())
        before = len(self.avatars)
        if lk is not None:
            self._spawn(lk.url, lk.token, lk.agentIdentity, body.maxDuration)
        self._sessions[sid] = self.avatars[-1] if len(self.avatars) > before else None
        return self._answer("session", {"id": sid})

    async def _delete(self, request: web.Request) -> web.Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        sid = request.match_info["sid"]
        if sid not in self._sessions:
            return self._error(404, "The realtime session does not exist, or has ended.")
        avatar = self._sessions.pop(sid)
        if avatar is not None:
            await avatar.aclose()
        return web.Response(status=204)


def _issue(err: Any) -> dict[str, Any]:
    """A Zod-style issue (what Runway's validator reports) for one pydantic error."""
    codes = {
        "missing": "invalid_type",
        "literal_error": "invalid_value",
        "extra_forbidden": "unrecognized_keys",
        "less_than_equal": "too_big",
        "greater_than_equal": "too_small",
        "string_too_short": "too_small",
    }
    path = [p for p in err["loc"] if not isinstance(p, str) or p not in ("custom", "runway-preset")]
    return {"code": codes.get(err["type"], "invalid_type"), "path": path, "message": err["msg"]}
