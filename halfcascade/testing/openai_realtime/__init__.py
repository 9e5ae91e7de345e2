"""A local, protocol-faithful OpenAI Realtime (GA) server: :class:`RealtimeServer`."""

from .server import (
    RealtimeServer,
    Reply,
    ReplyContext,
    ReplyFn,
    ToolCall,
    TurnRecord,
    TurnSource,
    split_tokens,
)

__all__ = [
    "RealtimeServer",
    "Reply",
    "ReplyContext",
    "ReplyFn",
    "ToolCall",
    "TurnRecord",
    "TurnSource",
    "split_tokens",
]
