"""The official ``google-cloud-texttospeech`` client against :class:`GoogleTTSServer`:
streaming and unary synthesis, voice listing, and the service's status codes for bad
requests (never a server traceback)."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from typing import Any

import grpc
import numpy as np
import pytest
from google.api_core import exceptions
from google.cloud import texttospeech as tts
from google.cloud.texttospeech_v1.services.text_to_speech.transports import (
    TextToSpeechGrpcAsyncIOTransport,
)

from halfcascade.testing.google_tts import GoogleTTSServer
from halfcascade.testing.google_tts.schema import validate
from halfcascade.testing.voices import synthetic_voice

pytestmark = [pytest.mark.conformance, pytest.mark.timeout(60)]

VOICE = tts.VoiceSelectionParams(language_code="en-US", name="Charon")
KEY = [("x-goog-api-key", "test")]


@pytest.fixture
async def server() -> AsyncIterator[GoogleTTSServer]:
    async with GoogleTTSServer(ttfb=0.0, voice=synthetic_voice) as made:
        yield made


def client(server: GoogleTTSServer) -> tts.TextToSpeechAsyncClient:
    channel = grpc.aio.insecure_channel(server.endpoint)
    return tts.TextToSpeechAsyncClient(transport=TextToSpeechGrpcAsyncIOTransport(channel=channel))


def config(**audio: Any) -> tts.StreamingSynthesizeRequest:
    audio.setdefault("audio_encoding", tts.AudioEncoding.PCM)
    audio.setdefault("sample_rate_hertz", 24000)
    return tts.StreamingSynthesizeRequest(
        streaming_config=tts.StreamingSynthesizeConfig(
            voice=VOICE, streaming_audio_config=tts.StreamingAudioConfig(**audio)
        )
    )


def text(value: str) -> tts.StreamingSynthesizeRequest:
    return tts.StreamingSynthesizeRequest(input=tts.StreamingSynthesisInput(text=value))


async def stream(
    server: GoogleTTSServer, *requests: tts.StreamingSynthesizeRequest, metadata: Any = KEY
) -> list[bytes]:
    async def gen() -> AsyncIterator[tts.StreamingSynthesizeRequest]:
        for request in requests:
            yield request

    responses = await client(server).streaming_synthesize(gen(), metadata=metadata)
    return [r.audio_content async for r in responses]


async def test_streaming_synthesis(server: GoogleTTSServer) -> None:
    audio = await stream(server, config(), text("Woof, hello! "), text("I missed you."))
    assert len(audio) == 2 and all(len(a) > 4800 for a in audio)
    assert server.streams[0].inputs == ["Woof, hello! ", "I missed you."]
    assert server.streams[0].config is not None


async def test_unary_synthesis_pcm_and_wav(server: GoogleTTSServer) -> None:
    sdk = client(server)
    for encoding in (tts.AudioEncoding.PCM, tts.AudioEncoding.LINEAR16):
        response = await sdk.synthesize_speech(
            input=tts.SynthesisInput(text="Woof!"),
            voice=VOICE,
            audio_config=tts.AudioConfig(audio_encoding=encoding, sample_rate_hertz=16000),
            metadata=KEY,
        )
        if encoding == tts.AudioEncoding.LINEAR16:
            with wave.open(io.BytesIO(response.audio_content)) as wav:
                assert wav.getframerate() == 16000 and wav.getnframes() > 1600
        else:
            assert np.frombuffer(response.audio_content, np.int16).size > 1600


async def test_list_voices(server: GoogleTTSServer) -> None:
    voices = await client(server).list_voices(language_code="en-US", metadata=KEY)
    assert "Charon" in [v.name for v in voices.voices]


@pytest.mark.parametrize(
    ("requests", "code"),
    [
        ((text("hi"),), grpc.StatusCode.INVALID_ARGUMENT),  # no streaming_config first
        ((config(), config()), grpc.StatusCode.INVALID_ARGUMENT),
        (
            (config(audio_encoding=tts.AudioEncoding.MP3), text("hi")),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        ((config(speaking_rate=9.0), text("hi")), grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
async def test_bad_streams_get_the_services_status(
    server: GoogleTTSServer, requests: tuple[tts.StreamingSynthesizeRequest, ...], code: Any
) -> None:
    with pytest.raises(exceptions.GoogleAPICallError) as refused:
        await stream(server, *requests)
    assert refused.value.grpc_status_code == code


async def test_no_credentials_is_unauthenticated(server: GoogleTTSServer) -> None:
    with pytest.raises(exceptions.Unauthenticated):
        await stream(server, config(), text("hi"), metadata=())


async def test_injected_failure(server: GoogleTTSServer) -> None:
    server.fail_next(1)
    with pytest.raises(exceptions.ServiceUnavailable):
        await stream(server, config(), text("hi"))
    assert len(await stream(server, config(), text("hi"))) == 1


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("streaming_response", b""),
        ("status", {"code": "TEAPOT", "message": "x"}),
        ("nope", {}),
    ],
)
def test_schema_rejects(kind: str, payload: Any) -> None:
    with pytest.raises(ValueError):
        validate(kind, payload)
