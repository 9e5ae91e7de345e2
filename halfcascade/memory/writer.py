"""A write-behind queue: memory writes leave the conversation at once and land when they can.

:meth:`WriteQueue.submit` returns as soon as the operation is queued (and, with a spool
file, on disk); one worker task applies operations in order and retries failures with
backoff, so a store outage delays writes but loses none. With ``spool=`` the queue also
survives a restart: operations still pending are replayed by the next ``WriteQueue`` on
the same spool (use one spool file per process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ConfigError, StoreError
from ._text import matches_about
from .types import (
    ForgetOp,
    MemoryOp,
    MemoryStore,
    OpListener,
    check_user_id,
    op_from_json,
    op_to_json,
)

__all__ = ["RetryPolicy", "WriteQueue", "apply_op", "forget_about"]

logger = logging.getLogger("halfcascade.memory.writer")

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Backoff between attempts of a failed write (seconds), and each attempt's timeout."""

    first_delay: float = 0.2
    max_delay: float = 5.0
    attempt_timeout: float = 5.0

    def __post_init__(self) -> None:
        if not 0 < self.first_delay <= self.max_delay or self.attempt_timeout <= 0:
            raise ConfigError("RetryPolicy needs 0 < first_delay <= max_delay, attempt_timeout > 0")


async def forget_about(store: MemoryStore, user_id: str, about: str) -> int:
    """Delete the user's memories whose words cover ``about`` (``"my dog"``); returns the count."""
    candidates = await store.recall(user_id, about, limit=20)
    ids = [m.id for m in candidates if matches_about(about, [m.text, m.key or ""])]
    return await store.forget(user_id, ids) if ids else 0


async def apply_op(store: MemoryStore, user_id: str, op: MemoryOp) -> None:
    """Run one queued operation against ``store``."""
    if isinstance(op, ForgetOp):
        await forget_about(store, user_id, op.about)
    else:
        await store.remember(user_id, op.memory)


class WriteQueue:
    """Ordered, retried, optionally durable memory writes for one store.

    Args:
        store: where operations land.
        spool: optional SQLite file holding operations until the store confirms them.
        retry: backoff and per-attempt timeout.
    """

    def __init__(
        self,
        store: MemoryStore,
        *,
        spool: str | Path | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._store = store
        self._retry = retry or RetryPolicy()
        self._queue: deque[tuple[int, str, MemoryOp]] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._listeners: list[OpListener] = []
        self._spool = _Spool(Path(spool)) if spool is not None else None
        self._seq = 0
        self._task: asyncio.Task[None] | None = None
        self._started = False

    @property
    def pending(self) -> int:
        """Operations not yet confirmed by the store."""
        return len(self._queue)

    def subscribe(self, listener: OpListener) -> None:
        """Call ``listener(user_id, op)`` for each operation submitted from now on."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: OpListener) -> None:
        """Stop calling ``listener``."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    async def start(self) -> None:
        """Replay the spool, then start the worker (``submit`` starts it too)."""
        if self._started:
            return
        self._started = True
        if self._spool is not None:
            for seq, user_id, op in await self._spool.load():
                self._queue.append((seq, user_id, op))
                self._seq = max(self._seq, seq)
            if self._queue:
                logger.info("replaying spooled memory writes", extra={"count": len(self._queue)})
                self._idle.clear()
        self._task = asyncio.create_task(self._run(), name="halfcascade.memory.writer")
        self._wake.set()

    async def submit(self, user_id: str, op: MemoryOp) -> None:
        """Queue ``op`` for ``user_id``; returns once it is queued (and spooled)."""
        check_user_id(user_id)
        await self.start()
        self._seq += 1
        seq = self._seq
        if self._spool is not None:
            seq = await self._spool.add(user_id, op)
        self._queue.append((seq, user_id, op))
        self._idle.clear()
        self._wake.set()
        for listener in list(self._listeners):
            listener(user_id, op)

    async def flush(self, wait: float | None = None) -> bool:
        """Wait until every queued operation has landed; ``False`` if ``wait`` s ran out."""
        try:
            async with asyncio.timeout(wait):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def aclose(self, *, drain_timeout: float = 5.0) -> None:
        """Give pending writes ``drain_timeout`` seconds to land, then stop.

        What is still pending stays in the spool for the next start; without a spool it is
        lost and logged.
        """
        if self._task is not None and not await self.flush(drain_timeout):
            logger.warning(
                "memory writes still pending at close",
                extra={"count": self.pending, "spooled": self._spool is not None},
            )
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._spool is not None:
            await self._spool.aclose()

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            seq, user_id, op = self._queue[0]
            await self._apply_with_retry(user_id, op)
            self._queue.popleft()
            if self._spool is not None:
                try:
                    await self._spool.done(seq)
                except StoreError:  # replayed after a restart; remember/forget are idempotent
                    logger.warning("memory write spool could not drop a landed write")

    async def _apply_with_retry(self, user_id: str, op: MemoryOp) -> None:
        delay = self._retry.first_delay
        attempt = 1
        while True:
            try:
                async with asyncio.timeout(self._retry.attempt_timeout):
                    await apply_op(self._store, user_id, op)
                return
            except ConfigError:
                logger.exception("memory write refused by the store; dropped")
                return
            except Exception as exc:  # an outage, a timeout, a driver error: try again later
                logger.warning(
                    "memory write failed; retrying",
                    extra={"attempt": attempt, "delay": delay, "error": type(exc).__name__},
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry.max_delay)
            attempt += 1


class _Spool:
    """Pending operations in a small SQLite file, on a thread of its own."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="halfcascade-spool")
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self._path, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, user_id TEXT, op TEXT)"
            )
            self._conn = conn
        return self._conn

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, fn, *args)
        except sqlite3.Error as exc:
            raise StoreError(f"memory write spool {self._path}: {exc}") from exc

    async def load(self) -> list[tuple[int, str, MemoryOp]]:
        rows = await self._call(self._load)
        return [(seq, user, op_from_json(json.loads(op))) for seq, user, op in rows]

    def _load(self) -> list[tuple[int, str, str]]:
        return self._db().execute("SELECT seq, user_id, op FROM outbox ORDER BY seq").fetchall()

    async def add(self, user_id: str, op: MemoryOp) -> int:
        return await self._call(self._add, user_id, json.dumps(op_to_json(op)))

    def _add(self, user_id: str, op: str) -> int:
        cur = self._db().execute("INSERT INTO outbox (user_id, op) VALUES (?, ?)", (user_id, op))
        return int(cur.lastrowid or 0)

    async def done(self, seq: int) -> None:
        await self._call(self._done, seq)

    def _done(self, seq: int) -> None:
        self._db().execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    async def aclose(self) -> None:
        await self._call(self._close)
        self._pool.shutdown(wait=False)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
