"""Gemini Live as a text-only brain, for the models that can write text."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from livekit.agents import llm

from .._env import env_value
from ..errors import UnsupportedModelError

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
    if model not in TEXT_MODELS:
        logger.warning(
            "Gemini model is not known to support TEXT output; if the session closes at once, "
            "use one of %s",
            ", ".join(TEXT_MODELS),
            extra={"model": model},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class GoogleBrain:
    """Gemini Live with TEXT responses.

    Gemini keeps turn detection on its server and cannot change tools without reconnecting;
    ``update_instructions`` appends to the conversation instead of replacing the system
    instruction on the Gemini API (Vertex replaces it).

    Attributes:
        model: a Live model that outputs text (see :data:`TEXT_MODELS`).
        api_key: defaults to ``GOOGLE_API_KEY`` (not needed with ``vertexai=True``).
        vertexai: use Vertex AI (credentials from ``GOOGLE_APPLICATION_CREDENTIALS``).
        project, location: Vertex AI project and region.
    """

    model: str = TEXT_MODELS[0]
    api_key: str | None = None
    vertexai: bool = False
    project: str | None = None
    location: str | None = None

    def __post_init__(self) -> None:
        check_gemini_model(self.model)

    def missing_credentials(self) -> list[str]:
        """Environment variables still needed."""
        if self.vertexai:
            found = env_value(None, "GOOGLE_APPLICATION_CREDENTIALS")
            return [] if found else ["GOOGLE_APPLICATION_CREDENTIALS"]
        return [] if env_value(self.api_key, "GOOGLE_API_KEY") else ["GOOGLE_API_KEY"]

    def build(self) -> llm.RealtimeModel:
        """The livekit Google ``RealtimeModel`` with TEXT responses."""
        from google.genai import types
        from livekit.agents import NOT_GIVEN
        from livekit.plugins.google import realtime

        return realtime.RealtimeModel(
            model=self.model,
            modalities=[types.Modality.TEXT],
            api_key=env_value(self.api_key, "GOOGLE_API_KEY") or NOT_GIVEN,
            vertexai=self.vertexai,
            project=self.project or NOT_GIVEN,
            location=self.location or NOT_GIVEN,
        )
