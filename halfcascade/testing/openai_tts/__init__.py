"""A local OpenAI text-to-speech endpoint (``/v1/audio/speech``): :class:`OpenAITTSServer`."""

from .server import FaultKind, OpenAITTSServer, RequestRecord

__all__ = ["FaultKind", "OpenAITTSServer", "RequestRecord"]
