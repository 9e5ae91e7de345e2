"""A local, protocol-faithful Gemini Live server: :class:`GeminiLiveServer`."""

from ..openai_realtime._types import Reply, ReplyContext, ReplyFn, ToolCall, TurnRecord
from ._wire import AUDIO_ONLY_MODELS, TEXT_MODELS
from .server import API_VERSION, GeminiLiveServer

__all__ = [
    "API_VERSION",
    "AUDIO_ONLY_MODELS",
    "TEXT_MODELS",
    "GeminiLiveServer",
    "Reply",
    "ReplyContext",
    "ReplyFn",
    "ToolCall",
    "TurnRecord",
]
