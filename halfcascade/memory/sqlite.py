"""The embedded default store: one SQLite file, WAL, an inverted index of its own.

SQLite calls block, so they never run on the event loop: writes go through one thread with
its own connection, reads through another (WAL lets them proceed side by side). A write
is acknowledged only after its transaction commits with ``synchronous=FULL``, so it
survives the process being killed. Ranking (per-user BM25 with conversational context,
diversity, optional embeddings) is shared with the PostgreSQL store: see ``rank.py``.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ConfigError, StoreError
from . import _sqlite_sql as sql
from ._migrate import migrate_sqlite
from ._search import Query, SearchPlan, Vectors, rows_to_candidates
from .rank import Ranking, rerank
from .types import Embedder, Memory, MemoryKind, Recalled, check_user_id

__all__ = ["SQLiteMemoryStore"]

_T = TypeVar("_T")


class SQLiteMemoryStore:
    """Memories in one SQLite file; the default store.

    Args:
        path: the database file (created with its folder if missing).
        embedder: optional embeddings (e.g. :class:`~halfcascade.memory.StaticEmbedder`);
            recall then blends cosine similarity into the ranking and also finds memories
            that share no word with the query.
        ranking: ranking knobs; the index is rebuilt on open if they changed.

    Use as ``async with SQLiteMemoryStore("memories.db") as store: ...`` or call
    :meth:`aclose`.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        embedder: Embedder | None = None,
        ranking: Ranking | None = None,
    ) -> None:
        self._path = Path(path)
        self._embedder = embedder
        self._ranking = ranking or Ranking()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="halfcascade-sqlite-write")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="halfcascade-sqlite-read")
        self._local = threading.local()
        self._vectors = Vectors()
        self._open_lock = threading.Lock()
        self._opened = False
        self._closed = False

    @property
    def location(self) -> str:
        """``sqlite:<absolute path>``: names the store (the write queue's spool uses it)."""
        return f"sqlite:{self._path.resolve()}"

    @property
    def default_spool(self) -> Path:
        """Where a write queue keeps this store's writes still pending at close."""
        return self._path.with_name(self._path.name + ".spool")

    async def __aenter__(self) -> SQLiteMemoryStore:
        await self._run(self._writer, lambda conn: None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def remember(self, user_id: str, memory: Memory) -> Memory:
        """Store ``memory``, replacing the user's memory with the same id or key."""
        await self.remember_many(user_id, [memory])
        return memory

    async def remember_many(self, user_id: str, memories: Sequence[Memory]) -> list[Memory]:
        """Store ``memories`` in one transaction, in order (later ones replace earlier ones
        with the same id or key); returns them."""
        check_user_id(user_id)
        memories = _checked(memories)
        if not memories:
            return []
        vectors = await self._vectors_of(memories)
        await self._run(self._writer, self._write, user_id, memories, vectors)
        return memories

    async def recall(
        self,
        user_id: str,
        query: str,
        *,
        limit: int = 5,
        kinds: Sequence[MemoryKind] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[Memory]:
        """The user's memories most relevant to ``query``; ``""`` gives the most recent.

        ``kinds``, ``since`` and ``until`` (``updated_at`` bounds, ``until`` exclusive)
        filter the results.
        """
        found = await self.search(
            user_id, query, limit=limit, kinds=kinds, since=since, until=until
        )
        return [r.memory for r in found]

    async def search(
        self,
        user_id: str,
        query: str,
        *,
        limit: int = 5,
        kinds: Sequence[MemoryKind] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[Recalled]:
        """Like :meth:`recall`, with each memory's score."""
        check_user_id(user_id)
        q = Query.make(query, limit=limit, kinds=kinds, since=since, until=until)
        qvec = await self._query_vector(q)
        return await self._run(self._reader, self._search, user_id, q, qvec)

    async def forget(self, user_id: str, memory_ids: Sequence[str]) -> int:
        """Delete the user's memories with these ids."""
        check_user_id(user_id)
        if not memory_ids:
            return 0
        return await self._run(self._writer, self._delete, user_id, list(memory_ids))

    async def count(self, user_id: str) -> int:
        """How many memories the user has."""
        check_user_id(user_id)
        row = await self._run(self._reader, sql.user, user_id)
        return row.docs if row else 0

    async def aclose(self) -> None:
        """Finish pending calls and close both connections."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        for pool in (self._writer, self._reader):
            await loop.run_in_executor(pool, self._close_conn)
            pool.shutdown(wait=False)

    # -- on the threads ---------------------------------------------------------------

    def _write(
        self,
        conn: sqlite3.Connection,
        user_id: str,
        memories: list[Memory],
        vectors: list[bytes | None],
    ) -> None:
        with _transaction(conn):
            sql.write(conn, user_id, memories, vectors, self._ranking)

    def _delete(self, conn: sqlite3.Connection, user_id: str, ids: list[str]) -> int:
        with _transaction(conn):
            return sql.delete(conn, user_id, ids)

    def _search(
        self, conn: sqlite3.Connection, user_id: str, q: Query, qvec: Any
    ) -> list[Recalled]:
        user = sql.user(conn, user_id)
        if user is None:
            return []
        where, params = q.filter_sql(lambda _: "?")
        if not q.terms and qvec is None:
            rows = sql.recent(conn, user.uid, q.limit, where, params)
            return [Recalled(_memory(r), 0.0) for r in rows]
        plan = SearchPlan(q, self._ranking, user.docs)
        scored: list[tuple[tuple[Any, ...], float]] = []
        if q.terms:
            scan, rest = plan.split(sql.document_counts(conn, user.uid, plan.term_ids))
            if scan:
                scored = sql.search(
                    conn, user.uid, scan, rest, plan.pool, self._ranking, where, params
                )
        vectors: dict[int, Any] = {}
        if qvec is not None:
            vectors = self._vectors.refresh(conn, user, sql.vectors_since)
            seen = {r[0] for r, _ in scored}
            extra = self._vectors.nearest(user.uid, qvec, plan.pool, exclude=seen)
            rows = [r for r in sql.fetch(conn, extra) if q.accepts(r)]
            scored += [(r, 0.0) for r in rows]
        scored = [(r, s) for r, s in scored if q.accepts(r)]  # context may add any memory
        candidates = rows_to_candidates(scored, vectors)
        ranked = rerank(candidates, self._ranking, q.limit, qvec, q.terms)
        return [Recalled(_memory(c.row), s) for c, s in ranked]

    # -- plumbing ---------------------------------------------------------------------

    async def _vectors_of(self, memories: Sequence[Memory]) -> list[bytes | None]:
        if self._embedder is None:
            return [None] * len(memories)
        from ._search import embed_blobs

        return await embed_blobs(self._embedder, [m.text for m in memories])

    async def _query_vector(self, q: Query) -> Any:
        if self._embedder is None or not q.text:
            return None
        from ._search import embed_query

        return await embed_query(self._embedder, q.text)

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[..., _T], *args: Any) -> _T:
        if self._closed:
            raise StoreError(f"SQLite memory store {self._path} is closed")
        call = functools.partial(self._in_thread, fn, *args)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, call)
        except (sqlite3.DataError, sqlite3.InterfaceError, UnicodeError) as exc:
            raise ConfigError(f"SQLite memory store refused the data: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite memory store {self._path}: {exc}") from exc
        except RuntimeError as exc:  # executor shut down
            raise StoreError(f"SQLite memory store {self._path} is closed") from exc

    def _in_thread(self, fn: Callable[..., _T], *args: Any) -> _T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self._path)
            self._local.conn = conn
        if not self._opened:
            with self._open_lock:
                if not self._opened:
                    _open(conn, self._ranking)
                    self._opened = True
        return fn(conn, *args)

    def _close_conn(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _checked(memories: Sequence[Memory]) -> list[Memory]:
    out = list(memories)
    for m in out:
        if not isinstance(m, Memory):
            raise ConfigError(f"expected Memory objects, got {type(m).__name__}")
    return out


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives a crash
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA cache_size=-32000")
    return conn


def _open(conn: sqlite3.Connection, ranking: Ranking) -> None:
    with _transaction(conn):
        migrate_sqlite(conn, sql.SCHEMA, ranking)


class _transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _memory(row: tuple[Any, ...]) -> Memory:
    from ._search import row_memory

    return row_memory(row)
