"""Public value types of the local realtime server (re-exported by ``realtime_server``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

__all__ = [
    "Reply",
    "ReplyContext",
    "ReplyFn",
    "ToolCall",
    "TurnRecord",
    "TurnSource",
    "split_tokens",
]

_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]|\s+$")

TurnSource: TypeAlias = Literal["vad", "client"]
"""Who started a response: the server VAD (end of a user turn) or a ``response.create``."""


def split_tokens(text: str) -> list[str]:
    """Cut text into LLM-like tokens: words with their leading space, and punctuation.

    ``"Oh, hi there!"`` → ``["Oh", ",", " hi", " there", "!"]``. Lossless:
    ``"".join(split_tokens(t)) == t``.
    """
    return _TOKEN.findall(text)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A reply that calls a function instead of answering in text.

    Args:
        name: the function name, as declared in the session's tools.
        arguments: JSON-serialisable arguments.
        call_id: the call id to send; a fresh ``call_…`` id when ``None``.
    """

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    call_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyContext:
    """What the reply callable sees when the server must answer."""

    transcript: str
    """The user's latest transcript; after a tool call, the tool's output."""
    instructions: str
    """The session instructions, or the response's own when ``response.create`` set them."""
    tools: tuple[str, ...]
    """Names of the function tools available to this response."""
    items: tuple[Mapping[str, Any], ...]
    """The conversation so far as simple dicts (``id``, ``type``, ``role``/``text``,
    ``name``/``arguments``/``call_id``, ``output``); the ``response.create``'s ``input``
    instead when it gave one. A user audio item's ``text`` is what the transcriber heard."""
    tool_output: str | None = None
    """The output of the function call this response follows, if it follows one."""
    source: TurnSource = "client"
    """Whether the server VAD or a client ``response.create`` started the response."""
    out_of_band: bool = False
    """The response was created with ``conversation: "none"``: it is not added to the
    conversation, and ``items`` are its ``input`` when it gave one."""
    metadata: Mapping[str, str] | None = None
    """The ``metadata`` of the ``response.create`` (``None`` for server VAD responses)."""


Reply: TypeAlias = str | ToolCall
"""A text answer or a function call."""

ReplyFn: TypeAlias = Callable[[ReplyContext], Reply | Awaitable[Reply]]
"""Decides each response; may be a plain function or a coroutine function."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnRecord:
    """One finished response with its wall-clock timeline (``time.perf_counter()`` seconds)."""

    response_id: str
    source: TurnSource
    status: Literal["completed", "cancelled", "failed", "incomplete"]
    """``incomplete``: cut at ``max_output_tokens``."""
    transcript: str
    """What the reply callable was given as the user's words."""
    reply: str
    """The full text the reply callable returned (empty for a tool call)."""
    text: str
    """The text (or, for audio, the transcript) actually streamed; shorter than ``reply``
    when cancelled or cut at ``max_output_tokens``."""
    tool_call: ToolCall | None
    speech_end_at: float | None
    """Arrival of the last voiced audio chunk (VAD turns)."""
    speech_stopped_at: float | None
    """When the VAD decided the turn was over (VAD turns)."""
    requested_at: float | None
    """Receipt of the client's ``response.create`` (client turns)."""
    response_created_at: float
    first_delta_at: float | None
    """First output delta: text, audio, or the function call's arguments."""
    done_at: float
    modality: Literal["text", "audio"] = "text"
    """Whether the reply streamed as text or as audio with a transcript."""
    out_of_band: bool = False
    """Created with ``conversation: "none"``: not added to the conversation."""
    audio_samples: int = 0
    """24 kHz samples of audio streamed (audio replies)."""

    @property
    def cancelled(self) -> bool:
        """Whether the response ended with ``status: cancelled`` (barge-in or cancel)."""
        return self.status == "cancelled"

    @property
    def ttft(self) -> float | None:
        """First output minus its reference: end of speech (VAD) or the request (client)."""
        ref = self.speech_end_at if self.source == "vad" else self.requested_at
        if ref is None or self.first_delta_at is None:
            return None
        return self.first_delta_at - ref
