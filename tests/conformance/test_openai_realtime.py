"""The official ``openai`` SDK against :class:`RealtimeServer`: every flow the stand-in
serves, in the service's documented event order, and the service's own answer to bad
input (the ``error`` event, its ``event_id`` echoed, the socket still usable, nothing
changed), with no traceback on the server side.

Every event the stand-in sends is also checked by the conformance recorder
(``tests/conftest.py``) against ``openai.types.realtime.RealtimeServerEvent``.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import numpy as np
import openai
import pytest
from openai.resources.realtime.realtime import AsyncRealtimeConnection

from halfcascade.testing.openai_realtime import RealtimeServer, ReplyContext, ToolCall, split_tokens
from halfcascade.testing.transcribe import ScriptedTranscriber
from halfcascade.testing.vad import rms_dbfs
from halfcascade.testing.voices import default_voice, synthetic_voice

pytestmark = [pytest.mark.conformance, pytest.mark.timeout(60)]

RATE = 24000
_WAIT = 5.0  # bound on one wait for an event; the flows take milliseconds
Event = dict[str, Any]

TEXT_RESPONSE = [
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
    "rate_limits.updated",
]
AUDIO_RESPONSE = [
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_audio.delta",
    "response.output_audio_transcript.delta",
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
    "rate_limits.updated",
]
CALL_RESPONSE = [
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
    "rate_limits.updated",
]


class Client:
    """An SDK connection that keeps every raw event it receives."""

    def __init__(self, conn: AsyncRealtimeConnection) -> None:
        self.conn = conn
        self.events: list[Event] = []

    async def next(self) -> Event:
        async with asyncio.timeout(_WAIT):
            data = await self.conn.recv_bytes()
        self.conn.parse_event(data)  # what the SDK itself does with it must not fail
        raw: Event = json.loads(data)
        self.events.append(raw)
        return raw

    async def until(self, kind: str) -> list[Event]:
        """Events up to and including the next one of type ``kind``."""
        got = []
        while True:
            got.append(ev := await self.next())
            if ev["type"] == kind:
                return got

    async def send(self, event: Event) -> None:
        await self.conn.send_raw(json.dumps(event))

    async def create_text_item(self, text: str, **extra: Any) -> Event:
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }
        await self.send({"type": "conversation.item.create", "item": item, **extra})
        added, done = await self.next(), await self.next()
        assert (added["type"], done["type"]) == (
            "conversation.item.added",
            "conversation.item.done",
        )
        assert added["item"] == done["item"] and done["item"]["status"] == "completed"
        return done


@asynccontextmanager
async def connect(server: RealtimeServer) -> AsyncIterator[Client]:
    sdk = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")
    async with sdk.realtime.connect(model="gpt-realtime") as conn:
        client = Client(conn)
        created = await client.next()
        assert created["type"] == "session.created"
        yield client


def collapse(events: list[Event]) -> list[str]:
    """Event types with repeated deltas collapsed (delta pairs of an audio reply too)."""
    out: list[str] = []
    for ev in events:
        if ev["type"] not in out[-2:] or not ev["type"].endswith(".delta"):
            out.append(ev["type"])
    return out


async def text_session(client: Client, **session: Any) -> Event:
    update = {"type": "realtime", "output_modalities": ["text"], **session}
    await client.send({"type": "session.update", "session": update})
    [updated] = await client.until("session.updated")
    return updated


# --- flows -----------------------------------------------------------------------------------


async def test_text_reply_to_a_created_item_in_documented_order() -> None:
    seen: list[ReplyContext] = []

    def reply(ctx: ReplyContext) -> str:
        seen.append(ctx)
        return "Woof, hello there!"

    async with RealtimeServer(reply=reply, ttft=0.02, token_interval=0.0) as server:
        async with connect(server) as client:
            updated = await text_session(client, instructions="You are a dog.")
            assert updated["session"]["output_modalities"] == ["text"]
            user = await client.create_text_item("Hi dog", event_id="evt_item_1")
            await client.send({"type": "response.create", "response": {"metadata": {"k": "v"}}})
            events = await client.until("rate_limits.updated")

    assert collapse(events) == TEXT_RESPONSE
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert "".join(deltas) == "Woof, hello there!" and len(deltas) > 1
    created, done = events[0]["response"], events[-2]["response"]
    assert created["metadata"] == done["metadata"] == {"k": "v"}
    assert created["conversation_id"] is not None and created["output_modalities"] == ["text"]
    assert done["status"] == "completed" and done["usage"]["output_tokens"] == len(deltas)
    [item] = done["output"]
    assert item["content"] == [{"type": "output_text", "text": "Woof, hello there!"}]
    item_done = next(e for e in events if e["type"] == "conversation.item.done")
    assert item_done["item"] == item and item_done["previous_item_id"] == user["item"]["id"]
    ctx = seen[0]
    assert (ctx.transcript, ctx.instructions, ctx.out_of_band) == (
        "Hi dog",
        "You are a dog.",
        False,
    )
    assert ctx.metadata == {"k": "v"}


async def test_function_call_then_its_output_then_a_second_response() -> None:
    seen: list[ReplyContext] = []

    def reply(ctx: ReplyContext) -> str | ToolCall:
        seen.append(ctx)
        if ctx.tool_output is None:
            return ToolCall("get_weather", {"city": "Paris"})
        return f"It is {ctx.tool_output}."

    tool = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
    async with RealtimeServer(reply=reply, ttft=0.0, token_interval=0.0) as server:
        async with connect(server) as client:
            await text_session(client, tools=[tool])
            await client.create_text_item("Weather in Paris?")
            await client.send({"type": "response.create"})
            call_events = await client.until("rate_limits.updated")
            call = next(e for e in call_events if e["type"] == "response.output_item.done")["item"]
            output = {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"}
            await client.send({"type": "conversation.item.create", "item": output})
            await client.until("conversation.item.done")
            await client.send({"type": "response.create"})
            text_events = await client.until("rate_limits.updated")

    assert collapse(call_events) == CALL_RESPONSE
    assert (call["type"], call["name"], json.loads(call["arguments"])) == (
        "function_call",
        "get_weather",
        {"city": "Paris"},
    )
    args_done = next(e for e in call_events if e["type"].endswith("arguments.done"))
    assert args_done["call_id"] == call["call_id"] and args_done["arguments"] == call["arguments"]
    assert collapse(text_events) == TEXT_RESPONSE
    assert seen[0].tools == ("get_weather",) and seen[1].tool_output == "sunny"
    assert [it["type"] for it in seen[1].items] == [
        "message",
        "function_call",
        "function_call_output",
    ]
    done = text_events[-2]["response"]
    assert done["output"][0]["content"][0]["text"] == "It is sunny."


async def test_out_of_band_response_sees_its_input_and_stays_out_of_the_conversation() -> None:
    seen: list[ReplyContext] = []

    def reply(ctx: ReplyContext) -> str:
        seen.append(ctx)
        return "A greeting." if ctx.out_of_band else "Hello!"

    async with RealtimeServer(reply=reply, ttft=0.0, token_interval=0.0) as server:
        async with connect(server) as client:
            await text_session(client)
            first = await client.create_text_item("Hi there")
            await client.create_text_item("Unrelated")
            ask = {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Sum up."}],
            }
            params = {
                "conversation": "none",
                "metadata": {"purpose": "summary"},
                "input": [{"type": "item_reference", "id": first["item"]["id"]}, ask],
            }
            await client.send({"type": "response.create", "response": params})
            oob = await client.until("rate_limits.updated")
            output_id = oob[-2]["response"]["output"][0]["id"]
            await client.send({"type": "conversation.item.retrieve", "item_id": output_id})
            missing = await client.next()
            await client.send({"type": "response.create"})  # in-band: still allowed, still sees all
            await client.until("rate_limits.updated")

    types = [e["type"] for e in oob]
    assert "conversation.item.added" not in types and "conversation.item.done" not in types
    assert oob[0]["response"]["conversation_id"] is None
    assert oob[-2]["response"]["metadata"] == {"purpose": "summary"}
    assert (
        missing["type"] == "error" and missing["error"]["code"] == "item_retrieve_invalid_item_id"
    )
    oob_ctx, in_band = seen
    assert oob_ctx.out_of_band and oob_ctx.metadata == {"purpose": "summary"}
    assert [it["text"] for it in oob_ctx.items] == ["Hi there", "Sum up."]
    assert oob_ctx.transcript == "Sum up."
    assert [it["text"] for it in in_band.items] == ["Hi there", "Unrelated"]  # no OOB output


async def test_out_of_band_response_runs_beside_the_conversations_response() -> None:
    async with RealtimeServer(reply="one two three four", ttft=0.0, token_interval=0.1) as server:
        async with connect(server) as client:
            await text_session(client)
            await client.send({"type": "response.create"})
            await client.until("response.output_text.delta")
            await client.send({"type": "response.create", "response": {"conversation": "none"}})
            events = await client.until("rate_limits.updated")
            events += await client.until("rate_limits.updated")

    assert "error" not in [e["type"] for e in events]
    done = [e["response"] for e in events if e["type"] == "response.done"]
    assert sorted(r["conversation_id"] is None for r in done) == [False, True]


async def test_default_session_answers_with_spoken_audio_and_transcript() -> None:
    reply = "Hello, nice to meet you."
    async with RealtimeServer(
        reply=reply, ttft=0.0, token_interval=0.0, voice=synthetic_voice
    ) as server:
        async with connect(server) as client:
            await client.create_text_item("Hi")
            await client.send({"type": "response.create"})
            events = await client.until("rate_limits.updated")
            item_id = events[-2]["response"]["output"][0]["id"]
            await client.send({"type": "conversation.item.retrieve", "item_id": item_id})
            [retrieved] = await client.until("conversation.item.retrieved")
            voice = {"type": "realtime", "audio": {"output": {"voice": "cedar"}}}
            await client.send({"type": "session.update", "session": voice, "event_id": "evt_v"})
            refused = await client.next()

    assert collapse(events) == AUDIO_RESPONSE
    pcm = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )
    audio = np.frombuffer(pcm, dtype="<i2")
    assert len(audio) == len(synthetic_voice(reply, RATE)) and rms_dbfs(audio) > -40
    words = [e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta"]
    assert "".join(words) == reply
    part = next(e for e in events if e["type"] == "response.content_part.added")["part"]
    assert part == {"type": "audio", "transcript": ""}
    transcript_done = next(e for e in events if e["type"].endswith("transcript.done"))
    assert transcript_done["transcript"] == reply
    done = events[-2]["response"]
    assert done["output_modalities"] == ["audio"]
    assert done["output"][0]["content"] == [{"type": "output_audio", "transcript": reply}]
    assert done["usage"]["output_token_details"]["audio_tokens"] > 0
    assert base64.b64decode(retrieved["item"]["content"][0]["audio"]) == pcm
    assert refused["type"] == "error" and refused["error"]["code"] == "cannot_update_voice"
    assert refused["error"]["event_id"] == "evt_v"


async def test_latency_and_fault_knobs_hold_for_audio_replies() -> None:
    reply = "Hi there, friend."
    async with RealtimeServer(
        reply=reply, ttft=0.15, token_interval=0.02, voice=synthetic_voice
    ) as server:
        async with connect(server) as client:
            await client.send({"type": "response.create"})
            await client.until("rate_limits.updated")
            [turn] = await server.wait_for_turns(1)
            server.fail_next_response()
            await client.send({"type": "response.create"})
            failed = await client.until("rate_limits.updated")
            server.fail_next_response(code="rate_limit_exceeded", as_error_event=True)
            await client.send({"type": "response.create", "event_id": "evt_limited"})
            refused = await client.next()

    assert turn.modality == "audio" and turn.text == reply
    assert turn.audio_samples == len(synthetic_voice(reply, RATE))
    assert turn.ttft is not None and turn.ttft >= 0.15
    assert turn.first_delta_at is not None
    assert turn.done_at - turn.first_delta_at >= 0.02 * (len(split_tokens(reply)) - 1)
    assert [e["type"] for e in failed] == [
        "response.created",
        "response.done",
        "rate_limits.updated",
    ]
    details = failed[1]["response"]["status_details"]
    assert (
        failed[1]["response"]["status"] == "failed" and details["error"]["code"] == "server_error"
    )
    assert refused["error"]["code"] == "rate_limit_exceeded"
    assert refused["error"]["event_id"] == "evt_limited"


@pytest.mark.parametrize(("session", "override"), [("text", "audio"), ("audio", "text")])
async def test_response_can_override_the_sessions_modality(session: str, override: str) -> None:
    async with RealtimeServer(reply="Sure.", ttft=0.0, token_interval=0.0) as server:
        async with connect(server) as client:
            await client.send(
                {
                    "type": "session.update",
                    "session": {"type": "realtime", "output_modalities": [session]},
                }
            )
            await client.until("session.updated")
            params = {"output_modalities": [override], "conversation": "none"}
            await client.send({"type": "response.create", "response": params})
            events = await client.until("rate_limits.updated")

    assert events[-2]["response"]["output_modalities"] == [override]
    kind = "response.output_text.delta" if override == "text" else "response.output_audio.delta"
    assert kind in [e["type"] for e in events]


async def test_truncating_spoken_audio_checks_its_length() -> None:
    async with RealtimeServer(reply="One two three.", ttft=0.0, token_interval=0.0) as server:
        async with connect(server) as client:
            await client.send({"type": "response.create"})
            events = await client.until("rate_limits.updated")
            item_id = events[-2]["response"]["output"][0]["id"]
            truncate = {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
            }
            await client.send({**truncate, "audio_end_ms": 60_000, "event_id": "evt_t"})
            too_long = await client.next()
            await client.send({**truncate, "audio_end_ms": 100})
            truncated = await client.next()

    assert too_long["type"] == "error" and too_long["error"]["param"] == "audio_end_ms"
    assert too_long["error"]["event_id"] == "evt_t"
    assert truncated["type"] == "conversation.item.truncated"
    assert truncated["audio_end_ms"] == 100


async def test_server_vad_turn_from_spoken_audio() -> None:
    transcriber = ScriptedTranscriber(["what time is it"])
    seen: list[str] = []

    def reply(ctx: ReplyContext) -> str:
        seen.append(ctx.transcript)
        return "Noon."

    speech = default_voice()("What time is it?", RATE)
    pcm = np.concatenate([np.zeros(RATE // 4, np.int16), speech, np.zeros(RATE, np.int16)])
    turn = {"type": "server_vad", "silence_duration_ms": 300}
    async with RealtimeServer(
        reply=reply, ttft=0.0, token_interval=0.0, transcriber=transcriber
    ) as server:
        async with connect(server) as client:
            audio_in = {
                "turn_detection": turn,
                "transcription": {"model": "gpt-4o-mini-transcribe"},
            }
            await text_session(client, audio={"input": audio_in})
            for i in range(0, len(pcm), RATE // 10):  # 100 ms chunks, as fast as they go
                chunk = base64.b64encode(pcm[i : i + RATE // 10].tobytes()).decode()
                await client.send({"type": "input_audio_buffer.append", "audio": chunk})
            events = await client.until("rate_limits.updated")
            while "conversation.item.done" not in [e["type"] for e in events[3:]]:
                events.append(await client.next())

    types = [e["type"] for e in events]
    assert types[:4] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
    ]
    user_id = events[0]["item_id"]
    assert {events[1]["item_id"], events[2]["item_id"], events[3]["item"]["id"]} == {user_id}
    assert events[3]["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    completed = types.index("conversation.item.input_audio_transcription.completed")
    user_done = next(
        i
        for i, e in enumerate(events)
        if e["type"] == "conversation.item.done" and e["item"]["id"] == user_id
    )
    assert completed < user_done
    assert events[user_done]["item"]["content"][0]["transcript"] == "what time is it"
    assert events[completed]["transcript"] == "what time is it" and seen == ["what time is it"]
    response = [e for e in events if e.get("response_id") or "response" in e]
    assert response[0]["type"] == "response.created" and response[0]["response"]["metadata"] is None


async def test_cancel_stops_the_response_and_a_second_cancel_is_refused() -> None:
    async with RealtimeServer(
        reply="one two three four five six", ttft=0.0, token_interval=0.2
    ) as server:
        async with connect(server) as client:
            await text_session(client)
            await client.send({"type": "response.create"})
            await client.until("response.output_text.delta")
            await client.send({"type": "response.cancel"})
            events = await client.until("rate_limits.updated")
            await client.send({"type": "response.cancel", "event_id": "evt_again"})
            again = await client.next()

    done = events[-2]["response"]
    assert done["status"] == "cancelled" and done["status_details"]["reason"] == "client_cancelled"
    item = next(e for e in events if e["type"] == "response.output_item.done")["item"]
    assert item["status"] == "incomplete" and item["content"][0]["text"] == "one"
    assert again["error"]["code"] == "response_cancel_not_active"
    assert again["error"]["event_id"] == "evt_again"


async def test_max_output_tokens_cuts_the_reply_as_incomplete() -> None:
    async with RealtimeServer(reply="one two three four", ttft=0.0, token_interval=0.0) as server:
        async with connect(server) as client:
            await text_session(client, max_output_tokens=2)
            await client.send({"type": "response.create"})
            events = await client.until("rate_limits.updated")

    done = events[-2]["response"]
    assert done["status"] == "incomplete"
    assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert done["output"][0]["content"][0]["text"] == "one two"


async def test_refused_handshakes_answer_the_documented_json() -> None:
    async with RealtimeServer(reply="hi") as server, aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as no_key:
            await http.ws_connect(server.ws_url)
        async with http.get(server.base_url + "/nothing-here") as resp:
            body = await resp.json()
    assert no_key.value.status == 401
    assert resp.status == 404 and set(body["error"]) == {"message", "type", "param", "code"}
