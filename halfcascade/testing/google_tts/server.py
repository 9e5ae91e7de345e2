"""A local, protocol-faithful Google Cloud Text-to-Speech (v1) gRPC server for tests.

The real ``livekit.plugins.google.TTS`` talks to it through the ``google-cloud-texttospeech``
client on a plaintext loopback channel (see :class:`halfcascade.speech.google_voice.GoogleVoice`)::

    async with GoogleTTSServer() as server:
        voice = GoogleVoice(endpoint=server.endpoint, insecure=True, api_key="test")

It serves ``StreamingSynthesize`` (what the plugin streams through, one call per sentence
segment: a ``streaming_config`` first, then text inputs, audio back per input),
``SynthesizeSpeech`` (the plugin's non-streaming mode) and ``ListVoices``. Requests and
responses are the ``google-cloud-texttospeech`` types themselves (the same serializers
its gRPC transport uses); bad requests get the service's status codes, never a traceback.
Each reply is spoken by a :data:`~halfcascade.testing.voices.Voice` (espeak-ng or a
synthetic voice), after ``ttfb`` seconds; :meth:`fail_next` injects failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc  # type: ignore[import-untyped]  # grpcio ships no stubs
from google.cloud import texttospeech as tts

from ..._service import Service
from .. import conformance
from ..voices import Voice, default_voice
from ._checks import Refusal, check_auth, check_streaming_config, check_synthesize, pcm_bytes

__all__ = ["GoogleTTSServer", "StreamRecord"]

logger = logging.getLogger("halfcascade.testing.google_tts")

SERVICE = "google.cloud.texttospeech.v1.TextToSpeech"
VOICES = (
    ("Charon", "en-US"),
    ("Kore", "en-US"),
    ("en-US-Chirp3-HD-Charon", "en-US"),
    ("en-US-Chirp3-HD-Kore", "en-US"),
)


@dataclass(slots=True)
class StreamRecord:
    """One ``StreamingSynthesize`` call as the server saw it (``perf_counter`` times)."""

    opened_at: float
    config: tts.StreamingSynthesizeConfig | None = None
    inputs: list[str] = field(default_factory=list)
    first_audio_at: float | None = None
    closed_at: float | None = None
    cancelled: bool = False

    @property
    def text(self) -> str:
        """Every input text, joined."""
        return "".join(self.inputs)


class GoogleTTSServer(Service):
    """A local Cloud Text-to-Speech gRPC server.

    Args:
        ttfb: seconds before the first audio of each streamed input (and of each
            ``SynthesizeSpeech``).
        voice: speaks the text; default: espeak-ng when installed, else synthetic.
        host: interface to listen on.
        port: port to listen on; 0 picks a free one.
    """

    def __init__(
        self,
        *,
        ttfb: float = 0.1,
        voice: Voice | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if ttfb < 0:
            raise ValueError("ttfb must be >= 0 seconds")
        self.ttfb = ttfb
        self._voice = voice or default_voice()
        self._host, self._port = host, port
        self._server: grpc.aio.Server | None = None
        self._failures: list[Refusal] = []
        self.streams: list[StreamRecord] = []
        """Every ``StreamingSynthesize`` call, in order."""
        self.requests: list[tts.SynthesizeSpeechRequest] = []
        """Every ``SynthesizeSpeech`` request, in order."""

    async def start(self) -> None:
        """Bind and start serving."""
        if self._server is not None:
            raise RuntimeError("GoogleTTSServer already started")
        handlers = {
            "StreamingSynthesize": grpc.stream_stream_rpc_method_handler(
                self._streaming_synthesize,
                request_deserializer=tts.StreamingSynthesizeRequest.deserialize,
                response_serializer=tts.StreamingSynthesizeResponse.serialize,
            ),
            "SynthesizeSpeech": grpc.unary_unary_rpc_method_handler(
                self._synthesize_speech,
                request_deserializer=tts.SynthesizeSpeechRequest.deserialize,
                response_serializer=tts.SynthesizeSpeechResponse.serialize,
            ),
            "ListVoices": grpc.unary_unary_rpc_method_handler(
                self._list_voices,
                request_deserializer=tts.ListVoicesRequest.deserialize,
                response_serializer=tts.ListVoicesResponse.serialize,
            ),
        }
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        self._port = server.add_insecure_port(f"{self._host}:{self._port}")
        await server.start()
        self._server = server
        logger.info("google tts test server listening", extra={"port": self._port})

    async def aclose(self) -> None:
        """Stop serving (calls in flight are cancelled)."""
        if self._server is not None:
            await self._server.stop(grace=None)
            self._server = None

    @property
    def endpoint(self) -> str:
        """``HOST:PORT``: pass as ``GoogleVoice(endpoint=..., insecure=True)``."""
        return f"{self._host}:{self._port}"

    def set_ttfb(self, ttfb: float) -> None:
        """Change the first-audio delay for calls from now on."""
        if ttfb < 0:
            raise ValueError("ttfb must be >= 0 seconds")
        self.ttfb = ttfb

    def fail_next(
        self,
        n: int = 1,
        *,
        code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE,
        message: str = "The service is currently unavailable.",
    ) -> None:
        """Fail the next ``n`` synthesis calls with ``code`` (``UNAVAILABLE`` by default)."""
        self._failures.extend(Refusal(code, message) for _ in range(n))

    # -- rpcs ---------------------------------------------------------------------------

    async def _streaming_synthesize(
        self,
        requests: AsyncIterator[tts.StreamingSynthesizeRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[tts.StreamingSynthesizeResponse]:
        record = StreamRecord(opened_at=time.perf_counter())
        self.streams.append(record)
        try:
            await self._admit(context)
            config: tts.StreamingSynthesizeConfig | None = None
            async for request in requests:
                if config is None:
                    config = check_streaming_config(request)
                    record.config = config
                    continue
                text = _input_text(request)
                record.inputs.append(text)
                await asyncio.sleep(self.ttfb)
                audio_config = config.streaming_audio_config
                rate = audio_config.sample_rate_hertz or 24000
                audio = await asyncio.to_thread(self._speak, text, rate, audio_config.speaking_rate)
                if record.first_audio_at is None:
                    record.first_audio_at = time.perf_counter()
                response = tts.StreamingSynthesizeResponse(audio_content=audio)
                conformance.emit("google_tts", "streaming_response", _wire(response))
                yield response
        except Refusal as refusal:
            await _drain(requests)
            refusal.end(context)
        except asyncio.CancelledError:
            record.cancelled = True
            raise
        finally:
            record.closed_at = time.perf_counter()

    async def _synthesize_speech(
        self, request: tts.SynthesizeSpeechRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> tts.SynthesizeSpeechResponse:
        self.requests.append(request)
        try:
            await self._admit(context)
            text, rate, wav = check_synthesize(request)
        except Refusal as refusal:
            await refusal.abort(context)
            raise  # abort raises; this only satisfies the type checker
        await asyncio.sleep(self.ttfb)
        speed = request.audio_config.speaking_rate
        audio = await asyncio.to_thread(self._speak, text, rate, speed, wav)
        response = tts.SynthesizeSpeechResponse(audio_content=audio)
        conformance.emit("google_tts", "synthesize_response", _wire(response))
        return response

    async def _list_voices(
        self, request: tts.ListVoicesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> tts.ListVoicesResponse:
        try:
            check_auth(context)
        except Refusal as refusal:
            await refusal.abort(context)
        voices = [
            tts.Voice(language_codes=[lang], name=name, natural_sample_rate_hertz=24000)
            for name, lang in VOICES
            if not request.language_code or request.language_code == lang
        ]
        return tts.ListVoicesResponse(voices=voices)

    # -- helpers ------------------------------------------------------------------------

    async def _admit(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        check_auth(context)
        if self._failures:
            raise self._failures.pop(0)

    def _speak(self, text: str, rate: int, speed: float, wav: bool = False) -> bytes:
        return pcm_bytes(self._voice(text, rate), rate, speed=speed or 1.0, wav=wav)


async def _drain(requests: AsyncIterator[Any], within: float = 5.0) -> None:
    """Read what the client still sends before refusing: ending a response stream while
    the client writes makes grpc's core fail the call with INTERNAL, not the status."""
    with contextlib.suppress(TimeoutError, grpc.RpcError):
        async with asyncio.timeout(within):
            async for _ in requests:
                pass


def _input_text(request: tts.StreamingSynthesizeRequest) -> str:
    if "streaming_config" in request:
        raise Refusal(
            grpc.StatusCode.INVALID_ARGUMENT,
            "streaming_config is only allowed in the first request.",
        )
    if "input" not in request or not (request.input.text or request.input.markup):
        raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "Each later request must carry input.")
    return str(request.input.text or request.input.markup)


def _wire(message: Any) -> bytes:
    return bytes(type(message).serialize(message))


def known_voices() -> Sequence[tuple[str, str]]:
    """The voices :meth:`ListVoices` lists (name, language)."""
    return VOICES
