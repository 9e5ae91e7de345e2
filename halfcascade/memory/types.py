"""What a memory is, what a store does, and the operations queued against a store.

Every store operation takes the user id first: there is no call that reads or writes
memories without one, so no code path can reach another user's memories.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ..errors import ConfigError

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
    return user_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Memory:
    """One durable thing the companion knows about a user.

    Attributes:
        text: the fact in the third person (``"The user's dog is called Max."``).
        key: a slot such as ``"dog.name"``; remembering a memory with the same key replaces
            the old one (``"my dog is called Max now"``). ``None`` for free notes.
        kind: ``"fact"``, ``"preference"`` or ``"note"``.
        id: unique per user; remembering the same id again replaces it (safe to retry).
        updated_at: when it was last written (``time.time()``).
    """

    text: str
    key: str | None = None
    kind: MemoryKind = "fact"
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    updated_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if not self.text.strip() or len(self.text) > MAX_MEMORY_CHARS:
            raise ConfigError(f"Memory.text must be 1 to {MAX_MEMORY_CHARS} characters")
        if self.key is not None and not _KEY.match(self.key):
            raise ConfigError(
                f"Memory.key {self.key!r} must be lowercase letters, digits and _.:- "
                "(at most 80 chars), e.g. 'dog.name'"
            )
        if self.kind not in ("fact", "preference", "note"):
            raise ConfigError(f"Memory.kind must be fact, preference or note, got {self.kind!r}")


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
    """Optional text embeddings for hybrid recall (full-text candidates, cosine re-rank)."""

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
        if not self.about.strip() or len(self.about) > MAX_MEMORY_CHARS:
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
    return {
        "type": "remember",
        "memory": {"text": m.text, "key": m.key, "kind": m.kind, "id": m.id, "at": m.updated_at},
    }


def op_from_json(data: dict[str, Any]) -> MemoryOp:
    """The operation :func:`op_to_json` wrote."""
    if data["type"] == "forget":
        return ForgetOp(about=data["about"])
    m = data["memory"]
    return RememberOp(
        memory=Memory(text=m["text"], key=m["key"], kind=m["kind"], id=m["id"], updated_at=m["at"])
    )
