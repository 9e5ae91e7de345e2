"""The brain: a realtime model that hears the user and writes its reply as text.

``brain=`` takes an :class:`OpenAIBrain`, a :class:`GoogleBrain`, or any livekit
``llm.RealtimeModel`` already built with text output.
"""

from __future__ import annotations

from livekit.agents import llm

from ..errors import ConfigError, UnsupportedModelError
from .google import TEXT_MODELS, GoogleBrain, check_gemini_model
from .openai import OpenAIBrain

__all__ = [
    "BRAIN_PROVIDERS",
    "TEXT_MODELS",
    "Brain",
    "GoogleBrain",
    "OpenAIBrain",
    "build_brain",
    "check_gemini_model",
    "check_text_output",
    "missing_brain_credentials",
    "resolve_brain",
]

Brain = OpenAIBrain | GoogleBrain | llm.RealtimeModel | str

#: Provider names accepted where a brain is expected.
BRAIN_PROVIDERS = {"openai": OpenAIBrain, "google": GoogleBrain}


def resolve_brain(brain: Brain) -> OpenAIBrain | GoogleBrain | llm.RealtimeModel:
    """``brain`` itself, or the default brain of a provider named by a string."""
    if isinstance(brain, OpenAIBrain | GoogleBrain | llm.RealtimeModel):
        return brain
    if isinstance(brain, str) and brain in BRAIN_PROVIDERS:
        default: OpenAIBrain | GoogleBrain = BRAIN_PROVIDERS[brain]()
        return default
    raise ConfigError(
        f"unknown brain {brain!r}: use OpenAIBrain(), GoogleBrain(), a livekit "
        f"llm.RealtimeModel built with text output, or one of {sorted(BRAIN_PROVIDERS)}"
    )


def check_text_output(model: llm.RealtimeModel) -> None:
    """Refuse a realtime model that would speak itself instead of writing text."""
    if model.capabilities.audio_output:
        raise UnsupportedModelError(
            f"{type(model).__module__}.{type(model).__name__} is configured to output audio; "
            "a half-cascade needs text output: build it with modalities=['text'] (OpenAI) or "
            "modalities=[Modality.TEXT] (Google), or pass OpenAIBrain()/GoogleBrain()"
        )
    model_name = getattr(model, "model", "")
    if type(model).__module__.startswith("livekit.plugins.google") and isinstance(model_name, str):
        check_gemini_model(model_name)


def missing_brain_credentials(brain: OpenAIBrain | GoogleBrain | llm.RealtimeModel) -> list[str]:
    """Environment variables the brain still needs."""
    if isinstance(brain, llm.RealtimeModel):
        return []
    return brain.missing_credentials()


def build_brain(brain: OpenAIBrain | GoogleBrain | llm.RealtimeModel) -> llm.RealtimeModel:
    """The livekit ``RealtimeModel`` for ``brain``, checked for text output."""
    model = brain if isinstance(brain, llm.RealtimeModel) else brain.build()
    check_text_output(model)
    return model
