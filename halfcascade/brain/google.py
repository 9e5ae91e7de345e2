"""Gemini Live as a text-only brain, for the models that can write text."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from typing import Any

from livekit.agents import llm

from .._env import env_value
from ..errors import ConfigError, UnsupportedModelError

__all__ = ["TEXT_MODELS", "GoogleBrain", "check_gemini_model"]

logger = logging.getLogger("halfcascade.brain")

#: Live models known to answer with TEXT (half-cascade models: audio in, text out).
TEXT_MODELS = ("gemini-live-2.5-flash-preview", "gemini-2.0-flash-live-001")

# Live models known to reject TEXT output, with what the server answers.
_REJECTS_TEXT = (
    (
        "native-audio",
        "closes the socket with 1007 'Cannot extract voices from a non-audio request'",
    ),
    ("gemini-3.1-flash-live", "fails with 1011 when asked for TEXT"),
)


def check_gemini_model(model: str) -> None:
    """Refuse, before any connection, a Gemini model that cannot output text."""
    for marker, symptom in _REJECTS_TEXT:
        if marker in model:
            raise UnsupportedModelError(
                f"Gemini model {model!r} cannot output text (it {symptom}); a half-cascade "
                f"needs a text-output Live model such as {TEXT_MODELS[0]!r}, "
                "or use OpenAIBrain()"
            )
    if model.removeprefix("models/") not in TEXT_MODELS:
        logger.warning(
            "Gemini model is not known to support TEXT output; if the session closes at once, "
            "use one of %s",
            ", ".join(TEXT_MODELS),
            extra={"model": model},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class GoogleBrain:
    """Gemini Live with TEXT responses.

    Gemini keeps turn detection on its server (automatic activity detection) and cannot
    change tools without reconnecting; ``update_instructions`` appends a model turn to the
    conversation on the Gemini API (the system instruction stays) and replaces the system
    instruction on Vertex AI. See ``docs/gemini.md``.

    Attributes:
        model: a Live model that outputs text (see :data:`TEXT_MODELS`).
        silence_ms: silence that ends the user's turn (``None``: the server's default).
        transcription: ask for the user's transcript (history, memory).
        connect_retries: extra attempts when the connection cannot be opened (refused,
            reset, HTTP 429/5xx); refusals of the request itself are not retried.
        input_chunk_ms: user audio sent per message. livekit sends 50 ms chunks, so the
            service hears the end of speech 25 ms late on average; 20 ms (one WebRTC
            packet) keeps that to 10 ms.
        api_key: defaults to ``GOOGLE_API_KEY`` (not needed with ``vertexai=True``).
        vertexai: use Vertex AI (credentials from ``GOOGLE_APPLICATION_CREDENTIALS``).
        project, location: Vertex AI project and region.
        base_url: another endpoint (a proxy, a local stand-in); ``https`` is served as
            ``wss`` (the client forces it when an API key is set). Defaults to
            ``GOOGLE_GEMINI_BASE_URL``, read by ``google-genai`` itself.
        api_version: the API version in the endpoint path (``None``: the client's default).
        ca_file: a PEM bundle to trust instead of the system's (a private CA).
    """

    model: str = TEXT_MODELS[0]
    silence_ms: int | None = None
    transcription: bool = True
    connect_retries: int = 3
    input_chunk_ms: int = 20
    api_key: str | None = None
    vertexai: bool = False
    project: str | None = None
    location: str | None = None
    base_url: str | None = None
    api_version: str | None = None
    ca_file: str | None = None

    def __post_init__(self) -> None:
        check_gemini_model(self.model)
        if self.silence_ms is not None and not 100 <= self.silence_ms <= 5000:
            raise ConfigError("GoogleBrain.silence_ms must be between 100 and 5000 (or None)")
        if not 10 <= self.input_chunk_ms <= 100 or self.input_chunk_ms % 10:
            raise ConfigError("GoogleBrain.input_chunk_ms must be 10, 20, ... or 100")
        if not 0 <= self.connect_retries <= 10:
            raise ConfigError("GoogleBrain.connect_retries must be between 0 and 10")
        if self.base_url is not None and not self.base_url.startswith(("https://", "http://")):
            raise ConfigError(
                f"GoogleBrain.base_url={self.base_url!r} must be an http(s) URL, e.g. "
                "'https://127.0.0.1:8443'"
            )

    def missing_credentials(self) -> list[str]:
        """Environment variables still needed."""
        if self.vertexai:
            found = env_value(None, "GOOGLE_APPLICATION_CREDENTIALS")
            return [] if found else ["GOOGLE_APPLICATION_CREDENTIALS"]
        return [] if env_value(self.api_key, "GOOGLE_API_KEY") else ["GOOGLE_API_KEY"]

    def build(self) -> llm.RealtimeModel:
        """The livekit Google ``RealtimeModel`` with TEXT responses (see
        :class:`~halfcascade.brain.google_session.GeminiTextModel`)."""
        from google.genai import types
        from livekit.agents import NOT_GIVEN

        from .google_session import GeminiTextModel

        activity: Any = NOT_GIVEN
        if self.silence_ms is not None:
            activity = types.RealtimeInputConfig(
                automatic_activity_detection=types.AutomaticActivityDetection(
                    silence_duration_ms=self.silence_ms
                )
            )
        return GeminiTextModel(
            connect_retries=self.connect_retries,
            input_chunk_ms=self.input_chunk_ms,
            model=self.model,
            modalities=[types.Modality.TEXT],
            api_key=env_value(self.api_key, "GOOGLE_API_KEY") or NOT_GIVEN,
            vertexai=self.vertexai,
            project=self.project or NOT_GIVEN,
            location=self.location or NOT_GIVEN,
            realtime_input_config=activity,
            input_audio_transcription=types.AudioTranscriptionConfig()
            if self.transcription
            else None,
            output_audio_transcription=None,  # TEXT output: there is no audio to transcribe
            http_options=self._http_options() or NOT_GIVEN,
        )

    def _http_options(self) -> Any:
        if self.base_url is None and self.api_version is None and self.ca_file is None:
            return None
        from google.genai import types

        args = {"ssl": ssl.create_default_context(cafile=self.ca_file)} if self.ca_file else None
        return types.HttpOptions(
            base_url=self.base_url,
            api_version=self.api_version,
            timeout=10_000,  # what the plugin sets when it builds the options itself
            async_client_args=args,
        )
