"""The Live API's wire: client message parsing, server messages, close codes and reasons.

The client (``google-genai``) sends JSON text frames mixing ``snake_case`` and
``camelCase`` names, which the service's protobuf JSON parser accepts alike; they are
parsed with ``google-genai``'s own ``LiveClientMessage`` (``extra="forbid"``, so an unknown
field is refused as the service refuses it). The service answers in canonical protobuf
JSON: ``camelCase`` names, in **binary** frames, which is what the stand-in sends.

A client error closes the socket, as the service does: 1007 with the service's message
for a bad payload, 1008 for a policy failure (no key, unknown model), 1011 for a server
error. Close reasons are capped at 123 bytes, the websocket limit.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from google.genai import types
from pydantic import ValidationError

__all__ = [
    "AUDIO_ONLY_MODELS",
    "TEXT_MODELS",
    "VERSIONS",
    "ClientClose",
    "WireMessage",
    "WireSetup",
    "content",
    "duration",
    "new_id",
    "parse_client_message",
    "usage_metadata",
]

#: Live models that answer in TEXT or AUDIO (half-cascade models).
TEXT_MODELS = ("gemini-live-2.5-flash-preview", "gemini-2.0-flash-live-001")
#: Live models that only speak: TEXT output is refused (native audio), or fails (3.x live).
AUDIO_ONLY_MODELS = (
    "gemini-2.5-flash-native-audio-preview-12-2025",
    "gemini-2.5-flash-native-audio-preview-09-2025",
    "gemini-live-2.5-flash-native-audio",
    "gemini-3.1-flash-live-preview",
)
#: API versions that serve ``BidiGenerateContent``.
VERSIONS = ("v1alpha", "v1beta", "v1")

INVALID_ARGUMENT = "Request contains an invalid argument."
INTERNAL = "Internal error encountered."
NO_VOICES = "Cannot extract voices from a non-audio request."
NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
_MAX_REASON = 123
_counter = itertools.count(1)


@dataclass(frozen=True, slots=True)
class ClientClose(Exception):
    """Close the socket with ``code`` and ``reason`` (what the service does on bad input)."""

    code: int
    reason: str

    @property
    def wire_reason(self) -> str:
        """The reason cut to the websocket's 123-byte limit."""
        raw = self.reason.encode()[:_MAX_REASON]
        return raw.decode(errors="ignore")


class WireSetup(types.LiveClientSetup):
    """``setup`` as the client sends it: ``LiveClientSetup`` plus ``realtimeInputConfig``.

    ``google-genai``'s converter moves ``LiveConnectConfig.realtime_input_config`` into the
    setup (the service's ``BidiGenerateContentSetup`` has the field), but its own
    ``LiveClientSetup`` type does not declare it yet.
    """

    realtime_input_config: types.RealtimeInputConfig | None = None


class WireMessage(types.LiveClientMessage):
    """A client frame: ``LiveClientMessage`` with :class:`WireSetup`."""

    setup: WireSetup | None = None


def new_id(prefix: str) -> str:
    """A unique id in the service's style."""
    return f"{prefix}-{next(_counter)}-{secrets.token_hex(4)}"


def duration(seconds: float) -> str:
    """A protobuf JSON ``Duration`` (``"1.5s"``)."""
    return f"{max(0.0, seconds):.3f}".rstrip("0").rstrip(".") + "s"


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_client_message(raw: str | bytes) -> WireMessage:
    """One client frame as ``LiveClientMessage`` (:class:`WireMessage`), exactly one field set.

    Raises:
        ClientClose: 1007 with the service's message for anything it would reject.
    """
    try:
        data = json.loads(raw)
    except ValueError:
        raise ClientClose(1007, "Invalid JSON payload received.") from None
    if not isinstance(data, dict):
        raise ClientClose(1007, "Invalid JSON payload received. Expected an object.")
    try:
        msg = WireMessage.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        if err["type"] == "extra_forbidden":
            name, at = loc[-1], _path(loc[:-1])
            raise ClientClose(
                1007,
                f"Invalid JSON payload received. Unknown name \"{name}\" at '{at}': "
                "Cannot find field.",
            ) from None
        raise ClientClose(1007, f"Invalid value at '{_path(loc)}': {err['msg']}") from None
    set_fields = [name for name in type(msg).model_fields if getattr(msg, name) is not None]
    if len(set_fields) != 1:
        raise ClientClose(1007, INVALID_ARGUMENT)
    return msg


def content(**fields: Any) -> dict[str, Any]:
    """A ``serverContent`` message (fields already in wire form)."""
    return {"serverContent": fields}


def usage_metadata(prompt: dict[str, int], response: dict[str, int]) -> dict[str, Any]:
    """``usageMetadata`` with per-modality details (``{"TEXT": n, "AUDIO": m}``)."""

    def details(counts: dict[str, int]) -> list[dict[str, Any]]:
        return [{"modality": m, "tokenCount": n} for m, n in counts.items() if n]

    prompt_n, response_n = sum(prompt.values()), sum(response.values())
    usage: dict[str, Any] = {
        "promptTokenCount": prompt_n,
        "responseTokenCount": response_n,
        "totalTokenCount": prompt_n + response_n,
    }
    if details(prompt):
        usage["promptTokensDetails"] = details(prompt)
    if details(response):
        usage["responseTokensDetails"] = details(response)
    return usage
