"""What a memory is, what a store does, and the operations queued against a store.

Every store operation takes the user id first: there is no call that reads or writes
memories without one, so no code path can reach another user's memories.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ..errors import ConfigError
from ._text import clean_text, text_problem

__all__ = [
    "MAX_MEMORY_CHARS",
    "Complete",
    "Embedder",
    "ForgetOp",
    "Memory",
    "MemoryKind",
    "MemoryOp",
    "MemoryStore",
    "OpListener",
    "Recalled",
    "RememberOp",
    "check_user_id",
    "op_from_json",
    "op_to_json",
]

#: Longest memory text accepted; a memory is a fact, not a transcript.
MAX_MEMORY_CHARS = 500

MemoryKind = Literal["fact", "preference", "note"]

_KEY = re.compile(r"^[a-z0-9_][a-z0-9_.:-]{0,79}$")


def check_user_id(user_id: str) -> str:
    """``user_id`` if it is a usable id; every store calls this before touching data."""
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > 200:
        raise ConfigError(
            f"user_id must be a non-empty string of at most 200 chars, got {user_id!r}"
        )
    if (problem := text_problem(user_id)) is not None:
        raise ConfigError(f"user_id {user_id!r} {problem}; use printable text")
    return user_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Memory:
    """One durable thing the companion knows about a user.

    Text is cleaned on construction (see :func:`~halfcascade.memory._text.clean_text`): NUL
    and control characters go, lone surrogates become U+FFFD, line separators become
    ``\\n``. Whatever a ``Memory`` holds can therefore be stored by every store.

    Attributes:
        text: the fact in the third person (``"The user's dog is called Max."``), or one
            turn of a conversation.
        key: a slot such as ``"dog.name"``; remembering a memory with the same key replaces
            the old one (``"my dog is called Max now"``). ``None`` for free notes.
        kind: ``"fact"``, ``"preference"`` or ``"note"``.
        id: unique per user; remembering the same id again replaces it (safe to retry).
        updated_at: when it was last written (``time.time()``).
        importance: 0 to 1; breaks ties between equally relevant memories.
        context: what the memory answers, e.g. the question the user replied to; searched
            with the memory (stores also use the memories written just before it).
    """

    text: str
    key: str | None = None
    kind: MemoryKind = "fact"
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    updated_at: float = field(default_factory=time.time)
    importance: float = 0.5
    context: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise ConfigError(f"Memory.text must be a str, got {type(self.text).__name__}")
        object.__setattr__(self, "text", clean_text(self.text))
        if not self.text or len(self.text) > MAX_MEMORY_CHARS:
            raise ConfigError(
                f"Memory.text must be 1 to {MAX_MEMORY_CHARS} characters after cleaning, "
                f"got {len(self.text)}"
            )
        if self.context is not None:
            context = clean_text(self.context)[:MAX_MEMORY_CHARS]
            object.__setattr__(self, "context", context or None)
        if not isinstance(self.id, str) or not 0 < len(self.id) <= 200 or text_problem(self.id):
            raise ConfigError(f"Memory.id must be 1 to 200 printable characters, got {self.id!r}")
        if not math.isfinite(self.updated_at) or not 0.0 <= self.importance <= 1.0:
            raise ConfigError("Memory.updated_at must be finite and importance within 0..1")
        if self.key is not None and not _KEY.match(self.key):
            raise ConfigError(
                f"Memory.key {self.key!r} must be lowercase letters, digits and _.:- "
                "(at most 80 chars), e.g. 'dog.name'"
            )
        if self.kind not in ("fact", "preference", "note"):
            raise ConfigError(f"Memory.kind must be fact, preference or note, got {self.kind!r}")


@dataclass(frozen=True, slots=True)
class Recalled:
    """A recalled memory and its relevance score (higher is better; comparable within one
    recall only)."""

    memory: Memory
    score: float


@runtime_checkable
class MemoryStore(Protocol):
    """Where memories live. Every call is scoped to one user id.

    Implementations raise :class:`~halfcascade.StoreError` when the backend cannot serve a
    request (unreachable, timed out) and :class:`~halfcascade.ConfigError` for bad input.
    """

    async def remember(self, user_id: str, memory: Memory) -> Memory:
        """Store ``memory``, replacing the user's memory with the same id or key."""
        ...

    async def recall(self, user_id: str, query: str, *, limit: int = 5) -> list[Memory]:
        """The user's memories most relevant to ``query``, best first; ``""`` = most recent."""
        ...

    async def forget(self, user_id: str, memory_ids: Sequence[str]) -> int:
        """Delete the user's memories with these ids; returns how many were deleted."""
        ...

    async def count(self, user_id: str) -> int:
        """How many memories the user has."""
        ...

    async def aclose(self) -> None:
        """Release connections and threads."""
        ...


class Embedder(Protocol):
    """Optional text embeddings for hybrid recall: the memories most similar to a query
    join the lexical candidates and cosine similarity is blended into their score."""

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, all of the same length."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RememberOp:
    """Queue ``memory`` to be remembered."""

    memory: Memory
    type: Literal["remember"] = "remember"


@dataclass(frozen=True, slots=True, kw_only=True)
class ForgetOp:
    """Forget whatever the user's memories say ``about`` (``"my dog"``)."""

    about: str
    type: Literal["forget"] = "forget"

    def __post_init__(self) -> None:
        object.__setattr__(self, "about", clean_text(self.about))
        if not self.about or len(self.about) > MAX_MEMORY_CHARS:
            raise ConfigError(f"ForgetOp.about must be 1 to {MAX_MEMORY_CHARS} characters")


MemoryOp = RememberOp | ForgetOp

#: Called with each operation submitted for a user (see ``WriteQueue.subscribe``).
OpListener = Callable[[str, MemoryOp], None]
#: An async text-in, text-out completion, e.g. a small LLM behind any client.
Complete = Callable[[str], Awaitable[str]]


def op_to_json(op: MemoryOp) -> dict[str, Any]:
    """A JSON-able form of ``op`` (the write-behind spool stores it)."""
    if isinstance(op, ForgetOp):
        return {"type": "forget", "about": op.about}
    m = op.memory
    memory = {"text": m.text, "key": m.key, "kind": m.kind, "id": m.id, "at": m.updated_at}
    return {"type": "remember", "memory": memory, "importance": m.importance, "context": m.context}


def op_from_json(data: dict[str, Any]) -> MemoryOp:
    """The operation :func:`op_to_json` wrote."""
    if data["type"] == "forget":
        return ForgetOp(about=data["about"])
    m = data["memory"]
    return RememberOp(
        memory=Memory(
            text=m["text"],
            key=m["key"],
            kind=m["kind"],
            id=m["id"],
            updated_at=m["at"],
            importance=data.get("importance", 0.5),
            context=data.get("context"),
        )
    )
