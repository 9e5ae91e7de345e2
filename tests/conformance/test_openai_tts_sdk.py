"""The official ``openai`` SDK against :class:`OpenAITTSServer`: pcm and SSE streams, and
the API's own 400/401/404 answers to bad requests (never a 5xx the SDK would retry).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest
from openai import AsyncOpenAI

from halfcascade.testing.openai_tts import OpenAITTSServer
from halfcascade.testing.voices import synthetic_voice

pytestmark = [pytest.mark.conformance, pytest.mark.timeout(60)]

TEXT = "Hello there, how are you?"
GOOD: dict[str, Any] = {"input": TEXT, "model": "gpt-4o-mini-tts", "voice": "ash"}


@pytest.fixture
async def server() -> AsyncIterator[OpenAITTSServer]:
    async with OpenAITTSServer(ttfb=0.02, voice=synthetic_voice, api_key="sk-right") as srv:
        yield srv


@pytest.fixture
def client(server: OpenAITTSServer) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=server.base_url, api_key="sk-right", max_retries=0)


def samples(text: str) -> int:
    return len(synthetic_voice(text, 24000))


@pytest.mark.parametrize("model", ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"])
async def test_create_returns_raw_pcm(
    server: OpenAITTSServer, client: AsyncOpenAI, model: str
) -> None:
    result = await client.audio.speech.create(**GOOD | {"model": model}, response_format="pcm")
    assert len(result.content) // 2 == samples(TEXT)
    (req,) = await server.wait_for_requests(1)
    assert req.params["model"] == model and req.status == 200


async def test_streaming_response_streams_pcm_as_it_is_made(
    server: OpenAITTSServer, client: AsyncOpenAI
) -> None:
    server.set_ttfb(0.2)
    speech = client.audio.speech.with_streaming_response
    async with speech.create(**GOOD, response_format="pcm", stream_format="audio") as resp:
        assert resp.headers["content-type"] == "audio/pcm"
        parts = [p async for p in resp.iter_bytes()]
    assert sum(len(p) for p in parts) // 2 == samples(TEXT)
    (req,) = await server.wait_for_requests(1)
    assert req.ttfb is not None and req.ttfb >= 0.2


async def test_sse_stream_has_deltas_then_done_with_usage(client: AsyncOpenAI) -> None:
    speech = client.audio.speech.with_streaming_response
    async with speech.create(**GOOD, response_format="pcm", stream_format="sse") as resp:
        assert resp.headers["content-type"] == "text/event-stream"
        events = [json.loads(line[6:]) async for line in resp.iter_lines() if line]
    *deltas, done = events
    assert {e["type"] for e in deltas} == {"speech.audio.delta"}
    assert sum(len(base64.b64decode(e["audio"])) for e in deltas) // 2 == samples(TEXT)
    usage = done["usage"]
    assert done["type"] == "speech.audio.done"
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0


BAD: dict[str, tuple[dict[str, Any], type[openai.APIStatusError], str | None, str | None]] = {
    "unknown voice": ({"voice": "nobody"}, openai.BadRequestError, "voice", "invalid_value"),
    "custom voice": ({"voice": {"id": "voice_1"}}, openai.BadRequestError, "voice", None),
    "unknown model": ({"model": "tts-9"}, openai.NotFoundError, None, "model_not_found"),
    "speed < 0.25": ({"speed": 0.1}, openai.BadRequestError, "speed", "decimal_below_min_value"),
    "speed > 4": ({"speed": 4.5}, openai.BadRequestError, "speed", "decimal_above_max_value"),
    "speed a string": ({"speed": "fast"}, openai.BadRequestError, "speed", "invalid_type"),
    "empty input": ({"input": ""}, openai.BadRequestError, "input", None),
    "input too long": ({"input": "a" * 4097}, openai.BadRequestError, "input", None),
    "unknown format": ({"response_format": "ogg"}, openai.BadRequestError, "response_format", None),
    "sse on tts-1": (
        {"model": "tts-1", "stream_format": "sse"},
        openai.BadRequestError,
        "stream_format",
        None,
    ),
    "instructions on tts-1": (
        {"model": "tts-1", "instructions": "Whisper."},
        openai.BadRequestError,
        "instructions",
        None,
    ),
    "mp3 (the stand-in makes pcm)": (
        {"response_format": "mp3"},
        openai.BadRequestError,
        "response_format",
        None,
    ),
}


@pytest.mark.parametrize(("change", "error", "param", "code"), BAD.values(), ids=BAD.keys())
async def test_bad_requests_get_the_apis_error_object(
    server: OpenAITTSServer,
    client: AsyncOpenAI,
    change: dict[str, Any],
    error: type[openai.APIStatusError],
    param: str | None,
    code: str | None,
) -> None:
    args = GOOD | {"response_format": "pcm"} | change
    with pytest.raises(error) as info:
        await client.audio.speech.create(**args)
    body = info.value.body
    assert isinstance(body, dict) and body["type"] == "invalid_request_error" and body["message"]
    assert body["param"] == param
    if code is not None:
        assert body["code"] == code
    assert not server.requests  # refused before synthesis


async def test_an_unrecognized_argument_is_refused(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="Unrecognized request argument supplied: x"):
        await client.audio.speech.create(**GOOD, response_format="pcm", extra_body={"x": 1})


RAW: dict[str, tuple[dict[str, str], bytes, int, str]] = {
    "invalid JSON": ({"Authorization": "Bearer sk-right"}, b"{nope", 400, "could not parse"),
    "no model": (
        {"Authorization": "Bearer sk-right"},
        b'{"input": "x", "voice": "ash"}',
        400,
        "Missing required parameter: 'model'.",
    ),
    "no voice": (
        {"Authorization": "Bearer sk-right"},
        b'{"input": "x", "model": "tts-1"}',
        400,
        "Missing required parameter: 'voice'.",
    ),
    "a list body": ({"Authorization": "Bearer sk-right"}, b"[]", 400, "JSON object"),
    "no key": ({}, b"{}", 401, "You didn't provide an API key"),
    "wrong key": ({"Authorization": "Bearer sk-wrong"}, b"{}", 401, "Incorrect API key"),
}


@pytest.mark.parametrize(("headers", "data", "status", "says"), RAW.values(), ids=RAW.keys())
async def test_raw_requests_the_sdk_cannot_send(
    server: OpenAITTSServer, headers: dict[str, str], data: bytes, status: int, says: str
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.base_url + "/audio/speech", data=data, headers=headers) as resp,
    ):
        assert resp.status == status and resp.content_type == "application/json"
        error = (await resp.json())["error"]
    assert says in error["message"] and error["type"] == "invalid_request_error"
    assert set(error) == {"message", "type", "param", "code"}


async def test_a_wrong_key_is_an_authentication_error(server: OpenAITTSServer) -> None:
    wrong = AsyncOpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        await wrong.audio.speech.create(**GOOD)
    assert info.value.code == "invalid_api_key"


async def test_unknown_routes_answer_invalid_url(server: OpenAITTSServer) -> None:
    async with aiohttp.ClientSession() as http:
        for method, path in (("GET", "/audio/speech"), ("POST", "/audio/nothing")):
            async with http.request(method, server.base_url + path) as resp:
                assert resp.status == 404
                error = (await resp.json())["error"]
                assert error["message"] == f"Invalid URL ({method} /v1{path})"


@pytest.mark.parametrize(
    ("kind", "error"),
    [("error", openai.BadRequestError), ("http500", openai.InternalServerError)],
)
async def test_faults_answer_with_the_error_object(
    server: OpenAITTSServer, client: AsyncOpenAI, kind: Any, error: type[Exception]
) -> None:
    server.fail_next(kind=kind)
    with pytest.raises(error) as info:
        await client.audio.speech.create(**GOOD, response_format="pcm")
    assert "injected" in str(info.value)
    assert len((await client.audio.speech.create(**GOOD, response_format="pcm")).content) > 0
