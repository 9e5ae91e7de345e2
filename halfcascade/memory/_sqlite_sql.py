"""The SQLite side of :class:`~halfcascade.memory.sqlite.SQLiteMemoryStore` (runs on its
threads). Tables: ``users`` (per-user counters), ``memories``, ``postings`` (the inverted
index) and ``terms`` (per-user document frequencies); see ``rank.py`` for why.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._index import dedupe, document_frequencies, index, join_terms, stored_term_ids
from ._search import TERM_CAP
from .rank import Ranking, spread
from .types import Memory

__all__ = [
    "COLUMNS",
    "SCHEMA",
    "UserRow",
    "delete",
    "document_counts",
    "fetch",
    "recent",
    "search",
    "user",
    "vectors_since",
    "write",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    uid INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE,
    docs INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL DEFAULT 0,
    dels INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS memories (
    doc INTEGER PRIMARY KEY,
    uid INTEGER NOT NULL,
    id TEXT NOT NULL,
    key TEXT,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    context TEXT,
    updated_at REAL NOT NULL,
    importance REAL NOT NULL,
    seq INTEGER NOT NULL,
    terms TEXT NOT NULL,
    cterms TEXT NOT NULL,
    embedding BLOB,
    UNIQUE (uid, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS memories_key ON memories (uid, key) WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS memories_seq ON memories (uid, seq, updated_at);
CREATE INDEX IF NOT EXISTS memories_time ON memories (uid, updated_at);
CREATE TABLE IF NOT EXISTS postings (
    uid INTEGER NOT NULL, term INTEGER NOT NULL, doc INTEGER NOT NULL, w REAL NOT NULL,
    PRIMARY KEY (uid, term, doc)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS terms (
    uid INTEGER NOT NULL, term INTEGER NOT NULL, df INTEGER NOT NULL,
    PRIMARY KEY (uid, term)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
"""
#: the row layout every search works with (see ``_search.py``)
COLUMNS = "m.doc, m.id, m.key, m.kind, m.text, m.updated_at, m.importance, m.context, m.terms"
_CHUNK = 400  # host parameters per IN (...) list


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user's internal id and counters (``seq``: writes so far, ``dels``: deletions)."""

    uid: int
    docs: int
    seq: int
    dels: int


def user(conn: sqlite3.Connection, user_id: str, *, create: bool = False) -> UserRow | None:
    """The user's row (created with ``create``)."""
    row = conn.execute(
        "SELECT uid, docs, seq, dels FROM users WHERE user_id = ?", (user_id,)
    ).fetchone()
    if row is None and create:
        cur = conn.execute("INSERT INTO users (user_id) VALUES (?)", (user_id,))
        return UserRow(int(cur.lastrowid or 0), 0, 0, 0)
    return UserRow(*row) if row else None


def write(
    conn: sqlite3.Connection,
    user_id: str,
    memories: Sequence[Memory],
    vectors: Sequence[bytes | None],
    ranking: Ranking,
) -> None:
    """Insert ``memories`` (replacing same id or key) in the caller's transaction."""
    blobs = {m.id: v for m, v in zip(memories, vectors, strict=True)}
    batch = dedupe(memories)
    u = user(conn, user_id, create=True)
    assert u is not None
    df: Counter[int] = Counter()
    old = _rows_for(conn, u.uid, [m.id for m in batch], [m.key for m in batch if m.key])
    removed = _remove(conn, u.uid, old, df)
    indexed = [index(m, ranking) for m in batch]
    first = int(conn.execute("SELECT coalesce(max(doc), 0) FROM memories").fetchone()[0]) + 1
    uid, offset = u.uid, u.seq + 1 - first  # seq = offset + doc
    rows = [
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
            offset + doc,
            join_terms(item.terms),
            join_terms(item.context),
            blobs[m.id],
        )
        for doc, m, item in zip(range(first, first + len(batch)), batch, indexed, strict=True)
    ]
    postings = [
        (uid, tid, doc, w)
        for doc, item in zip(range(first, first + len(batch)), indexed, strict=True)
        for tid, w in item.weights.items()
    ]
    df.update(document_frequencies(indexed))
    conn.executemany(
        "INSERT INTO memories (doc, uid, id, key, kind, text, context, updated_at, importance, "
        "seq, terms, cterms, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany("INSERT INTO postings (uid, term, doc, w) VALUES (?, ?, ?, ?)", postings)
    _apply_df(conn, u.uid, df)
    conn.execute(
        "UPDATE users SET docs = docs + ?, seq = ?, dels = dels + ? WHERE uid = ?",
        (len(batch) - removed, u.seq + len(batch), removed, u.uid),
    )


def delete(conn: sqlite3.Connection, user_id: str, ids: Sequence[str]) -> int:
    """Delete the user's memories with ``ids`` in the caller's transaction; the count."""
    u = user(conn, user_id)
    if u is None:
        return 0
    df: Counter[int] = Counter()
    removed = _remove(conn, u.uid, _rows_for(conn, u.uid, list(ids), []), df)
    _apply_df(conn, u.uid, df)
    conn.execute(
        "UPDATE users SET docs = docs - ?, dels = dels + ? WHERE uid = ?", (removed, removed, u.uid)
    )
    return removed


def search(
    conn: sqlite3.Connection,
    uid: int,
    scan: Sequence[tuple[int, float]],
    rest: Sequence[tuple[int, float]],
    pool: int,
    ranking: Ranking,
    where: str = "",
    params: Sequence[Any] = (),
) -> list[tuple[tuple[Any, ...], float]]:
    """The ``pool`` best rows and their scores.

    Candidates come from the ``scan`` terms; the ``rest`` (common) terms add to their
    score; then each match lends part of its score to the memories written after it.
    """
    # each term's most recent postings only: a term in most memories costs a bounded read
    join = "JOIN memories m ON m.doc = p.doc" if where else ""
    one = (
        f"SELECT doc, w * ? AS s FROM (SELECT p.doc, p.w FROM postings p {join} "
        f"WHERE p.uid = ? AND p.term = ? {'AND ' + where if where else ''} "
        "ORDER BY p.doc DESC LIMIT ?)"
    )
    sql = (
        f"SELECT doc, sum(s) AS s FROM ({' UNION ALL '.join([one] * len(scan))}) "
        "GROUP BY doc ORDER BY s DESC LIMIT ?"
    )
    flat = [x for tid, idf in scan for x in (idf, uid, tid, *params, TERM_CAP)]
    scores: dict[int, float] = dict(conn.execute(sql, (*flat, 2 * pool)).fetchall())
    if rest and scores:
        weight = dict(rest)
        marks, tmarks = ",".join("?" * len(scores)), ",".join("?" * len(rest))
        for doc, term, w in conn.execute(
            f"SELECT doc, term, w FROM postings WHERE uid = ? AND term IN ({tmarks}) "
            f"AND doc IN ({marks})",
            (uid, *weight, *scores),
        ):
            scores[doc] += w * weight[term]
    if ranking.context_turns and scores:
        scores = _spread(conn, uid, scores, pool, ranking)
    best = sorted(scores.items(), key=lambda p: -p[1])[:pool]
    rows = {row[0]: row for row in fetch(conn, [d for d, _ in best])}
    return [(rows[d], s) for d, s in best if d in rows]


def _spread(
    conn: sqlite3.Connection, uid: int, scores: dict[int, float], pool: int, ranking: Ranking
) -> dict[int, float]:
    """Let the best matches lend part of their score to the memories written after them
    (a memory further down cannot lift a follower into the pool)."""
    keyless = _meta(conn, "doc", list(scores), uid=None)
    found = sorted(keyless, key=lambda r: -scores[r[0]])[: max(pool // 2, 8)]
    wanted = sorted({s + i for _, s, _ in found for i in range(1, ranking.context_turns + 1)})
    following = {seq: (doc, at) for doc, seq, at in _meta(conn, "seq", wanted, uid=uid)}
    return spread(scores, found, following, ranking)


def _meta(
    conn: sqlite3.Connection, column: str, values: Sequence[int], *, uid: int | None
) -> list[tuple[int, int, float]]:
    """``(doc, seq, updated_at)`` of rows whose ``column`` is in ``values``."""
    out: list[tuple[int, int, float]] = []
    # a memory with a key is a self-contained fact: it neither lends nor gets context
    scope = "key IS NULL AND " + ("uid = ? AND " if uid is not None else "")
    for i in range(0, len(values), _CHUNK):
        part = list(values[i : i + _CHUNK])
        marks = ",".join("?" * len(part))
        out += conn.execute(
            f"SELECT doc, seq, updated_at FROM memories WHERE {scope}{column} IN ({marks})",
            [uid, *part] if uid is not None else part,
        ).fetchall()
    return out


def recent(
    conn: sqlite3.Connection, uid: int, limit: int, where: str, params: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """The user's most recent rows."""
    return conn.execute(
        f"SELECT {COLUMNS} FROM memories m WHERE m.uid = ? {'AND ' + where if where else ''} "
        "ORDER BY m.updated_at DESC, m.seq DESC LIMIT ?",
        (uid, *params, limit),
    ).fetchall()


def document_counts(conn: sqlite3.Connection, uid: int, tids: Sequence[int]) -> dict[int, int]:
    """The user's document frequency of each term id."""
    marks = ",".join("?" * len(tids))
    rows = conn.execute(
        f"SELECT term, df FROM terms WHERE uid = ? AND term IN ({marks})", (uid, *tids)
    ).fetchall()
    return {int(t): int(n) for t, n in rows}


def vectors_since(conn: sqlite3.Connection, uid: int, seq: int) -> list[tuple[int, int, bytes]]:
    """``(doc, seq, embedding)`` of the user's memories written after ``seq``."""
    return conn.execute(
        "SELECT doc, seq, embedding FROM memories WHERE uid = ? AND seq > ? "
        "AND embedding IS NOT NULL ORDER BY seq",
        (uid, seq),
    ).fetchall()


def fetch(conn: sqlite3.Connection, docs: Sequence[int]) -> list[tuple[Any, ...]]:
    """Rows of ``docs``."""
    out: list[tuple[Any, ...]] = []
    for i in range(0, len(docs), _CHUNK):
        part = docs[i : i + _CHUNK]
        marks = ",".join("?" * len(part))
        out += conn.execute(
            f"SELECT {COLUMNS} FROM memories m WHERE m.doc IN ({marks})", part
        ).fetchall()
    return out


def _rows_for(
    conn: sqlite3.Connection, uid: int, ids: Sequence[str], keys: Sequence[str]
) -> list[tuple[int, str, str]]:
    """``(doc, terms, cterms)`` of the user's rows with these ids or keys."""
    out: dict[int, tuple[int, str, str]] = {}
    for column, values in (("id", ids), ("key", keys)):
        for i in range(0, len(values), _CHUNK):
            part = values[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            for row in conn.execute(
                f"SELECT doc, terms, cterms FROM memories WHERE uid = ? AND {column} IN ({marks})",
                (uid, *part),
            ):
                out[row[0]] = row
    return list(out.values())


def _remove(
    conn: sqlite3.Connection, uid: int, old: Sequence[tuple[int, str, str]], df: Counter[int]
) -> int:
    postings = []
    for doc, terms, cterms in old:
        tids = stored_term_ids(terms, cterms)
        postings += [(uid, tid, doc) for tid in tids]
        df.subtract(tids)
    conn.executemany("DELETE FROM postings WHERE uid = ? AND term = ? AND doc = ?", postings)
    conn.executemany("DELETE FROM memories WHERE doc = ?", [(row[0],) for row in old])
    return len(old)


def _apply_df(conn: sqlite3.Connection, uid: int, df: Counter[int]) -> None:
    changes = [(uid, tid, n) for tid, n in df.items() if n]
    conn.executemany(
        "INSERT INTO terms (uid, term, df) VALUES (?, ?, ?) "
        "ON CONFLICT (uid, term) DO UPDATE SET df = df + excluded.df",
        changes,
    )
    if any(n < 0 for _, _, n in changes):
        conn.execute("DELETE FROM terms WHERE uid = ? AND df <= 0", (uid,))
