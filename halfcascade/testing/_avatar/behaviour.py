"""How a stand-in avatar provider behaves, and what it records."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AvatarBehaviour", "AvatarRequest"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AvatarBehaviour:
    """How the stand-in provider and its avatar behave.

    Attributes:
        join: send an avatar into the room after a successful create call.
        delay: seconds before each HTTP response.
        join_delay: seconds between the response and the avatar connecting.
        reports_start: the avatar sends ``lk.playback_started``.
        size: the avatar's video width and height (small keeps tests light).
    """

    join: bool = True
    delay: float = 0.0
    join_delay: float = 0.0
    reports_start: bool = True
    size: int = 128


@dataclass(frozen=True, slots=True)
class AvatarRequest:
    """One HTTP request as received (``body`` is the parsed JSON, ``None`` if there was none
    or it was not JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.perf_counter)
