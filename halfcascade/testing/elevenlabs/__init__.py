"""A local ElevenLabs text-to-speech service: :class:`ElevenLabsServer`."""

from .server import ConnectionRecord, ContextRecord, ElevenLabsServer, FaultKind, RequestRecord

__all__ = ["ConnectionRecord", "ContextRecord", "ElevenLabsServer", "FaultKind", "RequestRecord"]
