"""Google Cloud Text-to-Speech as a voice, on Google's endpoint or any other.

livekit's ``google.TTS`` always builds its client for ``texttospeech.googleapis.com`` (or
the regional one) with OAuth credentials. :class:`GoogleVoice` adds what a deployment and
the local stand-in need: another ``endpoint`` (a private or regional endpoint, a proxy,
:class:`~halfcascade.testing.google_tts.GoogleTTSServer`), an ``api_key`` (the service
accepts API keys in ``x-goog-api-key``) and, for a loopback endpoint only, a plaintext
channel. The client is the ``google-cloud-texttospeech`` one in every case, so the wire is
the real gRPC API; only how it is constructed differs (the plugin's ``_ensure_client``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from livekit.agents import tts as lk_tts

from .._env import env_value
from ..errors import ConfigError
from .phrases import Phrasing
from .tokenizer import FirstPhraseTokenizer

__all__ = ["GoogleVoice"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GoogleVoice:
    """Google Cloud TTS (streaming synthesis with the first-phrase tokenizer).

    Attributes:
        voice_name: a voice (``"Charon"`` for Gemini TTS, ``"en-US-Chirp3-HD-Charon"``...);
            ``None``: the plugin's default.
        language: BCP-47 language code.
        speaking_rate: 0.25 to 2.0 (streaming; 4.0 without).
        model_name: ``"gemini-2.5-flash-tts"``, ``"chirp_3"``...; ``None``: from the voice.
        credentials_file: a service-account JSON; defaults to
            ``GOOGLE_APPLICATION_CREDENTIALS``.
        api_key: an API key instead of service-account credentials.
        endpoint: ``host:port`` of another endpoint (``None``: Google's).
        insecure: a plaintext channel, only for a loopback ``endpoint`` (a local stand-in).
        streaming: ``StreamingSynthesize`` per phrase (``False``: one ``SynthesizeSpeech``
            per phrase).
    """

    voice_name: str | None = None
    language: str = "en-US"
    speaking_rate: float = 1.0
    model_name: str | None = None
    credentials_file: str | None = None
    api_key: str | None = None
    endpoint: str | None = None
    insecure: bool = False
    streaming: bool = True

    def __post_init__(self) -> None:
        top = 2.0 if self.streaming else 4.0  # the service's limits for each API
        if not 0.25 <= self.speaking_rate <= top:
            raise ConfigError(
                f"GoogleVoice.speaking_rate must be between 0.25 and {top} "
                f"({'streaming' if self.streaming else 'non-streaming'} synthesis)"
            )
        if self.insecure and not _is_loopback(self.endpoint):
            raise ConfigError(
                "GoogleVoice(insecure=True) is only for a loopback endpoint such as "
                "'127.0.0.1:50051' (a local stand-in); remote endpoints use TLS"
            )
        if self.api_key and self.credentials_file:
            raise ConfigError("GoogleVoice: pass api_key or credentials_file, not both")

    def missing_credentials(self) -> list[str]:
        """Environment variables still needed (empty when credentials are known)."""
        if self.api_key:
            return []
        found = env_value(self.credentials_file, "GOOGLE_APPLICATION_CREDENTIALS")
        return [] if found else ["GOOGLE_APPLICATION_CREDENTIALS"]

    def build(self, phrasing: Phrasing) -> lk_tts.TTS[Any]:
        """The livekit Google TTS with the first-phrase tokenizer."""
        from livekit.agents import NOT_GIVEN

        built: lk_tts.TTS[Any] = _endpoint_tts()(
            voice=self,
            language=self.language,
            voice_name=self.voice_name or NOT_GIVEN,
            model_name=self.model_name or NOT_GIVEN,
            speaking_rate=self.speaking_rate,
            credentials_file=self.credentials_file or NOT_GIVEN,
            tokenizer=FirstPhraseTokenizer(phrasing),
            use_streaming=self.streaming,
        )
        if self.streaming:
            return built
        # request per phrase: the same first-phrase cut as a streaming voice
        return lk_tts.StreamAdapter(tts=built, sentence_tokenizer=FirstPhraseTokenizer(phrasing))


def _endpoint_tts() -> type[Any]:
    """livekit's Google TTS whose client is built for :class:`GoogleVoice` (imported only
    when a Google voice is built, so the ``google`` extra stays optional)."""
    import grpc  # type: ignore[import-untyped]  # grpcio ships no stubs
    from google.api_core.client_options import ClientOptions
    from google.cloud import texttospeech
    from google.cloud.texttospeech_v1.services.text_to_speech.transports import (
        TextToSpeechGrpcAsyncIOTransport,
    )
    from livekit.plugins import google

    def _with_key(details: Any, key: str) -> Any:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        metadata.add("x-goog-api-key", key)
        return details._replace(metadata=metadata)

    # grpc files an interceptor under its first matching kind only: one class per kind
    class _UnaryKey(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
        def __init__(self, key: str) -> None:
            self._key = key

        async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
            return await continuation(_with_key(details, self._key), request)

    class _StreamKey(grpc.aio.StreamStreamClientInterceptor):  # type: ignore[misc]
        def __init__(self, key: str) -> None:
            self._key = key

        async def intercept_stream_stream(
            self, continuation: Any, details: Any, requests: Any
        ) -> Any:
            return await continuation(_with_key(details, self._key), requests)

    class EndpointTTS(google.TTS):
        def __init__(self, *, voice: GoogleVoice, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._voice_config = voice

        def _ensure_client(self) -> texttospeech.TextToSpeechAsyncClient:
            voice = self._voice_config
            if self._client is None and voice.insecure and voice.endpoint:
                key = voice.api_key
                interceptors = [_UnaryKey(key), _StreamKey(key)] if key else None
                channel = grpc.aio.insecure_channel(voice.endpoint, interceptors=interceptors)
                transport = TextToSpeechGrpcAsyncIOTransport(channel=channel)
                self._client = texttospeech.TextToSpeechAsyncClient(transport=transport)
            elif self._client is None and (voice.endpoint or voice.api_key):
                options = ClientOptions(
                    api_endpoint=voice.endpoint or "texttospeech.googleapis.com",
                    api_key=voice.api_key,
                )
                if voice.api_key:
                    self._client = texttospeech.TextToSpeechAsyncClient(client_options=options)
                else:
                    self._client = _with_credentials(voice, options)
            return super()._ensure_client()

    return EndpointTTS


def _with_credentials(voice: GoogleVoice, options: Any) -> Any:
    import google.auth
    from google.cloud import texttospeech

    credentials = None
    if voice.credentials_file:
        credentials, _ = google.auth.load_credentials_from_file(  # type: ignore[no-untyped-call]
            voice.credentials_file, scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
    return texttospeech.TextToSpeechAsyncClient(credentials=credentials, client_options=options)


def _is_loopback(endpoint: str | None) -> bool:
    if not endpoint:
        return False
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
