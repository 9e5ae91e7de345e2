"""What the server does with each (already validated) client event.

A handler either acts and answers with the service's event, or raises
:class:`~._checks.ClientError` before changing anything; the connection turns that into
the ``error`` event. Messages for the errors the API reference documents are the service's
own; the rest follow its style.
"""

from __future__ import annotations

import base64
import binascii
import copy
from typing import Any

import numpy as np

from ..vad import SpeechStarted
from ._checks import ClientError
from ._conn import RATE, Connection, Handler, voice_name
from ._items import without_audio
from ._protocol import Event, event, merge_session, new_id, tool_names, turn_detection_of

__all__ = ["HANDLERS"]

_MIN_COMMIT_MS = 100


def _not_found(code: str, item_id: str) -> ClientError:
    return ClientError(code, f"Item with item_id '{item_id}' not found.", "item_id")


async def _session_update(conn: Connection, ev: Event, at: float) -> None:
    update = ev["session"]
    voice = ((update.get("audio") or {}).get("output") or {}).get("voice")
    current = ((conn.session.get("audio") or {}).get("output") or {}).get("voice")
    if voice is not None and voice != current and conn.spoke:
        message = "Cannot update a conversation's voice if assistant audio is present."
        raise ClientError("cannot_update_voice", message, "session.audio.output.voice")
    conn.session = merge_session(conn.session, update)
    conn.audio.configure(turn_detection_of(conn.session))
    await conn.send(event("session.updated", session=conn.session))


async def _audio_append(conn: Connection, ev: Event, at: float) -> None:
    try:
        raw = base64.b64decode(ev["audio"], validate=True)
    except (binascii.Error, ValueError):
        message = "Invalid 'audio': expected base64-encoded PCM16 audio."
        raise ClientError("invalid_value", message, "audio") from None
    pcm = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2").astype(np.int16)
    for vad_event in conn.audio.append(pcm, at):
        if isinstance(vad_event, SpeechStarted):
            await conn.speech_started(vad_event)
        else:
            await conn.speech_stopped(vad_event, at)


async def _audio_commit(conn: Connection, ev: Event, at: float) -> None:
    if (ms := conn.audio.buffered_ms) < _MIN_COMMIT_MS:
        message = (
            "Error committing input audio buffer: buffer too small. Expected at least "
            f"{_MIN_COMMIT_MS}ms of audio, but buffer only has {ms:.2f}ms of audio."
        )
        raise ClientError("input_audio_buffer_commit_empty", message)
    conn.speech_item = None
    await conn.commit(new_id("item"), conn.audio.commit_all())


async def _audio_clear(conn: Connection, ev: Event, at: float) -> None:
    conn.audio.clear()
    conn.speech_item = None
    await conn.send(event("input_audio_buffer.cleared"))


async def _item_create(conn: Connection, ev: Event, at: float) -> None:
    item = {**copy.deepcopy(ev["item"]), "status": "completed"}
    audio = _item_audio(item)
    requested = ev.get("previous_item_id")
    try:
        prev = conn.conversation.insert(item, requested)
    except KeyError:
        message = f"Invalid 'previous_item_id': no item with id '{requested}'."
        raise ClientError("invalid_value", message, "previous_item_id") from None
    except ValueError:
        message = f"Item with id '{item['id']}' already exists."
        raise ClientError("item_create_duplicate_item_id", message, "item.id") from None
    if audio is not None:
        conn.conversation.keep_audio(item["id"], audio)
    shown = without_audio(item)
    await conn.send(event("conversation.item.added", previous_item_id=prev, item=shown))
    await conn.send(event("conversation.item.done", previous_item_id=prev, item=shown))


def _item_audio(item: dict[str, Any]) -> bytes | None:
    """The PCM16 of an item's ``input_audio`` parts (checked before the item is added)."""
    chunks = []
    for i, part in enumerate(item.get("content") or []):
        if part.get("type") != "input_audio":
            continue
        try:
            chunks.append(base64.b64decode(part["audio"], validate=True))
        except (binascii.Error, ValueError):
            param = f"item.content[{i}].audio"
            message = f"Invalid '{param}': expected base64-encoded PCM16 audio."
            raise ClientError("invalid_value", message, param) from None
    return b"".join(chunks) if chunks else None


async def _item_delete(conn: Connection, ev: Event, at: float) -> None:
    item_id = ev["item_id"]
    if not conn.conversation.delete(item_id):
        raise _not_found("item_delete_invalid_item_id", item_id)
    await conn.send(event("conversation.item.deleted", item_id=item_id))


async def _item_truncate(conn: Connection, ev: Event, at: float) -> None:
    item_id, index, end_ms = ev["item_id"], ev["content_index"], ev["audio_end_ms"]
    item = conn.conversation.get(item_id)
    if item is None:
        raise _not_found("item_truncate_invalid_item_id", item_id)
    if item.get("type") != "message" or item.get("role") != "assistant":
        message = "Only assistant message items can be truncated."
        raise ClientError("invalid_value", message, "item_id")
    content = item.get("content") or []
    if not 0 <= index < len(content) or content[index].get("type") != "output_audio":
        message = f"Invalid 'content_index': item '{item_id}' has no audio content at {index}."
        raise ClientError("invalid_value", message, "content_index")
    pcm = conn.conversation.audio_of(item_id) or b""
    duration_ms = len(pcm) // 2 * 1000 // RATE
    if end_ms > duration_ms:
        message = f"Audio content of {duration_ms}ms is already shorter than {end_ms}ms"
        raise ClientError("invalid_value", message, "audio_end_ms")
    conn.conversation.keep_audio(item_id, pcm[: end_ms * RATE // 1000 * 2])
    content[index]["transcript"] = None  # the service drops the unheard transcript
    fields = {"item_id": item_id, "content_index": index, "audio_end_ms": end_ms}
    await conn.send(event("conversation.item.truncated", **fields))


async def _item_retrieve(conn: Connection, ev: Event, at: float) -> None:
    item = conn.conversation.retrieved(ev["item_id"])
    if item is None:
        raise _not_found("item_retrieve_invalid_item_id", ev["item_id"])
    await conn.send(event("conversation.item.retrieved", item=item))


async def _response_create(conn: Connection, ev: Event, at: float) -> None:
    params: dict[str, Any] = ev.get("response") or {}
    out_of_band = params.get("conversation") == "none"
    if not out_of_band and conn.active is not None:
        message = (
            f"Conversation already has an active response in progress: {conn.active.id}. "
            "Wait until the response is finished before creating a new one."
        )
        raise ClientError("conversation_already_has_active_response", message)
    overrides: dict[str, Any] = {}
    if params.get("output_modalities"):
        overrides["modality"] = params["output_modalities"][0]
    voice = ((params.get("audio") or {}).get("output") or {}).get("voice")
    if voice is not None:
        overrides["voice"] = voice_name(voice)
    if params.get("max_output_tokens") is not None:
        overrides["max_output_tokens"] = params["max_output_tokens"]
    if isinstance(params.get("tools"), list):
        overrides["tools"] = tool_names(params["tools"])
    spec = conn.response_spec(
        source="client",
        not_before=at + conn.shared.ttft,
        requested_at=at,
        metadata=params.get("metadata"),
        instructions=params.get("instructions"),
        out_of_band=out_of_band,
        input_items=_resolve_input(conn, params.get("input")),
        **overrides,
    )
    await conn.start_response(spec, ev.get("event_id"))


def _resolve_input(conn: Connection, inputs: list[Any] | None) -> tuple[dict[str, Any], ...] | None:
    """``response.input`` with each ``item_reference`` replaced by the item it names."""
    if inputs is None:
        return None
    resolved = []
    for i, item in enumerate(inputs):
        if item["type"] != "item_reference":
            resolved.append(copy.deepcopy(item))
            continue
        found = conn.conversation.get(item["id"])
        if found is None:
            param = f"response.input[{i}].id"
            message = f"Invalid '{param}': no item with id '{item['id']}' in the conversation."
            raise ClientError("invalid_value", message, param)
        resolved.append(found)
    return tuple(resolved)


async def _response_cancel(conn: Connection, ev: Event, at: float) -> None:
    target = conn.find_response(ev.get("response_id"))
    if target is None or not await target.cancel("client_cancelled"):
        message = "Cancellation failed: no active response found"
        raise ClientError("response_cancel_not_active", message)


#: The handler of each client event type the stand-in serves.
HANDLERS: dict[str, Handler] = {
    "session.update": _session_update,
    "input_audio_buffer.append": _audio_append,
    "input_audio_buffer.commit": _audio_commit,
    "input_audio_buffer.clear": _audio_clear,
    "conversation.item.create": _item_create,
    "conversation.item.delete": _item_delete,
    "conversation.item.truncate": _item_truncate,
    "conversation.item.retrieve": _item_retrieve,
    "response.create": _response_create,
    "response.cancel": _response_cancel,
}
