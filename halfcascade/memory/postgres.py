"""A PostgreSQL store, for many workers sharing users (asyncpg, full-text search).

Recall uses PostgreSQL's own full-text search (a stored ``tsvector`` with a GIN index),
so the server needs no extension. Install the client with ``pip install asyncpg``.
Connection failures become :class:`~halfcascade.StoreError`; the pool reconnects by itself
once the server is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, StoreError
from ._text import search_terms
from .types import Memory, check_user_id

if TYPE_CHECKING:
    import asyncpg

__all__ = ["PostgresMemoryStore"]

_SCHEMA = """
SELECT pg_advisory_xact_lock(7243190551);
CREATE TABLE IF NOT EXISTS {table} (
    user_id text NOT NULL,
    id text NOT NULL,
    key text,
    kind text NOT NULL,
    text text NOT NULL,
    updated_at double precision NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    PRIMARY KEY (user_id, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS {table}_user_key ON {table} (user_id, key)
    WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS {table}_user_time ON {table} (user_id, updated_at);
CREATE INDEX IF NOT EXISTS {table}_tsv ON {table} USING gin (tsv);
"""
_COLUMNS = "id, key, kind, text, updated_at"
_RANK_POOL = 2000  # full-text matches ranked per recall, most recent first


class PostgresMemoryStore:
    """Memories in a PostgreSQL table shared by every worker.

    Args:
        dsn: ``postgresql://user:pass@host:port/db``.
        table: table name (created if missing, with its indexes).
        min_size, max_size: connection pool bounds.
        timeout: seconds for connecting and for each statement.
    """

    def __init__(
        self,
        dsn: str,
        *,
        table: str = "halfcascade_memories",
        min_size: int = 0,
        max_size: int = 10,
        timeout: float = 5.0,
    ) -> None:
        if not table.isidentifier() or not table.islower():
            raise ConfigError(f"PostgresMemoryStore(table={table!r}): use a lowercase identifier")
        self._dsn = dsn
        self._table = table
        self._sizes = (min_size, max_size)
        self._timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    async def __aenter__(self) -> PostgresMemoryStore:
        await self._get_pool()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def remember(self, user_id: str, memory: Memory) -> Memory:
        """Store ``memory``, replacing the user's memory with the same id or key."""
        check_user_id(user_id)
        t = self._table
        await self._transaction(
            (
                f"DELETE FROM {t} WHERE user_id = $1 AND (id = $2 OR key = $3)",
                user_id,
                memory.id,
                memory.key,
            ),
            (
                f"INSERT INTO {t} (user_id, id, key, kind, text, updated_at) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                user_id,
                memory.id,
                memory.key,
                memory.kind,
                memory.text,
                memory.updated_at,
            ),
        )
        return memory

    async def recall(self, user_id: str, query: str, *, limit: int = 5) -> list[Memory]:
        """The user's memories most relevant to ``query``; ``""`` gives the most recent."""
        check_user_id(user_id)
        terms = search_terms(query)
        t = self._table
        if terms:
            # rank only the most recent matches: a common word can match most of a large
            # history, and ranking reads every matching row
            rows = await self._fetch(
                f"SELECT {_COLUMNS} FROM (SELECT {_COLUMNS}, tsv FROM {t} "
                "WHERE user_id = $1 AND tsv @@ to_tsquery('english', $2) "
                "ORDER BY updated_at DESC LIMIT $4) c "
                "ORDER BY ts_rank_cd(tsv, to_tsquery('english', $2)) DESC, updated_at DESC "
                "LIMIT $3",
                user_id,
                " | ".join(terms),
                limit,
                _RANK_POOL,
            )
        else:
            rows = await self._fetch(
                f"SELECT {_COLUMNS} FROM {t} WHERE user_id = $1 ORDER BY updated_at DESC LIMIT $2",
                user_id,
                limit,
            )
        return [Memory(id=r[0], key=r[1], kind=r[2], text=r[3], updated_at=r[4]) for r in rows]

    async def forget(self, user_id: str, memory_ids: Sequence[str]) -> int:
        """Delete the user's memories with these ids."""
        check_user_id(user_id)
        if not memory_ids:
            return 0
        status = await self._execute(
            f"DELETE FROM {self._table} WHERE user_id = $1 AND id = ANY($2::text[])",
            user_id,
            list(memory_ids),
        )
        return int(status.rsplit(" ", 1)[-1])

    async def count(self, user_id: str) -> int:
        """How many memories the user has."""
        check_user_id(user_id)
        rows = await self._fetch(f"SELECT count(*) FROM {self._table} WHERE user_id = $1", user_id)
        return int(rows[0][0])

    async def aclose(self) -> None:
        """Close the pool."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _get_pool(self) -> asyncpg.Pool:
        async with self._lock:
            if self._closed:
                raise StoreError("PostgresMemoryStore is closed")
            if self._pool is None:
                self._pool = await self._guard(self._create_pool())
            return self._pool

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
        )
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(_SCHEMA.format(table=self._table))
        except BaseException:
            await pool.close()
            raise
        return pool

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        pool = await self._get_pool()
        return list(await self._guard(pool.fetch(sql, *args)))

    async def _execute(self, sql: str, *args: Any) -> str:
        pool = await self._get_pool()
        return str(await self._guard(pool.execute(sql, *args)))

    async def _transaction(self, *statements: tuple[Any, ...]) -> None:
        pool = await self._get_pool()

        async def run() -> None:
            async with pool.acquire() as conn, conn.transaction():
                for sql, *args in statements:
                    await conn.execute(sql, *args)

        await self._guard(run())

    async def _guard(self, call: Any) -> Any:
        import asyncpg

        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"PostgreSQL memory store: {type(exc).__name__}: {exc}") from exc
