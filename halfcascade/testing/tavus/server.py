"""A local Tavus API (``/v2``) for ``livekit-plugins-tavus``, with a stand-in avatar.

Point the plugin (or halfcascade's :class:`~halfcascade.avatar.TavusAvatar`) at it::

    async with TavusServer() as tavus:
        avatar = TavusAvatar(api_url=tavus.api_url, api_key="test")

What it serves, with the ``x-api-key`` header on every route:

- ``POST /v2/conversations``: ``{pal_id|persona_id, face_id|replica_id,
  conversation_name, properties: {livekit_ws_url, livekit_room_token, ...}, ...}``
  answers ``{"conversation_id", "conversation_name", "status", "conversation_url",
  "created_at", ...}``; with ``behaviour.join`` the stand-in avatar then joins the room
  with that token.
- ``POST /v2/pals`` and ``POST /v2/personas`` answer their new ids.

Bodies are checked against the documented fields and types (unknown fields are refused
on conversations, whose fields the API reference lists; pals and personas accept more).
Errors are JSON, as Tavus sends them: 401 ``{"message": "Invalid access token"}``, 400
``{"error": "..."}`` for a bad body or a room token that is not a livekit JWT, 404/405
``{"error": ...}`` for unknown routes.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from .._avatar import (
    JSON_BODY,
    AvatarBehaviour,
    AvatarRequest,
    AvatarServer,
    livekit_problem,
    token_claims,
)

__all__ = ["AvatarBehaviour", "AvatarRequest", "TavusServer"]

_ON_BEHALF = "lk.publish_on_behalf"
_Seconds = Annotated[int, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Properties(_Strict):
    livekit_ws_url: StrictStr | None = None
    livekit_room_token: StrictStr | None = None
    max_call_duration: Annotated[int, Field(ge=1, le=3600)] | None = None
    participant_left_timeout: _Seconds | None = None
    participant_absent_timeout: _Seconds | None = None
    enable_recording: StrictBool | None = None
    enable_closed_captions: StrictBool | None = None
    enable_transcription: StrictBool | None = None
    apply_greenscreen: StrictBool | None = None
    language: StrictStr | None = None
    recording_s3_bucket_name: StrictStr | None = None
    recording_s3_bucket_region: StrictStr | None = None
    aws_assume_role_arn: StrictStr | None = None


class _Conversation(_Strict):
    pal_id: StrictStr | None = None
    persona_id: StrictStr | None = None
    face_id: StrictStr | None = None
    replica_id: StrictStr | None = None
    conversation_name: StrictStr | None = None
    callback_url: StrictStr | None = None
    conversational_context: StrictStr | None = None
    custom_greeting: StrictStr | None = None
    audio_only: StrictBool | None = None
    memory_stores: list[StrictStr] | None = None
    document_ids: list[StrictStr] | None = None
    document_retrieval_strategy: Literal["speed", "balanced", "quality"] | None = None
    document_tags: list[StrictStr] | None = None
    test_mode: StrictBool | None = None
    require_auth: StrictBool | None = None
    max_participants: Annotated[int, Field(ge=2)] | None = None
    properties: _Properties | None = None


class _Named(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    pipeline_mode: Literal["full", "echo"] | None = None
    layers: dict[str, Any] | None = None


class _Pal(_Named):
    pal_name: StrictStr | None = None
    default_face_id: StrictStr | None = None


class _Persona(_Named):
    persona_name: StrictStr | None = None
    default_replica_id: StrictStr | None = None


class TavusServer(AvatarServer):
    """The Tavus API (``/v2``) used by ``livekit-plugins-tavus``."""

    provider = "tavus"

    @property
    def api_url(self) -> str:
        """Pass as ``api_url=``."""
        return f"{self.base_url}/v2"

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/v2/conversations", self._conversation)
        app.router.add_post("/v2/pals", self._pal)
        app.router.add_post("/v2/personas", self._persona)

    def _error(self, status: int, message: str) -> web.Response:
        # Tavus answers a bad key with {"message"}, every other error with {"error"}
        body = {"message": message} if status == 401 else {"error": message}
        return self._answer("error", body, status=status)

    def _refuse(self, request: web.Request) -> web.Response | None:
        if self._key_problem(request.headers.get("x-api-key")) is not None:
            return self._error(401, "Invalid access token")
        return None

    def _parse(self, request: web.Request, model: type[BaseModel]) -> BaseModel | web.Response:
        body = request[JSON_BODY]
        if not isinstance(body, dict):
            return self._error(400, "Invalid request body: expected a JSON object")
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            return self._error(400, f"Invalid request body: {where}: {err['msg']}")

    async def _conversation(self, request: web.Request) -> web.Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        parsed = self._parse(request, _Conversation)
        if isinstance(parsed, web.Response):
            return parsed
        assert isinstance(parsed, _Conversation)
        if not (parsed.pal_id or parsed.persona_id or parsed.face_id or parsed.replica_id):
            return self._error(400, "Invalid request body: a pal_id or face_id is required")
        props = parsed.properties or _Properties()
        url, token = props.livekit_ws_url, props.livekit_room_token
        if url is not None or token is not None:
            if (problem := livekit_problem(url, token)) is not None:
                return self._error(400, f"Invalid properties: {problem}")
            assert url is not None and token is not None
            sender = (token_claims(token).get("attributes") or {}).get(_ON_BEHALF)
            self._spawn(url, token, sender, None)
        cid = f"c{uuid.uuid4().hex[:12]}"
        answer: dict[str, Any] = {
            "conversation_id": cid,
            "conversation_name": parsed.conversation_name or f"Conversation {cid}",
            "status": "active",
            "conversation_url": f"https://tavus.daily.co/{cid}",
            "created_at": _now(),
        }
        for key in ("pal_id", "face_id", "persona_id", "replica_id", "callback_url"):
            if (value := getattr(parsed, key)) is not None:
                answer[key] = value
        return self._answer("conversation", answer)

    async def _pal(self, request: web.Request) -> web.Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        parsed = self._parse(request, _Pal)
        if isinstance(parsed, web.Response):
            return parsed
        assert isinstance(parsed, _Pal)
        name = parsed.pal_name or "Untitled pal"
        body = {"pal_id": f"p{uuid.uuid4().hex[:10]}", "pal_name": name, "created_at": _now()}
        return self._answer("pal", body)

    async def _persona(self, request: web.Request) -> web.Response:
        if (refused := self._refuse(request)) is not None:
            return refused
        parsed = self._parse(request, _Persona)
        if isinstance(parsed, web.Response):
            return parsed
        assert isinstance(parsed, _Persona)
        pid = f"p{uuid.uuid4().hex[:10]}"
        body = {"persona_id": pid, "persona_name": parsed.persona_name or pid, "created_at": _now()}
        return self._answer("persona", body)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
