"""Bad input to :class:`RealtimeServer` through the official ``openai`` SDK: the service's
``error`` event (shape, code, ``param``, the client's ``event_id`` echoed), the socket
still usable, nothing changed, no server traceback; and the schema that checks every event
the stand-in sends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import openai
import pytest
from openai.resources.realtime.realtime import AsyncRealtimeConnection
from openai.types.realtime import RealtimeErrorEvent

from halfcascade.testing.openai_realtime import RealtimeServer
from halfcascade.testing.openai_realtime.schema import validate

pytestmark = [pytest.mark.conformance, pytest.mark.timeout(60)]

Event = dict[str, Any]
_WAIT = 5.0
_HI = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}


@asynccontextmanager
async def connect(server: RealtimeServer) -> AsyncIterator[AsyncRealtimeConnection]:
    sdk = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")
    async with sdk.realtime.connect(model="gpt-realtime") as conn:
        assert (await receive(conn))["type"] == "session.created"
        yield conn


async def receive(conn: AsyncRealtimeConnection) -> Event:
    async with asyncio.timeout(_WAIT):
        data = await conn.recv_bytes()
    raw: Event = json.loads(data)
    if raw["type"] == "error":
        assert isinstance(conn.parse_event(data), RealtimeErrorEvent)
    return raw


def message(role: str, *content: Any) -> Event:
    return {"type": "message", "role": role, "content": list(content)}


def create(item: Any, **extra: Any) -> Event:
    return {"type": "conversation.item.create", "item": item, **extra}


def update(**session: Any) -> Event:
    return {"type": "session.update", "session": {"type": "realtime", **session}}


def respond(**response: Any) -> Event:
    return {"type": "response.create", "response": response}


_TEXT = {"type": "input_text", "text": "hi"}
BAD: list[tuple[str, Event, str, str | None]] = [
    ("item type", create({"type": "note", "text": "hi"}), "invalid_value", "item.type"),
    ("item role", create(message("narrator", _TEXT)), "invalid_value", "item.role"),
    (
        "user output_text",
        create(message("user", {"type": "output_text", "text": "hi"})),
        "invalid_value",
        "item.content[0].type",
    ),
    (
        "content as a string",
        create({"type": "message", "role": "user", "content": "hi"}),
        "invalid_type",
        "item.content",
    ),
    (
        "output without call_id",
        create({"type": "function_call_output", "output": "42"}),
        "missing_required_parameter",
        "item.call_id",
    ),
    (
        "part without type",
        create(message("user", {"text": "hi"})),
        "missing_required_parameter",
        "item.content[0].type",
    ),
    (
        "input_text without text",
        create(message("user", {"type": "input_text"})),
        "missing_required_parameter",
        "item.content[0].text",
    ),
    (
        "assistant audio",
        create(message("assistant", {"type": "output_audio", "transcript": "hi"})),
        "invalid_value",
        "item.content[0].type",
    ),
    (
        "unknown previous item",
        create(_HI, previous_item_id="item_nope"),
        "invalid_value",
        "previous_item_id",
    ),
    (
        "session without type",
        {"type": "session.update", "session": {"instructions": "Be brief."}},
        "missing_required_parameter",
        "session.type",
    ),
    (
        "smell modality",
        update(output_modalities=["smell"]),
        "invalid_value",
        "session.output_modalities[0]",
    ),
    (
        "both modalities",
        update(output_modalities=["text", "audio"]),
        "invalid_value",
        "session.output_modalities",
    ),
    (
        "unknown session field",
        update(voice_style="calm"),
        "unknown_parameter",
        "session.voice_style",
    ),
    ("beta modalities", update(modalities=["text"]), "unknown_parameter", "session.modalities"),
    ("beta voice", update(voice="alloy"), "unknown_parameter", "session.voice"),
    ("beta temperature", update(temperature=0.7), "unknown_parameter", "session.temperature"),
    (
        "unknown turn detection",
        update(audio={"input": {"turn_detection": {"type": "push_to_talk"}}}),
        "invalid_value",
        "session.audio.input.turn_detection.type",
    ),
    (
        "too many output tokens",
        update(max_output_tokens=5000),
        "integer_above_max_value",
        "session.max_output_tokens",
    ),
    (
        "function tool without name",
        update(tools=[{"type": "function"}]),
        "missing_required_parameter",
        "session.tools[0].name",
    ),
    (
        "response smell",
        respond(output_modalities=["smell"]),
        "invalid_value",
        "response.output_modalities[0]",
    ),
    (
        "response both",
        respond(output_modalities=["text", "audio"]),
        "invalid_value",
        "response.output_modalities",
    ),
    (
        "response conversation",
        respond(conversation="sideways"),
        "invalid_value",
        "response.conversation",
    ),
    (
        "unknown reference",
        respond(conversation="none", input=[{"type": "item_reference", "id": "item_nope"}]),
        "invalid_value",
        "response.input[0].id",
    ),
    ("metadata value type", respond(metadata={"n": 1}), "invalid_type", "response.metadata.n"),
    (
        "response beta modalities",
        respond(modalities=["text"]),
        "unknown_parameter",
        "response.modalities",
    ),
    ("unknown event", {"type": "session.upgrade"}, "invalid_value", "type"),
    (
        "beta event",
        {"type": "transcription_session.update", "session": {}},
        "invalid_value",
        "type",
    ),
    ("missing type", {"session": {"type": "realtime"}}, "invalid_event", None),
    (
        "unknown top-level field",
        {"type": "input_audio_buffer.clear", "force": True},
        "unknown_parameter",
        "force",
    ),
    (
        "audio not base64",
        {"type": "input_audio_buffer.append", "audio": "***"},
        "invalid_value",
        "audio",
    ),
    (
        "commit nothing",
        {"type": "input_audio_buffer.commit"},
        "input_audio_buffer_commit_empty",
        None,
    ),
    ("cancel nothing", {"type": "response.cancel"}, "response_cancel_not_active", None),
    (
        "delete unknown",
        {"type": "conversation.item.delete", "item_id": "item_nope"},
        "item_delete_invalid_item_id",
        "item_id",
    ),
    (
        "retrieve unknown",
        {"type": "conversation.item.retrieve", "item_id": "item_nope"},
        "item_retrieve_invalid_item_id",
        "item_id",
    ),
    (
        "truncate unknown",
        {
            "type": "conversation.item.truncate",
            "item_id": "item_nope",
            "content_index": 0,
            "audio_end_ms": 0,
        },
        "item_truncate_invalid_item_id",
        "item_id",
    ),
    ("webrtc only", {"type": "output_audio_buffer.clear"}, "not_supported_by_stand_in", None),
    (
        "transcription session",
        {"type": "session.update", "session": {"type": "transcription"}},
        "not_supported_by_stand_in",
        "session.type",
    ),
    (
        "g711 audio",
        update(audio={"input": {"format": {"type": "audio/pcmu"}}}),
        "not_supported_by_stand_in",
        "session.audio.input.format.type",
    ),
    (
        "mcp tool",
        update(tools=[{"type": "mcp", "server_label": "docs", "server_url": "https://x.test"}]),
        "not_supported_by_stand_in",
        "session.tools[0].type",
    ),
]


@pytest.mark.parametrize(("bad", "code", "param"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
async def test_bad_input_gets_the_documented_error_and_changes_nothing(
    bad: Event, code: str, param: str | None
) -> None:
    async with RealtimeServer(reply="Fine.", ttft=0.0, token_interval=0.0) as server:
        async with connect(server) as conn:
            before = server.session
            await conn.send_raw(json.dumps({**bad, "event_id": "evt_bad_1"}))
            error = await receive(conn)
            after = server.session
            # the socket still serves, and the conversation is still empty
            await conn.send({"type": "conversation.item.create", "item": _HI})  # type: ignore[typeddict-item]
            added = await receive(conn)

    assert set(error) == {"type", "event_id", "error"} and error["type"] == "error"
    assert set(error["error"]) == {"type", "code", "message", "param", "event_id"}
    assert error["error"]["type"] == "invalid_request_error"
    assert (error["error"]["code"], error["error"]["param"]) == (code, param)
    assert error["error"]["event_id"] == "evt_bad_1" and error["error"]["message"]
    assert after == before
    assert added["type"] == "conversation.item.added" and added["previous_item_id"] is None
    assert "response.created" not in [e["type"] for e in server.sent]


async def test_a_second_response_in_the_conversation_is_refused() -> None:
    async with RealtimeServer(reply="one two three", ttft=0.0, token_interval=0.2) as server:
        async with connect(server) as conn:
            await conn.send({"type": "response.create"})
            while (await receive(conn))["type"] != "response.created":
                pass
            await conn.send({"type": "response.create", "event_id": "evt_second"})
            while (error := await receive(conn))["type"] != "error":
                pass
            await conn.send({"type": "response.cancel"})
            while (await receive(conn))["type"] != "response.done":
                pass

    assert error["error"]["code"] == "conversation_already_has_active_response"
    assert error["error"]["event_id"] == "evt_second"
    assert len([e for e in server.sent if e["type"] == "response.created"]) == 1


@pytest.mark.parametrize("frame", ["{not json", "[1, 2]", '"session.update"'])
async def test_a_frame_that_is_not_an_event_gets_an_error(frame: str) -> None:
    async with RealtimeServer(reply="Fine.") as server:
        async with connect(server) as conn:
            await conn.send_raw(frame)
            error = await receive(conn)
            await conn.send({"type": "input_audio_buffer.clear"})
            cleared = await receive(conn)

    code = "invalid_json" if frame.startswith("{") else "invalid_event"
    assert error["error"]["code"] == code and error["error"]["event_id"] is None
    assert cleared["type"] == "input_audio_buffer.cleared"


# --- the schema every sent event is checked with ---------------------------------------------


def _delta(**extra: Any) -> Event:
    ids = {"event_id": "event_1", "response_id": "resp_1", "item_id": "item_1"}
    return {
        "type": "response.output_text.delta",
        **ids,
        "output_index": 0,
        "content_index": 0,
        "delta": "Hi",
        **extra,
    }


def test_schema_accepts_the_documented_shapes() -> None:
    validate("server_event", _delta())
    session = {
        "type": "realtime",
        "object": "realtime.session",
        "id": "sess_1",
        "expires_at": 1756324625,
        "model": "gpt-realtime",
        "output_modalities": ["audio"],
    }
    validate("server_event", {"type": "session.created", "event_id": "event_2", "session": session})
    body = {
        "error": {
            "message": "Invalid URL (GET /v1/x)",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    validate("http_error", body)


@pytest.mark.parametrize(
    "payload",
    [
        _delta(invented=True),  # a key the SDK type does not declare
        _delta(output_index="0"),  # a number sent as a string
        {**_delta(), "type": "response.text.delta"},  # a beta event name
        {
            "type": "conversation.item.added",
            "event_id": "event_3",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "x", "lang": "en"}],
            },
        },
        {
            "type": "session.updated",
            "event_id": "event_4",
            "session": {"type": "realtime", "modalities": ["text"]},
        },
    ],
    ids=["extra key", "string number", "beta name", "nested extra key", "beta session field"],
)
def test_schema_rejects_what_the_service_never_sends(payload: Event) -> None:
    with pytest.raises(ValueError):
        validate("server_event", payload)


def test_schema_rejects_an_incomplete_http_error() -> None:
    with pytest.raises(ValueError, match="exactly"):
        validate("http_error", {"error": {"message": "m", "type": "t", "code": None}})
