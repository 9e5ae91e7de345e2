"""A write-behind queue: memory writes leave the conversation at once and land when they can.

:meth:`WriteQueue.submit` returns as soon as the operation is queued (and, with a spool
file, on disk), with a :class:`WriteTicket` that tells later whether it was stored. One
worker task applies operations in order:

- an **outage** (:class:`~halfcascade.StoreError`, a timeout, a network error) is retried
  with backoff until the store is back, so an outage delays writes but loses none;
- a write the store **refuses for its content** (:class:`~halfcascade.ConfigError`) is
  dropped with an error at once, and one that keeps failing with an unexpected error is
  dropped after ``RetryPolicy.max_unexpected`` attempts: a bad write never blocks the
  writes behind it (another user's, too).

Writes still pending when the queue closes are kept in a spool file and replayed by the
next queue on the same store: the ``spool=`` file when given (then every write is spooled
as it is submitted, surviving a killed process too), else the store's ``default_spool``
(next to a SQLite file; under ``$HALFCASCADE_STATE_DIR`` or ``~/.local/state/halfcascade``
for PostgreSQL). Several processes may share a spool: each claims only the writes of
processes that are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import ConfigError, StoreError
from ._spool import Spool
from ._text import matches_about
from .types import ForgetOp, MemoryOp, MemoryStore, OpListener, RememberOp, check_user_id

__all__ = ["RetryPolicy", "WriteQueue", "WriteStatus", "WriteTicket", "apply_op", "forget_about"]

logger = logging.getLogger("halfcascade.memory.writer")

#: ``stored`` (landed), ``rejected`` (dropped: the store refused it), ``pending`` (queued)
WriteStatus = Literal["stored", "rejected", "pending"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Backoff between attempts of a failed write (seconds), each attempt's timeout, and
    how many attempts an unexpected (non-outage) error gets before the write is dropped."""

    first_delay: float = 0.2
    max_delay: float = 5.0
    attempt_timeout: float = 5.0
    max_unexpected: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.first_delay <= self.max_delay or self.attempt_timeout <= 0:
            raise ConfigError("RetryPolicy needs 0 < first_delay <= max_delay, attempt_timeout > 0")
        if self.max_unexpected < 1:
            raise ConfigError("RetryPolicy.max_unexpected must be >= 1")


class WriteTicket:
    """What became of one submitted operation."""

    def __init__(self) -> None:
        self._done = asyncio.Event()
        self._status: WriteStatus = "pending"
        self._error: str | None = None

    @property
    def status(self) -> WriteStatus:
        """``pending`` until the store confirmed (``stored``) or refused it (``rejected``)."""
        return self._status

    @property
    def error(self) -> str | None:
        """Why a rejected write was refused."""
        return self._error

    async def wait(self, within: float | None = None) -> WriteStatus:
        """The status once settled, or ``pending`` if ``within`` seconds ran out first."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._done.wait()
        return self._status

    def _settle(self, status: WriteStatus, error: str | None = None) -> None:
        self._status, self._error = status, error
        self._done.set()


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


# (spool row or None, user, operation, ticket)
_Item = tuple[int | None, str, MemoryOp, WriteTicket]


class WriteQueue:
    """Ordered, retried, durable memory writes for one store.

    Args:
        store: where operations land.
        spool: optional SQLite file that holds every operation until the store confirms
            it; without one, only what is still pending at close is spooled (to the
            store's ``default_spool``).
        retry: backoff, per-attempt timeout, attempts for unexpected errors.
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
        self._queue: deque[_Item] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._listeners: list[OpListener] = []
        self._durable = spool is not None
        path = Path(spool) if spool is not None else _default_spool(store)
        self._spool = Spool(path, owner=os.getpid()) if path is not None else None
        self._task: asyncio.Task[None] | None = None
        self._started = False

    @property
    def pending(self) -> int:
        """Operations not yet confirmed (or refused) by the store."""
        return len(self._queue)

    def subscribe(self, listener: OpListener) -> None:
        """Call ``listener(user_id, op)`` for each operation submitted from now on."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: OpListener) -> None:
        """Stop calling ``listener``."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    async def start(self) -> None:
        """Replay spooled writes, then start the worker (``submit`` starts it too)."""
        if self._started:
            return
        self._started = True
        if self._spool is not None and (self._durable or self._spool.exists()):
            try:
                replay = await self._spool.claim()
            except StoreError:
                logger.exception("memory write spool unreadable; its writes stay in it")
                replay = []
            for seq, user_id, op in replay:
                self._queue.append((seq, user_id, op, WriteTicket()))
            if replay:
                logger.info("replaying spooled memory writes", extra={"count": len(replay)})
                self._idle.clear()
        self._task = asyncio.create_task(self._run(), name="halfcascade.memory.writer")
        self._wake.set()

    async def submit(self, user_id: str, op: MemoryOp) -> WriteTicket:
        """Queue ``op`` for ``user_id``; returns once it is queued (and spooled).

        ``op`` is already valid (``Memory`` and ``ForgetOp`` clean and check their text on
        construction); a bad ``user_id`` raises :class:`~halfcascade.ConfigError` here,
        before anything is queued.
        """
        check_user_id(user_id)
        if not isinstance(op, (RememberOp, ForgetOp)):
            raise ConfigError(f"WriteQueue.submit expects a RememberOp or ForgetOp, got {op!r}")
        await self.start()
        seq = None
        if self._durable and self._spool is not None:
            seq = await self._spool.add(user_id, op)
        ticket = WriteTicket()
        self._queue.append((seq, user_id, op, ticket))
        self._idle.clear()
        self._wake.set()
        for listener in list(self._listeners):
            listener(user_id, op)
        return ticket

    async def flush(self, wait: float | None = None) -> bool:
        """Wait until every queued operation has settled; ``False`` if ``wait`` s ran out."""
        try:
            async with asyncio.timeout(wait):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def aclose(self, *, drain_timeout: float = 5.0) -> None:
        """Give pending writes ``drain_timeout`` seconds to land, then stop.

        What is still pending stays in (or goes to) the spool and is replayed by the next
        queue on this store. Only a store without a spool location loses them (logged).
        """
        if self._task is not None and not await self.flush(drain_timeout):
            logger.warning("memory writes still pending at close", extra={"count": self.pending})
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._keep_pending()
        if self._spool is not None:
            await self._spool.aclose()

    async def _keep_pending(self) -> None:
        pending = list(self._queue)
        self._queue.clear()
        if not pending:
            return
        if self._spool is None:
            logger.error(
                "memory writes lost at close: the store has no default_spool; pass spool=",
                extra={"count": len(pending)},
            )
            return
        try:
            await self._spool.release()  # those already on disk: hand them to the next queue
            await self._spool.add_many([(u, op) for seq, u, op, _ in pending if seq is None])
        except StoreError:
            logger.exception("memory writes could not be spooled at close")
            return
        logger.info("memory writes spooled for the next start", extra={"count": len(pending)})

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            seq, user_id, op, ticket = self._queue[0]
            status, error = await self._apply_with_retry(user_id, op)
            self._queue.popleft()
            ticket._settle(status, error)
            if seq is not None and self._spool is not None:
                try:
                    await self._spool.done(seq)
                except StoreError:  # replayed after a restart; remember/forget are idempotent
                    logger.warning("memory write spool could not drop a settled write")

    async def _apply_with_retry(self, user_id: str, op: MemoryOp) -> tuple[WriteStatus, str | None]:
        delay = self._retry.first_delay
        attempt = unexpected = 0
        while True:
            attempt += 1
            try:
                async with asyncio.timeout(self._retry.attempt_timeout):
                    await apply_op(self._store, user_id, op)
                return "stored", None
            except ConfigError as exc:  # the store refuses this write: retrying cannot help
                logger.error("memory write refused by the store; dropped", extra={"op": op.type})
                logger.debug(
                    "refused memory write", extra={"lk.pii.op": repr(op), "lk.pii.error": str(exc)}
                )
                return "rejected", str(exc)
            except (StoreError, TimeoutError, OSError) as exc:  # an outage: try again later
                logger.warning(
                    "memory write failed; retrying",
                    extra={"attempt": attempt, "delay": delay, "error": type(exc).__name__},
                )
            except Exception as exc:  # a bug or a data problem: a few tries, then drop
                unexpected += 1
                if unexpected >= self._retry.max_unexpected:
                    logger.exception("memory write keeps failing; dropped", extra={"op": op.type})
                    return "rejected", f"{type(exc).__name__}: {exc}"
                logger.warning(
                    "memory write failed unexpectedly; retrying",
                    extra={"attempt": attempt, "error": type(exc).__name__},
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry.max_delay)


def _default_spool(store: MemoryStore) -> Path | None:
    spool = getattr(store, "default_spool", None)
    return Path(spool) if spool is not None else None
