"""The write queue's spool: pending operations in a small SQLite file, on a thread of its own.

Each row names the process that owns it. A queue claims the rows nobody owns (released at
a clean close) and those of processes that are gone (killed), so processes sharing one
spool never replay each other's live writes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ConfigError, StoreError
from .types import MemoryOp, op_from_json, op_to_json

__all__ = ["Spool", "state_dir"]

logger = logging.getLogger("halfcascade.memory.writer")

_T = TypeVar("_T")


def state_dir() -> Path:
    """Where halfcascade keeps local state: ``$HALFCASCADE_STATE_DIR`` or
    ``~/.local/state/halfcascade``."""
    env = os.environ.get("HALFCASCADE_STATE_DIR")
    return Path(env) if env else Path.home() / ".local" / "state" / "halfcascade"


class Spool:
    """Operations kept on disk until the store confirms them."""

    def __init__(self, path: Path, *, owner: int) -> None:
        self._path = path
        self._owner = owner
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="halfcascade-spool")
        self._conn: sqlite3.Connection | None = None

    def exists(self) -> bool:
        """Whether the spool file exists (nothing to replay otherwise)."""
        return self._path.exists()

    async def claim(self) -> list[tuple[int, str, MemoryOp]]:
        """Take over unowned rows and rows of dead processes; ``(seq, user, op)`` in order."""
        rows = await self._call(self._claim)
        out: list[tuple[int, str, MemoryOp]] = []
        bad: list[int] = []
        for seq, user, op in rows:
            try:
                out.append((seq, user, op_from_json(json.loads(op))))
            except (ValueError, KeyError, TypeError, ConfigError):
                bad.append(seq)
        if bad:
            logger.error("unreadable spooled memory writes dropped", extra={"count": len(bad)})
            for seq in bad:
                await self.done(seq)
        return out

    async def add(self, user_id: str, op: MemoryOp) -> int:
        """Spool one operation owned by this process; its sequence number."""
        return await self._call(self._add, user_id, json.dumps(op_to_json(op)))

    async def add_many(self, items: Sequence[tuple[str, MemoryOp]]) -> None:
        """Spool operations for the next queue (owned by nobody)."""
        rows = [(user, json.dumps(op_to_json(op))) for user, op in items]
        await self._call(self._add_many, rows)

    async def done(self, seq: int) -> None:
        """Forget a settled operation."""
        await self._call(self._exec, "DELETE FROM outbox WHERE seq = ?", (seq,))

    async def release(self) -> None:
        """Hand this process's rows to the next queue."""
        await self._call(
            self._exec, "UPDATE outbox SET owner = NULL WHERE owner = ?", (self._owner,)
        )

    async def aclose(self) -> None:
        """Close the file and the thread."""
        if self._conn is not None:
            await self._call(self._close)
        self._pool.shutdown(wait=False)

    # -- on the thread ----------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self._path, isolation_level=None, timeout=10.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, user_id TEXT, op TEXT)"
            )
            columns = {r[1] for r in conn.execute("PRAGMA table_info(outbox)")}
            if "owner" not in columns:  # a spool written before owners existed
                conn.execute("ALTER TABLE outbox ADD COLUMN owner INTEGER")
            self._conn = conn
        return self._conn

    def _claim(self) -> list[tuple[int, str, str]]:
        conn = self._db()
        conn.execute("BEGIN IMMEDIATE")
        try:
            owners = [r[0] for r in conn.execute("SELECT DISTINCT owner FROM outbox")]
            gone = [o for o in owners if o is not None and o != self._owner and not _alive(o)]
            marks = ",".join("?" * len(gone))
            extra = f" OR owner IN ({marks})" if gone else ""
            conn.execute(
                f"UPDATE outbox SET owner = ? WHERE owner IS NULL{extra}", (self._owner, *gone)
            )
            rows = conn.execute(
                "SELECT seq, user_id, op FROM outbox WHERE owner = ? ORDER BY seq", (self._owner,)
            ).fetchall()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return rows

    def _add(self, user_id: str, op: str) -> int:
        cur = self._db().execute(
            "INSERT INTO outbox (user_id, op, owner) VALUES (?, ?, ?)", (user_id, op, self._owner)
        )
        return int(cur.lastrowid or 0)

    def _add_many(self, rows: list[tuple[str, str]]) -> None:
        conn = self._db()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO outbox (user_id, op, owner) VALUES (?, ?, NULL)", rows)
        conn.execute("COMMIT")

    def _exec(self, sql: str, args: tuple[Any, ...]) -> None:
        self._db().execute(sql, args)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, fn, *args)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"memory write spool {self._path}: {exc}") from exc


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
