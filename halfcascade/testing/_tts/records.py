"""What the local TTS servers record: requests, websocket connections and contexts.

Times are ``time.perf_counter()`` readings, comparable with
:mod:`halfcascade.testing.audio_io`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["FAULT_KINDS", "ConnectionRecord", "ContextRecord", "FaultKind", "RequestRecord"]

#: How an injected fault makes the next request fail:
#: ``"error"`` the provider reports an error (websocket error event, HTTP 400);
#: ``"http500"`` HTTP 500 (also refuses a websocket handshake);
#: ``"close"`` the connection drops; ``"hang"`` nothing is ever answered (client timeout).
FaultKind = Literal["error", "close", "http500", "hang"]
FAULT_KINDS: tuple[FaultKind, ...] = ("error", "close", "http500", "hang")


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRecord:
    """One HTTP synthesis request as the server saw it (``perf_counter`` times).

    ``status`` is the HTTP status answered, 0 when the connection was dropped on purpose.
    """

    request_id: int
    path: str
    text: str
    params: Mapping[str, Any]
    arrived_at: float
    first_byte_at: float | None = None
    finished_at: float | None = None
    audio_seconds: float = 0.0
    status: int = 200
    fault: FaultKind | None = None

    @property
    def ttfb(self) -> float | None:
        """Seconds from the request's arrival to the first audio byte written."""
        return None if self.first_byte_at is None else self.first_byte_at - self.arrived_at


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionRecord:
    """One websocket connection (``perf_counter`` times)."""

    connection_id: int
    voice_id: str
    params: Mapping[str, str]
    opened_at: float
    closed_at: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextRecord:
    """One websocket context as the server saw it (``perf_counter`` times).

    A ``stream-input`` connection is one context (``context_id`` ``""``). ``wire`` holds
    the client's messages for this context exactly as received, opener and
    ``close_context`` included; ``chunks`` are the pieces the text was cut into for
    synthesis (on a flush, in auto mode, or when the chunk schedule filled), each cut at
    the matching ``chunk_times`` entry. Every chunk is spoken in full, even after the
    context is closed. ``cancelled`` means the context was closed before its end of input
    (an interruption): the text still buffered then, never flushed, is in ``discarded``
    and was never spoken.
    """

    context_id: str
    connection_id: int
    opened_at: float
    wire: tuple[Mapping[str, Any], ...] = ()
    chunks: tuple[str, ...] = ()
    chunk_times: tuple[float, ...] = ()
    first_text_at: float | None = None
    first_flush_at: float | None = None
    first_audio_sent_at: float | None = None
    end_of_input_at: float | None = None
    closed_at: float | None = None
    finished_at: float | None = None
    audio_seconds: float = 0.0
    cancelled: bool = False
    discarded: str = ""
    fault: FaultKind | None = None
    error: str | None = None

    @property
    def messages(self) -> tuple[str, ...]:
        """The ``text`` field of every message that had one, in order."""
        return tuple(str(m["text"]) for m in self.wire if "text" in m)

    @property
    def text(self) -> str:
        """All text received, joined and stripped."""
        return "".join(self.messages).strip()

    @property
    def ttfb(self) -> float | None:
        """Seconds from the first chunk being cut to the first audio sent."""
        if self.first_audio_sent_at is None or not self.chunk_times:
            return None
        return self.first_audio_sent_at - self.chunk_times[0]
