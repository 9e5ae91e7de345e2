"""Request checks of the Text-to-Speech stand-in, with the service's status codes."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc  # type: ignore[import-untyped]  # grpcio ships no stubs
import numpy as np
import numpy.typing as npt
from google.cloud import texttospeech as tts

from .. import conformance

__all__ = ["Refusal", "check_auth", "check_streaming_config", "check_synthesize", "pcm_bytes"]

_NO_AUTH = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential."
)
_STREAMING_ENCODINGS = (tts.AudioEncoding.PCM,)
_UNARY_ENCODINGS = (tts.AudioEncoding.PCM, tts.AudioEncoding.LINEAR16)
_MAX_CHARS = 5000


@dataclass(frozen=True, slots=True)
class Refusal(Exception):
    """A call the service refuses: its status code and message."""

    code: grpc.StatusCode
    message: str

    async def abort(self, context: grpc.aio.ServicerContext[Any, Any]) -> NoReturn:
        """End the call with this status (reported to the conformance recorder)."""
        status = {"code": self.code.name, "message": self.message}
        conformance.emit("google_tts", "status", status)
        await context.abort(self.code, self.message)
        raise AssertionError("unreachable: abort raises")

    def end(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        """Set this status on a streaming call that then returns."""
        conformance.emit("google_tts", "status", {"code": self.code.name, "message": self.message})
        context.set_code(self.code)
        context.set_details(self.message)


def check_auth(context: grpc.aio.ServicerContext[Any, Any]) -> None:
    """An API key (``x-goog-api-key``) or a bearer token, as the service requires."""
    metadata = {k.lower(): v for k, v in (context.invocation_metadata() or ())}
    key = metadata.get("x-goog-api-key")
    token = str(metadata.get("authorization", ""))
    if not key and not token.startswith("Bearer "):
        raise Refusal(grpc.StatusCode.UNAUTHENTICATED, _NO_AUTH)


def _check_voice(voice: tts.VoiceSelectionParams) -> None:
    if not voice.language_code:
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "Voice language_code is required.")


def check_streaming_config(
    request: tts.StreamingSynthesizeRequest,
) -> tts.StreamingSynthesizeConfig:
    """The first request: a ``streaming_config`` with a voice and a supported encoding."""
    if "streaming_config" not in request:
        raise Refusal(
            grpc.StatusCode.INVALID_ARGUMENT,
            "The first request must contain streaming_config.",
        )
    config = request.streaming_config
    _check_voice(config.voice)
    audio = config.streaming_audio_config
    if audio.audio_encoding not in _STREAMING_ENCODINGS:
        raise Refusal(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"Unsupported streaming audio encoding {audio.audio_encoding.name}; "
            "this stand-in streams PCM only.",
        )
    if audio.speaking_rate and not 0.25 <= audio.speaking_rate <= 2.0:
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "speaking_rate must be in [0.25, 2.0].")
    return config


def check_synthesize(request: tts.SynthesizeSpeechRequest) -> tuple[str, int, bool]:
    """Text, sample rate and whether a WAV header is wanted, for ``SynthesizeSpeech``."""
    _check_voice(request.voice)
    text = request.input.text or request.input.markup
    if request.input.ssml:
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "SSML input is not supported here.")
    if not text:
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "Input text is empty.")
    if len(text.encode()) > _MAX_CHARS:
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "Input text exceeds 5000 bytes.")
    audio = request.audio_config
    if audio.audio_encoding not in _UNARY_ENCODINGS:
        raise Refusal(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"Unsupported audio encoding {audio.audio_encoding.name}; this stand-in serves "
            "PCM and LINEAR16.",
        )
    if audio.speaking_rate and not 0.25 <= audio.speaking_rate <= 4.0:
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "speaking_rate must be in [0.25, 4.0].")
    wav = audio.audio_encoding == tts.AudioEncoding.LINEAR16
    return str(text), audio.sample_rate_hertz or 24000, wav


def pcm_bytes(
    pcm: npt.NDArray[np.int16], rate: int, *, speed: float = 1.0, wav: bool = False
) -> bytes:
    """Mono PCM16 as the service returns it (sped up by ``speed``; a WAV file for LINEAR16)."""
    if speed != 1.0 and len(pcm):
        positions = np.arange(0, len(pcm), speed)
        pcm = np.interp(positions, np.arange(len(pcm)), pcm).astype(np.int16)
    raw = pcm.astype("<i2").tobytes()
    if not wav:
        return raw
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(raw)
    return buf.getvalue()
