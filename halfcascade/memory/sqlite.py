"""The embedded default store: one SQLite file, WAL, FTS5 full-text recall.

SQLite calls block, so they never run on the event loop: writes go through one thread with
its own connection, reads through another (WAL lets them proceed side by side). A write
is acknowledged only after its transaction commits with ``synchronous=FULL``, so it
survives the process being killed.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..errors import StoreError
from ._text import search_terms
from .types import Embedder, Memory, check_user_id

__all__ = ["SQLiteMemoryStore", "owner_token"]

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS memories (
    rowid INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    id TEXT NOT NULL,
    key TEXT,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    updated_at REAL NOT NULL,
    embedding BLOB,
    UNIQUE (user_id, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS memories_user_key ON memories (user_id, key)
    WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS memories_user_time ON memories (user_id, updated_at);
CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5 (
    owner, text, content='memories', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS memories_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts (rowid, owner, text) VALUES (new.rowid, new.owner, new.text);
END;
CREATE TRIGGER IF NOT EXISTS memories_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, owner, text)
        VALUES ('delete', old.rowid, old.owner, old.text);
END;
"""
_COLUMNS = "m.id, m.key, m.kind, m.text, m.updated_at, m.embedding"
_RERANK_POOL = 4  # with embeddings, re-rank this many times `limit` full-text candidates
_RANK_POOL = 2000  # full-text matches ranked per recall, most recent first


def owner_token(user_id: str) -> str:
    """The full-text token standing for ``user_id`` (scopes every match to one user)."""
    return "u" + hashlib.sha256(user_id.encode()).hexdigest()[:24]


class SQLiteMemoryStore:
    """Memories in one SQLite file; the default store.

    Args:
        path: the database file (created with its folder if missing).
        embedder: optional embeddings; recall then re-ranks full-text candidates by cosine
            similarity and also finds recent memories that share no word with the query.

    Use as ``async with SQLiteMemoryStore("memories.db") as store: ...`` or call
    :meth:`aclose`.
    """

    def __init__(self, path: str | Path, *, embedder: Embedder | None = None) -> None:
        self._path = Path(path)
        self._embedder = embedder
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="halfcascade-sqlite-write")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="halfcascade-sqlite-read")
        self._local = threading.local()
        self._open_lock = asyncio.Lock()
        self._opened = False
        self._closed = False

    async def __aenter__(self) -> SQLiteMemoryStore:
        await self._open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def remember(self, user_id: str, memory: Memory) -> Memory:
        """Store ``memory``, replacing the user's memory with the same id or key."""
        check_user_id(user_id)
        blob = None
        if self._embedder is not None:
            (vector,) = await self._embedder.embed([memory.text])
            blob = np.asarray(vector, dtype=np.float32).tobytes()
        await self._run(self._writer, _write, user_id, memory, blob)
        return memory

    async def recall(self, user_id: str, query: str, *, limit: int = 5) -> list[Memory]:
        """The user's memories most relevant to ``query``; ``""`` gives the most recent."""
        check_user_id(user_id)
        terms = search_terms(query)
        qvec = None
        if self._embedder is not None and query.strip():
            (vector,) = await self._embedder.embed([query])
            qvec = np.asarray(vector, dtype=np.float32)
        return await self._run(self._reader, _recall, user_id, terms, limit, qvec)

    async def forget(self, user_id: str, memory_ids: Sequence[str]) -> int:
        """Delete the user's memories with these ids."""
        check_user_id(user_id)
        if not memory_ids:
            return 0
        return await self._run(self._writer, _delete, user_id, list(memory_ids))

    async def count(self, user_id: str) -> int:
        """How many memories the user has."""
        check_user_id(user_id)
        return await self._run(self._reader, _count, user_id)

    async def aclose(self) -> None:
        """Finish pending calls and close both connections."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        for pool in (self._writer, self._reader):
            await loop.run_in_executor(pool, self._close_conn)
            pool.shutdown(wait=False)

    async def _open(self) -> None:
        async with self._open_lock:
            if self._closed:
                raise StoreError(f"SQLite memory store {self._path} is closed")
            if not self._opened:
                await self._call(self._writer, _create_schema)
                self._opened = True

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[..., _T], *args: Any) -> _T:
        if not self._opened:
            await self._open()
        return await self._call(pool, fn, *args)

    async def _call(self, pool: ThreadPoolExecutor, fn: Callable[..., _T], *args: Any) -> _T:
        call = functools.partial(self._in_thread, fn, *args)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, call)
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite memory store {self._path}: {exc}") from exc
        except RuntimeError as exc:  # executor shut down
            raise StoreError(f"SQLite memory store {self._path} is closed") from exc

    def _in_thread(self, fn: Callable[..., _T], *args: Any) -> _T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self._path)
            self._local.conn = conn
        return fn(conn, *args)

    def _close_conn(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives a crash
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def _create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)


def _write(conn: sqlite3.Connection, user_id: str, memory: Memory, blob: bytes | None) -> None:
    with _transaction(conn):
        conn.execute(
            "DELETE FROM memories WHERE user_id = ? AND (id = ? OR key = ?)",
            (user_id, memory.id, memory.key),
        )
        conn.execute(
            "INSERT INTO memories (user_id, owner, id, key, kind, text, updated_at, embedding) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user_id,
                owner_token(user_id),
                memory.id,
                memory.key,
                memory.kind,
                memory.text,
                memory.updated_at,
                blob,
            ),
        )


def _delete(conn: sqlite3.Connection, user_id: str, ids: list[str]) -> int:
    marks = ",".join("?" * len(ids))
    with _transaction(conn):
        cur = conn.execute(
            f"DELETE FROM memories WHERE user_id = ? AND id IN ({marks})", (user_id, *ids)
        )
    return cur.rowcount


def _count(conn: sqlite3.Connection, user_id: str) -> int:
    row = conn.execute("SELECT count(*) FROM memories WHERE user_id = ?", (user_id,)).fetchone()
    return int(row[0])


class _transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _recall(
    conn: sqlite3.Connection,
    user_id: str,
    terms: list[str],
    limit: int,
    qvec: np.ndarray[Any, np.dtype[np.float32]] | None,
) -> list[Memory]:
    pool = limit * _RERANK_POOL if qvec is not None else limit
    rows: list[tuple[Any, ...]] = []
    if terms:
        # the owner token keeps the match inside one user's rows; ranking only the most
        # recent matches bounds the work when a common word matches a long history
        match = f'owner : "{owner_token(user_id)}" AND (' + " OR ".join(f'"{t}"' for t in terms)
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM (SELECT rowid, bm25(memories_fts, 0.0, 1.0) AS score "
            "FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rowid DESC LIMIT ?) f "
            "JOIN memories m ON m.rowid = f.rowid WHERE m.user_id = ? "
            "ORDER BY f.score LIMIT ?",
            (match + ")", _RANK_POOL, user_id, pool),
        ).fetchall()
    if not terms or qvec is not None:
        recent = conn.execute(
            f"SELECT {_COLUMNS} FROM memories m WHERE m.user_id = ?"
            " ORDER BY m.updated_at DESC LIMIT ?",
            (user_id, pool),
        ).fetchall()
        seen = {r[0] for r in rows}
        rows += [r for r in recent if r[0] not in seen]
    if qvec is not None:
        rows = _rerank(rows, qvec)
    return [_memory(r) for r in rows[:limit]]


def _rerank(
    rows: list[tuple[Any, ...]], qvec: np.ndarray[Any, np.dtype[np.float32]]
) -> list[tuple[Any, ...]]:
    qnorm = float(np.linalg.norm(qvec)) or 1.0

    def score(index: int, row: tuple[Any, ...]) -> float:
        text_rank = 1.0 / (1 + index)  # full-text rank still counts
        if row[5] is None:
            return text_rank
        vec = np.frombuffer(row[5], dtype=np.float32)
        if vec.shape != qvec.shape:
            return text_rank
        cosine = float(vec @ qvec) / ((float(np.linalg.norm(vec)) or 1.0) * qnorm)
        return cosine + 0.25 * text_rank

    ranked = sorted(enumerate(rows), key=lambda p: score(*p), reverse=True)
    return [row for _, row in ranked]


def _memory(row: tuple[Any, ...]) -> Memory:
    return Memory(id=row[0], key=row[1], kind=row[2], text=row[3], updated_at=row[4])
