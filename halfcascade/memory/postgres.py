"""A PostgreSQL store, for many workers sharing users (asyncpg).

It keeps the same inverted index and ranks exactly like the SQLite store (``rank.py``), so
no extension is needed: the postings table's primary key covers its weights, so a recall
reads an index, never a ``tsvector``. Install the client with ``pip install asyncpg``.

- **Pools per event loop**: an asyncpg pool belongs to the loop that created it, so the
  store keeps one pool per running loop (a second ``asyncio.run`` gets a pool of its own).
- **Errors**: an unreachable or failing server is a :class:`~halfcascade.StoreError` (try
  again later); data the server refuses is a :class:`~halfcascade.ConfigError` (retrying
  cannot help). ``Memory`` already strips NUL and lone surrogates, so that should not
  happen; no driver exception leaves the store either way.
- **Race-free writes**: a transaction-scoped advisory lock per user serialises writes of
  one user across workers; concurrent upserts of one key replace each other in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import weakref
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ConfigError, StoreError
from . import _postgres_sql as sql
from ._search import (
    Query,
    SearchPlan,
    Vectors,
    embed_blobs,
    embed_query,
    row_memory,
    rows_to_candidates,
)
from ._spool import state_dir
from .rank import Ranking, rerank
from .types import Embedder, Memory, MemoryKind, Recalled, check_user_id

if TYPE_CHECKING:
    import asyncpg

__all__ = ["PostgresMemoryStore"]

_T = TypeVar("_T")
_ANALYZE_AFTER = 1000  # a batch at least this large refreshes the planner's statistics


class PostgresMemoryStore:
    """Memories in PostgreSQL tables shared by every worker.

    Args:
        dsn: ``postgresql://user:pass@host:port/db``.
        table: base name of the tables (created if missing, with their indexes).
        min_size, max_size: connection pool bounds (per event loop).
        timeout: seconds for connecting and for each call.
        embedder: optional embeddings, as for :class:`~halfcascade.memory.SQLiteMemoryStore`.
        ranking: ranking knobs; keep them equal across workers sharing the tables.
    """

    def __init__(
        self,
        dsn: str,
        *,
        table: str = "halfcascade_memories",
        min_size: int = 0,
        max_size: int = 10,
        timeout: float = 5.0,
        embedder: Embedder | None = None,
        ranking: Ranking | None = None,
    ) -> None:
        if not table.isidentifier() or not table.islower() or len(table) > 40:
            raise ConfigError(
                f"PostgresMemoryStore(table={table!r}): use a lowercase identifier of at most "
                "40 characters"
            )
        self._dsn = dsn
        self._tables = sql.Tables(table)
        self._sizes = (min_size, max_size)
        self._timeout = timeout
        self._embedder = embedder
        self._ranking = ranking or Ranking()
        self._vectors = Vectors()
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncpg.Pool] = (
            weakref.WeakKeyDictionary()
        )
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._closed = False

    @property
    def location(self) -> str:
        """``postgresql://host:port/db#table`` without credentials (names the store)."""
        rest = self._dsn.split("://", 1)[-1].rsplit("@", 1)[-1].split("?", 1)[0]
        return f"postgresql://{rest}#{self._tables.mem}"

    @property
    def default_spool(self) -> Path:
        """Where a write queue keeps this store's writes still pending at close
        (``$HALFCASCADE_STATE_DIR`` or ``~/.local/state/halfcascade``)."""
        digest = hashlib.sha256(self.location.encode()).hexdigest()[:16]
        return state_dir() / f"postgres-{digest}.spool"

    async def __aenter__(self) -> PostgresMemoryStore:
        await self._pool()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def remember(self, user_id: str, memory: Memory) -> Memory:
        """Store ``memory``, replacing the user's memory with the same id or key."""
        await self.remember_many(user_id, [memory])
        return memory

    async def remember_many(self, user_id: str, memories: Sequence[Memory]) -> list[Memory]:
        """Store ``memories`` in one transaction, in order; returns them."""
        check_user_id(user_id)
        batch = list(memories)
        if any(not isinstance(m, Memory) for m in batch):
            raise ConfigError("remember_many expects Memory objects")
        if not batch:
            return []
        vectors: list[bytes | None] = [None] * len(batch)
        if self._embedder is not None:
            vectors = await embed_blobs(self._embedder, [m.text for m in batch])

        async def run(conn: sql.Conn) -> None:
            async with conn.transaction():
                await sql.write(conn, self._tables, user_id, batch, vectors, self._ranking)
            if len(batch) >= _ANALYZE_AFTER:  # fresh statistics, or plans go wrong
                await conn.execute(f"VACUUM (ANALYZE) {t.mem}, {t.post}, {t.terms}")

        t = self._tables
        await self._with_conn(run)
        return batch

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
        """The user's memories most relevant to ``query``; ``""`` gives the most recent."""
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
        qvec = None
        if self._embedder is not None and q.text:
            qvec = await embed_query(self._embedder, q.text)
        return await self._with_conn(lambda conn: self._search(conn, user_id, q, qvec))

    async def forget(self, user_id: str, memory_ids: Sequence[str]) -> int:
        """Delete the user's memories with these ids."""
        check_user_id(user_id)
        if not memory_ids:
            return 0

        async def run(conn: sql.Conn) -> int:
            async with conn.transaction():
                return await sql.delete(conn, self._tables, user_id, list(memory_ids))

        return await self._with_conn(run)

    async def count(self, user_id: str) -> int:
        """How many memories the user has."""
        check_user_id(user_id)
        found = await self._with_conn(lambda conn: sql.user(conn, self._tables, user_id))
        return int(found[0][1]) if found else 0

    async def aclose(self) -> None:
        """Close the pool of the running loop; pools of loops that ended are terminated."""
        self._closed = True
        current = asyncio.get_running_loop()
        pools, self._pools = dict(self._pools), weakref.WeakKeyDictionary()
        for loop, pool in pools.items():
            if loop is current:
                await pool.close()
            else:
                _drop(loop, pool)

    # -- internals --------------------------------------------------------------------

    async def _search(self, conn: sql.Conn, user_id: str, q: Query, qvec: Any) -> list[Recalled]:
        t = self._tables
        plan = SearchPlan(q, self._ranking, 0)
        found = await sql.user(conn, t, user_id, plan.term_ids)
        if found is None:
            return []
        (uid, docs, seq, dels), df = found
        plan = SearchPlan(q, self._ranking, docs)
        if not q.terms and qvec is None:
            where, params = q.filter_sql(lambda i: f"${i}", start=2)
            rows = await sql.recent(conn, t, uid, q.limit, where, params)
            return [Recalled(row_memory(r), 0.0) for r in rows]
        where, params = q.filter_sql(lambda i: f"${i}", start=9)
        scored: list[tuple[tuple[Any, ...], float]] = []
        scan, rest = plan.split(df)
        if scan:
            scored = await sql.search(
                conn, t, uid, scan, rest, plan.pool, self._ranking, where, params
            )
        vectors: dict[int, Any] = {}
        if qvec is not None:
            start = self._vectors.since(uid, seq, dels)
            if start is not None:
                loaded = await sql.vectors_since(conn, t, uid, start)
                self._vectors.add(uid, seq, dels, start, loaded)
            vectors = self._vectors.lookup(uid)
            seen = {r[0] for r, _ in scored}
            extra = self._vectors.nearest(uid, qvec, plan.pool, exclude=seen)
            scored += [(r, 0.0) for r in await sql.fetch(conn, t, extra) if q.accepts(r)]
        scored = [(r, s) for r, s in scored if q.accepts(r)]  # context may add any memory
        candidates = rows_to_candidates(scored, vectors)
        ranked = rerank(candidates, self._ranking, q.limit, qvec, q.terms)
        return [Recalled(row_memory(c.row), s) for c, s in ranked]

    async def _pool(self) -> asyncpg.Pool:
        if self._closed:
            raise StoreError("PostgresMemoryStore is closed")
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is not None:
            return pool
        for other, stale in list(self._pools.items()):  # pools of loops that have ended
            if other.is_closed():
                del self._pools[other]
                _drop(other, stale)
        lock = self._locks.setdefault(loop, asyncio.Lock())
        async with lock:
            if (pool := self._pools.get(loop)) is None:
                pool = await self._guard(self._create_pool())
                self._pools[loop] = pool
            return pool

    async def _create_pool(self) -> asyncpg.Pool:
        try:
            import asyncpg
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("PostgresMemoryStore needs asyncpg: pip install asyncpg") from exc
        pool = await asyncpg.create_pool(
            self._dsn,
            min_size=self._sizes[0],
            max_size=self._sizes[1],
            timeout=self._timeout,
            command_timeout=self._timeout,
            # statements are prepared once per connection, but planned with each call's
            # values: the generic plan measured 2x slower (array lengths, term counts)
            server_settings={"plan_cache_mode": "force_custom_plan"},
        )
        try:
            async with pool.acquire() as conn, conn.transaction():
                await sql.create(conn, self._tables, self._ranking)
        except BaseException:
            await pool.close()
            raise
        return pool

    async def _with_conn(self, fn: Callable[[sql.Conn], Awaitable[_T]]) -> _T:
        pool = await self._pool()

        async def run() -> _T:
            async with pool.acquire() as conn:
                return await fn(conn)

        result: _T = await self._guard(run())
        return result

    async def _guard(self, call: Awaitable[_T]) -> _T:
        import asyncpg

        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except (asyncpg.DataError, UnicodeError) as exc:
            raise ConfigError(f"PostgreSQL memory store refused the data: {exc}") from exc
        except (
            OSError,
            TimeoutError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,  # the driver's own state, cut by an outage
        ) as exc:
            raise StoreError(f"PostgreSQL memory store: {type(exc).__name__}: {exc}") from exc


def _drop(loop: asyncio.AbstractEventLoop, pool: asyncpg.Pool) -> None:
    """Release a pool that belongs to another event loop, running or ended."""
    if loop.is_running():
        asyncio.run_coroutine_threadsafe(pool.close(), loop)
        return
    with contextlib.suppress(RuntimeError):  # its loop is closed: the sockets go with it
        pool.terminate()
