"""A local OpenAI text-to-speech endpoint (``/v1/audio/speech``): :class:`OpenAITTSServer`."""

from .server import OpenAITTSServer

__all__ = ["OpenAITTSServer"]
