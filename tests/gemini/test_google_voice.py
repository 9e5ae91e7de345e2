"""GoogleVoice end to end: the real livekit Google TTS (google-cloud-texttospeech over
gRPC) on the local Text-to-Speech stand-in, as the voice and as a fallback voice."""

from __future__ import annotations

import numpy as np
import pytest
from _gemini import gemini_stack

from halfcascade.errors import ConfigError
from halfcascade.speech.google_voice import GoogleVoice
from halfcascade.testing.google_tts import GoogleTTSServer
from halfcascade.testing.stack import API_KEY
from halfcascade.testing.transcribe import WhisperTranscriber

pytestmark = [pytest.mark.contract, pytest.mark.timeout(90)]


def rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) if len(pcm) else 0.0


def local(server: GoogleTTSServer, **kwargs: object) -> GoogleVoice:
    return GoogleVoice(endpoint=server.endpoint, insecure=True, api_key=API_KEY, **kwargs)  # type: ignore[arg-type]


async def test_google_voice_speaks_the_reply_first_phrase_first() -> None:
    async with GoogleTTSServer(ttfb=0.05) as tts:
        async with gemini_stack(reply="Woof, yes! Throw the red ball.", voice=local(tts)) as s:
            await s.say("Do you want to play?")
            segment = await s.next_reply()
    assert tts.streams[0].inputs[0].strip() == "Woof,"  # the first phrase went alone
    assert "Throw the red ball." in tts.streams[0].text
    assert segment.duration > 1.0 and rms(segment.pcm()) > 500
    spoken = WhisperTranscriber().transcribe(segment.pcm(), 24000).lower()
    assert "ball" in spoken  # what the user hears is the reply, in Google's (stand-in) voice


async def test_google_voice_without_streaming_synthesizes_each_phrase() -> None:
    async with GoogleTTSServer(ttfb=0.05) as tts:
        voice = local(tts, streaming=False)
        async with gemini_stack(reply="Woof, hello there friend.", voice=voice) as s:
            await s.say("Hello.")
            segment = await s.next_reply()
    assert [r.input.text.strip() for r in tts.requests][:1] == ["Woof,"]
    assert not tts.streams and segment.duration > 0.5


async def test_google_voice_as_the_fallback_voice() -> None:
    async with GoogleTTSServer(ttfb=0.05) as backup:
        async with gemini_stack(
            reply="Woof, hello friend!", fallback_voices=[local(backup)]
        ) as stack:
            stack.tts.fail_next(20, kind="close")  # ElevenLabs is down
            await stack.say("Hello Biscuit.")
            segment = await stack.next_reply()
    assert backup.streams, "the fallback voice was never asked"
    assert "".join(s.text for s in backup.streams).count("hello friend") == 1
    assert segment.duration > 0.5 and rms(segment.pcm()) > 500


def test_plaintext_is_only_for_loopback() -> None:
    with pytest.raises(ConfigError, match="loopback"):
        GoogleVoice(endpoint="tts.example.com:443", insecure=True)
    assert GoogleVoice(api_key="k").missing_credentials() == []
    assert GoogleVoice().missing_credentials() == ["GOOGLE_APPLICATION_CREDENTIALS"]
