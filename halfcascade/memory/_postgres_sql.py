"""The SQL of :class:`~halfcascade.memory.postgres.PostgresMemoryStore`: the same tables,
the same terms and weights and the same ranking as the SQLite store (see ``rank.py``).

Every statement text is constant (arrays instead of value lists), so asyncpg prepares each
once per connection and PostgreSQL plans it once. Writes for one user are serialised by a
transaction-scoped advisory lock on the user, so concurrent upserts of one key from many
workers cannot collide.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._index import dedupe, document_frequencies, index, join_terms, stored_term_ids
from ._search import TERM_CAP
from .rank import Ranking, spread
from .types import Memory

if TYPE_CHECKING:
    from typing import TypeAlias

    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

    #: a connection, or the proxy a pool hands out
    Conn: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]

__all__ = ["SCHEMA", "Tables", "create", "delete", "fetch", "recent", "search", "user", "write"]

SCHEMA = """
SELECT pg_advisory_xact_lock(7243190551);
CREATE TABLE IF NOT EXISTS {users} (
    uid bigserial PRIMARY KEY,
    user_id text NOT NULL UNIQUE,
    docs bigint NOT NULL DEFAULT 0,
    seq bigint NOT NULL DEFAULT 0,
    dels bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS {mem} (
    doc bigint PRIMARY KEY,
    uid bigint NOT NULL,
    id text NOT NULL,
    key text,
    kind text NOT NULL,
    text text NOT NULL,
    context text,
    updated_at double precision NOT NULL,
    importance double precision NOT NULL,
    seq bigint NOT NULL,
    terms text NOT NULL,
    cterms text NOT NULL,
    embedding bytea,
    UNIQUE (uid, id)
);
CREATE SEQUENCE IF NOT EXISTS {mem}_doc_seq;
CREATE UNIQUE INDEX IF NOT EXISTS {mem}_key ON {mem} (uid, key) WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS {mem}_seq ON {mem} (uid, seq) INCLUDE (doc, updated_at);
CREATE INDEX IF NOT EXISTS {mem}_time ON {mem} (uid, updated_at);
CREATE TABLE IF NOT EXISTS {post} (
    uid bigint NOT NULL, term bigint NOT NULL, doc bigint NOT NULL, w double precision NOT NULL,
    PRIMARY KEY (uid, term, doc) INCLUDE (w)
);
CREATE TABLE IF NOT EXISTS {terms} (
    uid bigint NOT NULL, term bigint NOT NULL, df bigint NOT NULL,
    PRIMARY KEY (uid, term)
);
"""
_COLUMNS = "m.doc, m.id, m.key, m.kind, m.text, m.updated_at, m.importance, m.context, m.terms"


class Tables:
    """The table names of one store (all derived from ``table``)."""

    def __init__(self, table: str) -> None:
        self.mem = table
        self.users = f"{table}_users"
        self.post = f"{table}_postings"
        self.terms = f"{table}_terms"

    def schema(self) -> str:
        """The DDL, formatted."""
        return SCHEMA.format(users=self.users, mem=self.mem, post=self.post, terms=self.terms)


async def create(conn: Conn, t: Tables, ranking: Ranking) -> None:
    """Create the tables in the caller's transaction; a version-1 table is converted."""
    legacy = await conn.fetchval(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'tsv'",
        t.mem,
    )
    if legacy:
        await conn.execute(f"ALTER TABLE {t.mem} RENAME TO {t.mem}_v1")
    await conn.execute(t.schema())
    if not legacy:
        return
    rows = await conn.fetch(
        f"SELECT user_id, id, key, kind, text, updated_at FROM {t.mem}_v1 ORDER BY updated_at"
    )
    by_user: dict[str, list[Memory]] = {}
    for user_id, mid, key, kind, text, at in rows:
        memory = Memory(id=mid, key=key, kind=kind, text=text, updated_at=at)
        by_user.setdefault(user_id, []).append(memory)
    for user_id, memories in by_user.items():
        await write(conn, t, user_id, memories, [None] * len(memories), ranking)
    await conn.execute(f"DROP TABLE {t.mem}_v1")


async def user(
    conn: Conn, t: Tables, user_id: str, term_ids: Sequence[int] = ()
) -> tuple[tuple[int, int, int, int], dict[int, int]] | None:
    """The user's ``(uid, docs, seq, dels)`` and the document frequency of ``term_ids``."""
    row = await conn.fetchrow(
        f"SELECT u.uid, u.docs, u.seq, u.dels, "
        f"(SELECT array_agg(ARRAY[x.term, x.df]) FROM {t.terms} x "
        f" WHERE x.uid = u.uid AND x.term = ANY($2::bigint[])) "
        f"FROM {t.users} u WHERE u.user_id = $1",
        user_id,
        list(term_ids),
    )
    if row is None:
        return None
    df = {int(term): int(n) for term, n in (row[4] or [])}
    return (row[0], row[1], row[2], row[3]), df


async def write(
    conn: Conn,
    t: Tables,
    user_id: str,
    memories: Sequence[Memory],
    vectors: Sequence[bytes | None],
    ranking: Ranking,
) -> None:
    """Insert ``memories`` (replacing same id or key) in the caller's transaction."""
    blobs = {m.id: v for m, v in zip(memories, vectors, strict=True)}
    batch = dedupe(memories)
    uid, seq = await _lock_user(conn, t, user_id)
    df: Counter[int] = Counter()
    keys = [m.key for m in batch if m.key]
    removed, docs = await _remove(conn, t, uid, [m.id for m in batch], keys, df, len(batch))
    indexed = [index(m, ranking) for m in batch]
    rows, postings = [], []
    for n, (m, item) in enumerate(zip(batch, indexed, strict=True)):
        doc = docs[n]
        rows.append(
            (
                doc,
                uid,
                m.id,
                m.key,
                m.kind,
                m.text,
                m.context,
                m.updated_at,
                m.importance,
                seq + 1 + n,
                join_terms(item.terms),
                join_terms(item.context),
                blobs[m.id],
            )
        )
        postings += [(uid, tid, doc, w) for tid, w in item.weights.items()]
    df.update(document_frequencies(indexed))
    counts = (len(batch) - removed, seq + len(batch), removed)
    if len(rows) > _COPY_FROM:
        await conn.copy_records_to_table(t.mem, records=rows, columns=_MEM_COLUMNS)
        await conn.copy_records_to_table(t.post, records=postings, columns=_POST_COLUMNS)
        await _apply_df(conn, t, uid, df)
        await conn.execute(
            f"UPDATE {t.users} SET docs = docs + $2, seq = $3, dels = dels + $4 WHERE uid = $1",
            uid,
            *counts,
        )
    else:  # a few memories: one statement instead of four round trips
        await _insert_few(conn, t, uid, rows, postings, df, counts)
        if any(n < 0 for n in df.values()):
            await conn.execute(f"DELETE FROM {t.terms} WHERE uid = $1 AND df <= 0", uid)


_COPY_FROM = 64  # rows; smaller batches are inserted from arrays in one statement
_POST_COLUMNS = ("uid", "term", "doc", "w")


async def _insert_few(
    conn: Conn,
    t: Tables,
    uid: int,
    rows: list[tuple[Any, ...]],
    postings: list[tuple[int, int, int, float]],
    df: Counter[int],
    counts: tuple[int, int, int],
) -> None:
    types = ("bigint", "bigint", "text", "text", "text", "text", "text", "float8", "float8",
             "bigint", "text", "text", "bytea")  # fmt: skip
    arrays = [list(col) for col in zip(*rows, strict=True)]
    marks = ", ".join(f"${i + 1}::{kind}[]" for i, kind in enumerate(types))
    columns = ", ".join(_MEM_COLUMNS)
    n = len(types)
    changes = [(tid, d) for tid, d in df.items() if d]
    await conn.execute(
        f"WITH m AS (INSERT INTO {t.mem} ({columns}) SELECT * FROM unnest({marks})), "
        f"p AS (INSERT INTO {t.post} (uid, term, doc, w) SELECT ${n + 1}, x.term, x.doc, x.w "
        f"FROM unnest(${n + 2}::bigint[], ${n + 3}::bigint[], ${n + 4}::float8[]) "
        f"AS x(term, doc, w)), "
        f"d AS (INSERT INTO {t.terms} (uid, term, df) SELECT ${n + 1}, y.term, y.n "
        f"FROM unnest(${n + 5}::bigint[], ${n + 6}::bigint[]) AS y(term, n) "
        f"ON CONFLICT (uid, term) DO UPDATE SET df = {t.terms}.df + excluded.df) "
        f"UPDATE {t.users} SET docs = docs + ${n + 7}, seq = ${n + 8}, dels = dels + ${n + 9} "
        f"WHERE uid = ${n + 1}",
        *arrays,
        uid,
        [p[1] for p in postings],
        [p[2] for p in postings],
        [p[3] for p in postings],
        [tid for tid, _ in changes],
        [d for _, d in changes],
        *counts,
    )


_MEM_COLUMNS = (
    "doc",
    "uid",
    "id",
    "key",
    "kind",
    "text",
    "context",
    "updated_at",
    "importance",
    "seq",
    "terms",
    "cterms",
    "embedding",
)


async def delete(conn: Conn, t: Tables, user_id: str, ids: Sequence[str]) -> int:
    """Delete the user's memories with ``ids`` in the caller's transaction; the count."""
    uid, _ = await _lock_user(conn, t, user_id)
    df: Counter[int] = Counter()
    removed, _ = await _remove(conn, t, uid, list(ids), [], df)
    await _apply_df(conn, t, uid, df)
    await conn.execute(
        f"UPDATE {t.users} SET docs = docs - $2, dels = dels + $2 WHERE uid = $1", uid, removed
    )
    return removed


async def search(
    conn: Conn,
    t: Tables,
    uid: int,
    scan: Sequence[tuple[int, float]],
    rest: Sequence[tuple[int, float]],
    pool: int,
    ranking: Ranking,
    where: str = "",
    params: Sequence[Any] = (),
) -> list[tuple[tuple[Any, ...], float]]:
    """The ``pool`` best rows and their scores (see ``_sqlite_sql.search``): candidates,
    their sources of context and the memories after those come back in one round trip."""
    join = f"JOIN {t.mem} m ON m.doc = p.doc" if where else ""
    found = await conn.fetch(
        # each term's most recent postings only: a common term costs a bounded read
        f"WITH c AS (SELECT p.doc, sum(p.w * q.idf) AS s "
        f"FROM unnest($2::bigint[], $3::float8[]) AS q(term, idf) CROSS JOIN LATERAL "
        f"(SELECT p.doc, p.w FROM {t.post} p {join} WHERE p.uid = $1 AND p.term = q.term "
        f"{'AND ' + where if where else ''} ORDER BY p.doc DESC LIMIT $9) p "
        f"GROUP BY p.doc ORDER BY s DESC LIMIT $4), "
        # per candidate, look the common terms up (a join would read all their postings)
        f"s AS (SELECT c.doc, c.s + coalesce((SELECT sum(p.w * x.idf) "
        f"FROM unnest($5::bigint[], $6::float8[]) AS x(term, idf) "
        f"JOIN {t.post} p ON p.uid = $1 AND p.term = x.term AND p.doc = c.doc), 0) AS s "
        f"FROM c), "
        f"src AS (SELECT s.doc, m.seq, m.updated_at FROM s CROSS JOIN LATERAL "
        f"(SELECT seq, updated_at, key FROM {t.mem} WHERE doc = s.doc OFFSET 0) m "
        f"WHERE m.key IS NULL ORDER BY s.s DESC LIMIT $7), "
        f"f AS (SELECT m.doc, m.seq, m.updated_at FROM src "
        f"CROSS JOIN generate_series(1, $8) AS g(i) "
        f"JOIN {t.mem} m ON m.uid = $1 AND m.seq = src.seq + g.i AND m.key IS NULL) "
        f"SELECT 0, doc, s, 0::bigint, 0::float8 FROM s "
        f"UNION ALL SELECT 1, doc, 0, seq, updated_at FROM src "
        f"UNION ALL SELECT 2, doc, 0, seq, updated_at FROM f",
        uid,
        [tid for tid, _ in scan],
        [w for _, w in scan],
        2 * pool,
        [tid for tid, _ in rest],
        [w for _, w in rest],
        max(pool // 2, 8),
        ranking.context_turns,
        TERM_CAP,
        *params,
    )
    scores: dict[int, float] = {r[1]: r[2] for r in found if r[0] == 0}
    if ranking.context_turns:
        sources = [(r[1], r[3], r[4]) for r in found if r[0] == 1]
        following = {r[3]: (r[1], r[4]) for r in found if r[0] > 0}
        scores = spread(scores, sources, following, ranking)
    best = sorted(scores.items(), key=lambda p: -p[1])[:pool]
    rows = {row[0]: row for row in await fetch(conn, t, [d for d, _ in best])}
    return [(rows[d], s) for d, s in best if d in rows]


async def recent(
    conn: Conn, t: Tables, uid: int, limit: int, where: str, params: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """The user's most recent rows."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM {t.mem} m WHERE m.uid = $1 {'AND ' + where if where else ''} "
        "ORDER BY m.updated_at DESC, m.seq DESC LIMIT $2",
        uid,
        limit,
        *params,
    )
    return [tuple(r) for r in rows]


async def fetch(conn: Conn, t: Tables, docs: Sequence[int]) -> list[tuple[Any, ...]]:
    """Rows of ``docs``."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM {t.mem} m WHERE m.doc = ANY($1::bigint[])", list(docs)
    )
    return [tuple(r) for r in rows]


async def vectors_since(conn: Conn, t: Tables, uid: int, seq: int) -> list[tuple[int, int, bytes]]:
    """``(doc, seq, embedding)`` of the user's memories written after ``seq``."""
    rows = await conn.fetch(
        f"SELECT doc, seq, embedding FROM {t.mem} WHERE uid = $1 AND seq > $2 "
        "AND embedding IS NOT NULL ORDER BY seq",
        uid,
        seq,
    )
    return [(r[0], r[1], bytes(r[2])) for r in rows]


# -- helpers ---------------------------------------------------------------------------


async def _lock_user(conn: Conn, t: Tables, user_id: str) -> tuple[int, int]:
    """Lock the user for this transaction; its ``(uid, seq)`` (the row is made if new)."""
    row = await conn.fetchrow(
        f"WITH l AS (SELECT pg_advisory_xact_lock(hashtextextended($1, 7243))) "
        f"INSERT INTO {t.users} (user_id) SELECT $1 FROM l ON CONFLICT (user_id) "
        f"DO UPDATE SET user_id = excluded.user_id RETURNING uid, seq",
        user_id,
    )
    assert row is not None
    return int(row[0]), int(row[1])


async def _remove(
    conn: Conn,
    t: Tables,
    uid: int,
    ids: Sequence[str],
    keys: Sequence[str],
    df: Counter[int],
    new: int = 0,
) -> tuple[int, list[int]]:
    """Delete rows by id or key (their postings too); also reserves ``new`` doc ids.

    Returns how many rows went and the reserved ids (one round trip for both).
    """
    row = await conn.fetchrow(
        f"WITH d AS (DELETE FROM {t.mem} WHERE uid = $1 "
        f"AND (id = ANY($2::text[]) OR key = ANY($3::text[])) RETURNING doc, terms, cterms) "
        f"SELECT (SELECT array_agg(ARRAY[doc::text, terms, cterms]) FROM d), "
        f"(SELECT array_agg(nextval('{t.mem}_doc_seq')) FROM generate_series(1, $4))",
        uid,
        list(ids),
        list(keys),
        new,
    )
    assert row is not None
    old = [(int(doc), stored, context) for doc, stored, context in (row[0] or [])]
    reserved = list(row[1] or [])
    terms: list[int] = []
    docs: list[int] = []
    for doc, stored, context in old:
        tids = stored_term_ids(stored, context)
        df.subtract(tids)
        terms += tids
        docs += [doc] * len(tids)
    if terms:
        await conn.execute(
            f"DELETE FROM {t.post} p USING unnest($2::bigint[], $3::bigint[]) AS x(term, doc) "
            "WHERE p.uid = $1 AND p.term = x.term AND p.doc = x.doc",
            uid,
            terms,
            docs,
        )
    return len(old), reserved


async def _apply_df(conn: Conn, t: Tables, uid: int, df: Counter[int]) -> None:
    changes = [(tid, n) for tid, n in df.items() if n]
    if not changes:
        return
    await conn.execute(
        f"INSERT INTO {t.terms} (uid, term, df) "
        f"SELECT $1, x.term, x.n FROM unnest($2::bigint[], $3::bigint[]) AS x(term, n) "
        f"ON CONFLICT (uid, term) DO UPDATE SET df = {t.terms}.df + excluded.df",
        uid,
        [tid for tid, _ in changes],
        [n for _, n in changes],
    )
    if any(n < 0 for _, n in changes):
        await conn.execute(f"DELETE FROM {t.terms} WHERE uid = $1 AND df <= 0", uid)
