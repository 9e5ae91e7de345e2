"""Validate a client event as the Realtime API does, before any handler sees it.

Two layers, in the service's order: the ``openai`` package's own event models walked
strictly (:mod:`._checks`: unknown parameters, missing required ones, wrong types and
enum values), then the rules those models cannot express (``output_modalities`` is
``["text"]`` or ``["audio"]``, a function tool needs a ``name``, a content part needs its
``type`` and payload, ``max_output_tokens`` is 1-4096 or ``"inf"``, metadata limits...).
Last, the event must also pass ``TypeAdapter(RealtimeClientEvent)`` itself.

What the stand-in deliberately does not implement (transcription sessions, G.711 audio,
MCP tools, prompt templates, transcription logprobs, ``idle_timeout_ms``, WebRTC's
``output_audio_buffer.clear``) is refused with the code ``not_supported_by_stand_in``
instead of being accepted and silently ignored.
"""

from __future__ import annotations

import logging
from typing import Any, get_args

from openai.types.realtime import ConversationItem, RealtimeClientEvent
from openai.types.realtime.response_item_reference import ResponseItemReference
from pydantic import BaseModel, TypeAdapter, ValidationError

from ._checks import ClientError, check, invalid_value, quote_list
from ._protocol import Event

__all__ = ["CLIENT_EVENT_TYPES", "STAND_IN_UNSUPPORTED", "event_id_of", "validate_client_event"]

logger = logging.getLogger("halfcascade.testing.openai_realtime")

#: The code of an error for a valid request the stand-in does not implement.
STAND_IN_UNSUPPORTED = "not_supported_by_stand_in"

_MODELS: dict[str, type[BaseModel]] = {
    get_args(m.model_fields["type"].annotation)[0]: m
    for m in get_args(get_args(RealtimeClientEvent)[0])
}
#: Every client event type the ``openai`` package defines, in its order.
CLIENT_EVENT_TYPES: tuple[str, ...] = tuple(_MODELS)
_ADAPTER: TypeAdapter[Any] = TypeAdapter(RealtimeClientEvent)
_MODALITIES = (["text"], ["audio"])
_MAX_TOKENS = 4096
_MAX_CALL_ID = 32
_METADATA_PAIRS, _METADATA_KEY, _METADATA_VALUE = 16, 64, 512
_PAYLOAD_OF_PART = {
    "input_text": "text",
    "input_audio": "audio",
    "input_image": "image_url",
    "output_text": "text",
}


def event_id_of(raw: Any) -> str | None:
    """The client's ``event_id``, echoed in an ``error`` about its event."""
    event_id = raw.get("event_id") if isinstance(raw, dict) else None
    return event_id if isinstance(event_id, str) else None


def validate_client_event(raw: Any) -> Event:
    """Return the event when the service would accept it; raise :class:`ClientError`."""
    if not isinstance(raw, dict) or "type" not in raw:
        raise ClientError("invalid_event", "The 'type' field is missing.")
    kind = raw["type"]
    model = _MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise invalid_value("type", kind, CLIENT_EVENT_TYPES)
    if kind == "output_audio_buffer.clear":
        raise _unsupported("output_audio_buffer.clear", "it is a WebRTC/SIP-only event")
    without = _check_structure(model, raw)
    _RULES.get(kind, _no_rules)(raw)
    try:
        _ADAPTER.validate_python(without)
    except ValidationError as exc:  # the walk above should have caught it first
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"][1:]) or None
        logger.debug("client event failed the SDK's own type", extra={"lk.pii.error": str(exc)})
        raise ClientError(
            "invalid_value", f"Invalid value for '{param}': {first['msg']}.", param
        ) from None
    return raw


def _check_structure(model: type[BaseModel], raw: Event) -> Event:
    """Walk the event against its model; return it without ``item_reference`` inputs.

    The SDK's ``ResponseCreateEvent`` model types ``response.input`` as conversation
    items only, while the API (and the SDK's own ``ResponseCreateEventWithReferencesParam``)
    also takes ``{"type": "item_reference", "id"}``: each input is checked on its own
    (a reference against ``ResponseItemReference``), the rest of the event against the model.
    """
    response = raw.get("response")
    inputs = response.get("input") if isinstance(response, dict) else None
    if raw["type"] != "response.create" or not isinstance(inputs, list):
        check(model, raw, "")
        return raw
    assert isinstance(response, dict)
    for i, item in enumerate(inputs):
        is_reference = isinstance(item, dict) and item.get("type") == "item_reference"
        check(
            ResponseItemReference if is_reference else ConversationItem,
            item,
            f"response.input[{i}]",
        )
    check(model, {**raw, "response": {k: v for k, v in response.items() if k != "input"}}, "")
    kept = [item for item in inputs if item.get("type") != "item_reference"]
    return {**raw, "response": {**response, "input": kept}}


def _unsupported(what: str, why: str, param: str | None = None) -> ClientError:
    message = (
        f"halfcascade's RealtimeServer does not implement {what} ({why}); "
        "the real service accepts it. Test this against the real API."
    )
    return ClientError(STAND_IN_UNSUPPORTED, message, param)


def _no_rules(raw: Event) -> None:
    return None


def _session_rules(raw: Event) -> None:
    session = raw["session"]
    if session.get("type") == "transcription":
        raise _unsupported("transcription sessions", "only 'realtime' sessions", "session.type")
    _response_like_rules(session, "session")
    audio = session.get("audio") or {}
    for side in ("input", "output"):
        fmt = (audio.get(side) or {}).get("format") or {}
        if fmt.get("type", "audio/pcm") != "audio/pcm":
            param = f"session.audio.{side}.format.type"
            raise _unsupported(f"{fmt['type']} audio", "only audio/pcm at 24000 Hz", param)
    speed = (audio.get("output") or {}).get("speed")
    if speed is not None:
        _in_range(speed, 0.25, 1.5, "session.audio.output.speed", "decimal")
    turn = (audio.get("input") or {}).get("turn_detection") or {}
    if turn.get("threshold") is not None:
        _in_range(
            turn["threshold"], 0.0, 1.0, "session.audio.input.turn_detection.threshold", "decimal"
        )
    for key in ("prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms"):
        if turn.get(key) is not None:
            _in_range(turn[key], 0, None, f"session.audio.input.turn_detection.{key}", "integer")
    if turn.get("idle_timeout_ms") is not None:
        param = "session.audio.input.turn_detection.idle_timeout_ms"
        raise _unsupported("idle_timeout_ms", "no input_audio_buffer.timeout_triggered", param)
    if session.get("include"):
        raise _unsupported("transcription logprobs", "transcripts only", "session.include")


def _response_rules(raw: Event) -> None:
    response = raw.get("response")
    if response is None:
        return
    _response_like_rules(response, "response")
    conversation = response.get("conversation")
    if conversation is not None and conversation not in ("auto", "none"):
        raise invalid_value("response.conversation", conversation, ["auto", "none"])
    for i, item in enumerate(response.get("input") or []):
        if item.get("type") != "item_reference":
            _item_rules(item, f"response.input[{i}]")
    _metadata_rules(response.get("metadata"), "response.metadata")


def _response_like_rules(params: Event, path: str) -> None:
    """Rules shared by ``session`` and ``response`` parameters."""
    if params.get("prompt") is not None:
        raise _unsupported("prompt templates", "reply callables get instructions", f"{path}.prompt")
    modalities = params.get("output_modalities")
    if modalities is not None and modalities not in _MODALITIES:
        message = (
            f"Invalid modalities: {modalities}. Supported combinations are: ['text'] and ['audio']."
        )
        raise ClientError("invalid_value", message, f"{path}.output_modalities")
    tokens = params.get("max_output_tokens")
    if isinstance(tokens, int):
        _in_range(tokens, 1, _MAX_TOKENS, f"{path}.max_output_tokens", "integer")
    for i, tool in enumerate(params.get("tools") or []):
        if tool.get("type") == "mcp":
            raise _unsupported("MCP tools", "function tools only", f"{path}.tools[{i}].type")
        if not tool.get("name"):
            param = f"{path}.tools[{i}].name"
            raise ClientError(
                "missing_required_parameter", f"Missing required parameter: '{param}'.", param
            )
    choice = params.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "mcp":
        raise _unsupported("MCP tools", "function tools only", f"{path}.tool_choice.type")


def _item_create_rules(raw: Event) -> None:
    _item_rules(raw["item"], "item")


def _item_rules(item: Event, path: str) -> None:
    if item.get("type") in ("function_call", "function_call_output"):
        call_id = item.get("call_id")
        if isinstance(call_id, str) and len(call_id) > _MAX_CALL_ID:
            raise _too_long(f"{path}.call_id", _MAX_CALL_ID, len(call_id))
    if item.get("type") != "message":
        return
    for i, part in enumerate(item.get("content") or []):
        where = f"{path}.content[{i}]"
        kind = part.get("type")
        if kind is None:
            message = f"Missing required parameter: '{where}.type'."
            raise ClientError("missing_required_parameter", message, f"{where}.type")
        if kind == "output_audio":
            message = (
                f"Invalid value: 'output_audio'. Assistant audio cannot be added to the "
                f"conversation; supported values are: {quote_list(['output_text'])}."
            )
            raise ClientError("invalid_value", message, f"{where}.type")
        payload = _PAYLOAD_OF_PART[kind]
        if part.get(payload) is None:
            param = f"{where}.{payload}"
            message = f"Missing required parameter: '{param}'."
            raise ClientError("missing_required_parameter", message, param)


def _metadata_rules(metadata: Any, path: str) -> None:
    if not isinstance(metadata, dict):
        return
    if len(metadata) > _METADATA_PAIRS:
        message = (
            f"Invalid '{path}': too many properties. Expected an object with at most "
            f"{_METADATA_PAIRS} properties, but got an object with {len(metadata)} properties "
            "instead."
        )
        raise ClientError("object_above_max_properties", message, path)
    for key, value in metadata.items():
        if len(key) > _METADATA_KEY:
            raise _too_long(f"{path}.{key}", _METADATA_KEY, len(key), what="key")
        if len(value) > _METADATA_VALUE:
            raise _too_long(f"{path}.{key}", _METADATA_VALUE, len(value))


def _too_long(param: str, limit: int, got: int, *, what: str = "string") -> ClientError:
    message = (
        f"Invalid '{param}': {what} too long. Expected a {what} with maximum length {limit}, "
        f"but got a {what} with length {got} instead."
    )
    return ClientError("string_above_max_length", message, param)


def _in_range(value: float, low: float, high: float | None, param: str, kind: str) -> None:
    if value < low:
        message = (
            f"Invalid '{param}': {kind} below minimum value. Expected a value >= {low}, "
            f"but got {value} instead."
        )
        raise ClientError(f"{kind}_below_min_value", message, param)
    if high is not None and value > high:
        message = (
            f"Invalid '{param}': {kind} above maximum value. Expected a value <= {high}, "
            f"but got {value} instead."
        )
        raise ClientError(f"{kind}_above_max_value", message, param)


_RULES = {
    "session.update": _session_rules,
    "conversation.item.create": _item_create_rules,
    "response.create": _response_rules,
}
