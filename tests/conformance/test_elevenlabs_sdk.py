"""The official ``elevenlabs`` SDK against :class:`ElevenLabsServer`: every HTTP flow it
offers for speech and voices, the realtime helper over ``stream-input``, and the service's
own answers to bad input (status and body), with no traceback on the server side.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from elevenlabs.client import AsyncElevenLabs, ElevenLabs
from elevenlabs.core.api_error import ApiError

from halfcascade.testing.elevenlabs import ElevenLabsServer
from halfcascade.testing.voices import synthetic_voice

pytestmark = [pytest.mark.conformance, pytest.mark.timeout(60)]

VOICE = "JBFqnCBsd6RMkjVDRZzb"  # a premade voice the stand-in knows
PCM = "pcm_24000"
TEXT = "Hello there, how are you?"


@pytest.fixture
async def server() -> AsyncIterator[ElevenLabsServer]:
    async with ElevenLabsServer(ttfb=0.02, voice=synthetic_voice, api_key="right") as srv:
        yield srv


@pytest.fixture
def client(server: ElevenLabsServer) -> AsyncElevenLabs:
    return AsyncElevenLabs(base_url=server.sdk_base_url, api_key="right")


def samples(text: str) -> int:
    return len(synthetic_voice(text, 24000))


# --- speech -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["convert", "stream"])
async def test_convert_and_stream_return_the_voice_as_pcm(
    server: ElevenLabsServer, client: AsyncElevenLabs, method: str
) -> None:
    call = getattr(client.text_to_speech, method)
    audio = b"".join([c async for c in call(VOICE, text=TEXT, output_format=PCM)])
    assert len(audio) // 2 == samples(TEXT)
    (req,) = await server.wait_for_requests(1)
    assert req.text == TEXT and req.params["output_format"] == PCM


async def test_convert_with_timestamps_aligns_every_character(client: AsyncElevenLabs) -> None:
    result = await client.text_to_speech.convert_with_timestamps(
        VOICE, text=TEXT, output_format=PCM
    )
    assert len(base64.b64decode(result.audio_base_64)) // 2 == samples(TEXT)
    assert result.alignment is not None and result.normalized_alignment is not None
    assert "".join(result.alignment.characters) == TEXT
    starts = result.alignment.character_start_times_seconds
    ends = result.alignment.character_end_times_seconds
    assert starts == sorted(starts) and all(s < e for s, e in zip(starts, ends, strict=True))
    assert ends[-1] == pytest.approx(samples(TEXT) / 24000, abs=0.01)


async def test_stream_with_timestamps_streams_aligned_chunks(
    server: ElevenLabsServer, client: AsyncElevenLabs
) -> None:
    server.set_ttfb(0.2)
    chunks = [
        c
        async for c in client.text_to_speech.stream_with_timestamps(
            VOICE, text=TEXT, output_format=PCM
        )
    ]
    assert len(chunks) > 3  # streamed in chunk_ms pieces, not one body
    audio = b"".join(base64.b64decode(c.audio_base_64) for c in chunks)
    assert len(audio) // 2 == samples(TEXT)
    chars = [ch for c in chunks if c.alignment for ch in c.alignment.characters]
    assert "".join(chars) == TEXT
    (req,) = await server.wait_for_requests(1)
    assert req.ttfb is not None and req.ttfb >= 0.2  # the latency knob holds here too


# --- voices and tokens --------------------------------------------------------------------


async def test_voices_get_all_and_search(server: ElevenLabsServer, client: AsyncElevenLabs) -> None:
    every = await client.voices.get_all()
    assert VOICE in [v.voice_id for v in every.voices]
    assert all(v.category == "premade" for v in every.voices)
    page = await client.voices.search(page_size=2)
    assert len(page.voices) == 2 and page.has_more and page.total_count == len(every.voices)
    rest = await client.voices.search(page_size=100, next_page_token=page.next_page_token)
    assert [v.voice_id for v in page.voices + rest.voices] == [v.voice_id for v in every.voices]
    found = await client.voices.search(search="george")
    assert [v.voice_id for v in found.voices] == [VOICE]
    assert (await client.voices.search(voice_type="personal")).voices == []
    server.add_voice("my-clone", "My clone")
    assert (await client.voices.get("my-clone")).name == "My clone"


async def test_a_single_use_token_opens_the_websocket_once(
    server: ElevenLabsServer, client: AsyncElevenLabs
) -> None:
    token = (await client.tokens.single_use.create("tts_websocket")).token
    url = f"{server.base_url}/text-to-speech/{VOICE}/stream-input?output_format={PCM}"
    url += f"&authorization=Bearer%20{token}"
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(url)
        await ws.send_json({"text": " "})
        await ws.send_json({"text": "Hi. ", "flush": True})
        assert "audio" in (await ws.receive(timeout=5)).json()
        await ws.close()
        ws = await http.ws_connect(url)  # consumed on first use
        error = (await ws.receive(timeout=5)).json()
        assert error["error"] == "invalid_api_key" and error["code"] == 1008
        await ws.close()


# --- the realtime helper over stream-input -------------------------------------------------


async def test_convert_realtime_streams_over_stream_input(server: ElevenLabsServer) -> None:
    sync = ElevenLabs(base_url=server.sdk_base_url, api_key="right")
    # the helper always dials wss://; a local stand-in speaks plain ws://
    sync.text_to_speech._ws_base_url = server.sdk_base_url.replace("http://", "ws://")
    words = ["Hello ", "there, ", "how ", "are ", "you?"]

    def speak() -> bytes:
        chunks = sync.text_to_speech.convert_realtime(VOICE, text=iter(words), output_format=PCM)
        return b"".join(chunks)

    audio = await asyncio.to_thread(speak)
    (ctx,) = await server.wait_for_contexts(1)
    assert ctx.context_id == "" and ctx.end_of_input_at is not None and not ctx.cancelled
    assert ctx.messages[0] == " " and ctx.text == "Hello there, how are you?"
    assert len(audio) // 2 == sum(samples(c) for c in ctx.chunks)
    (conn,) = server.connections
    assert conn.closed_at is not None  # the server closed normally (1000): no ApiError


# --- bad input ----------------------------------------------------------------------------

BAD_SPEECH: list[tuple[str, dict[str, Any], int, Any]] = [
    ("unknown voice", {"voice_id": "no-such-voice"}, 404, "voice_not_found"),
    ("stability > 1", {"voice_settings": {"stability": 1.5}}, 422, "stability"),
    ("similarity < 0", {"voice_settings": {"similarity_boost": -0.1}}, 422, "similarity_boost"),
    ("style > 1", {"voice_settings": {"style": 2}}, 422, "style"),
    ("speed < 0.7", {"voice_settings": {"speed": 0.5}}, 422, "speed"),
    ("speed > 1.2", {"voice_settings": {"speed": 1.5}}, 422, "speed"),
    ("empty text", {"text": ""}, 422, "text"),
    (
        "four dictionaries",
        {
            "pronunciation_dictionary_locators": [
                {"pronunciation_dictionary_id": "d", "version_id": "v"}
            ]
            * 4
        },
        422,
        "pronunciation_dictionary_locators",
    ),
    ("unknown format", {"output_format": "wav_1"}, 422, "output_format"),
    ("mp3", {"output_format": "mp3_44100_128"}, 400, "unsupported_output_format"),
]


@pytest.mark.parametrize(
    ("change", "status", "what"), [c[1:] for c in BAD_SPEECH], ids=[c[0] for c in BAD_SPEECH]
)
@pytest.mark.parametrize("method", ["convert", "stream", "convert_with_timestamps"])
async def test_bad_speech_requests_get_the_services_answer(
    server: ElevenLabsServer,
    client: AsyncElevenLabs,
    method: str,
    change: dict[str, Any],
    status: int,
    what: str,
) -> None:
    args: dict[str, Any] = {"voice_id": VOICE, "text": TEXT, "output_format": PCM} | change
    call = getattr(client.text_to_speech, method)
    with pytest.raises(ApiError) as info:
        result = call(**args)
        if method == "convert_with_timestamps":
            await result
        else:
            [c async for c in result]
    assert info.value.status_code == status
    body = info.value.body
    if status == 422:  # FastAPI's shape: where, what, which rule
        (item,) = body["detail"]
        assert what in item["loc"] and item["msg"] and item["type"]
    else:
        assert body["detail"]["status"] == what and body["detail"]["message"]
    assert not server.requests  # refused before any synthesis


async def test_keys_are_checked_with_the_services_statuses(server: ElevenLabsServer) -> None:
    wrong = AsyncElevenLabs(base_url=server.sdk_base_url, api_key="wrong")
    with pytest.raises(ApiError) as info:
        await wrong.voices.get_all()
    assert info.value.status_code == 401
    assert info.value.body["detail"]["status"] == "invalid_api_key"
    async with aiohttp.ClientSession() as http:
        url = f"{server.base_url}/text-to-speech/{VOICE}"
        async with http.post(url, json={"text": TEXT}) as resp:
            assert resp.status == 401 and resp.content_type == "application/json"
            assert (await resp.json())["detail"]["status"] == "needs_authorization"


async def test_malformed_json_body_is_a_422_not_a_crash(server: ElevenLabsServer) -> None:
    headers = {"xi-api-key": "right", "Content-Type": "application/json"}
    url = f"{server.base_url}/text-to-speech/{VOICE}/stream?output_format={PCM}"
    async with aiohttp.ClientSession() as http, http.post(url, data=b"{oops", headers=headers) as r:
        assert r.status == 422
        (item,) = (await r.json())["detail"]
        assert item["type"] == "json_invalid" and item["loc"][0] == "body"


async def test_unknown_routes_answer_in_json(server: ElevenLabsServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.base_url + "/no-such-thing") as resp:
            assert resp.status == 404 and await resp.json() == {"detail": "Not Found"}
        async with http.get(f"{server.base_url}/text-to-speech/{VOICE}") as resp:
            assert resp.status == 405 and await resp.json() == {"detail": "Method Not Allowed"}
        async with http.get(f"{server.base_url}/text-to-speech/{VOICE}/stream-input") as resp:
            assert resp.status == 404  # a websocket route, asked over plain HTTP


# --- faults on the newer endpoints --------------------------------------------------------


@pytest.mark.parametrize(("kind", "status"), [("error", 400), ("http500", 500)])
async def test_faults_reach_the_timestamp_and_voice_endpoints(
    server: ElevenLabsServer, client: AsyncElevenLabs, kind: Any, status: int
) -> None:
    server.fail_next(2, kind=kind)
    once: Any = {"max_retries": 0}  # the SDK retries a 5xx by itself
    with pytest.raises(ApiError) as info:
        await client.text_to_speech.convert_with_timestamps(
            VOICE, text=TEXT, output_format=PCM, request_options=once
        )
    assert info.value.status_code == status and "injected" in info.value.body["detail"]["message"]
    with pytest.raises(ApiError) as info:
        await client.voices.search(request_options=once)
    assert info.value.status_code == status
    assert server.pending_faults == 0
    assert (await client.voices.search()).voices  # and then it works again


async def test_a_close_fault_drops_the_stream_with_timestamps(
    server: ElevenLabsServer, client: AsyncElevenLabs
) -> None:
    server.fail_next(kind="close")
    with pytest.raises(Exception):  # noqa: B017 - httpx's own connection error
        [
            c
            async for c in client.text_to_speech.stream_with_timestamps(
                VOICE, text=TEXT, output_format=PCM
            )
        ]
    assert [r.fault for r in server.requests] == ["close"]
