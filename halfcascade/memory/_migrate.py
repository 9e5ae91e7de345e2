"""Opening a SQLite memory file: create the schema, upgrade a version-1 file (FTS5), and
rebuild the postings when the settings they depend on changed."""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

from ._index import document_frequencies, index, join_terms
from .rank import Ranking
from .types import Memory

__all__ = ["TEXT_VERSION", "fingerprint", "migrate_sqlite"]

#: bump when ``_text`` tokenizes differently: stored postings are then rebuilt
TEXT_VERSION = 1


def fingerprint(ranking: Ranking) -> str:
    """What the stored postings depend on (terms and BM25 weights, not query-time knobs)."""
    r = ranking
    return f"text {TEXT_VERSION} bm25 {r.k1}/{r.b}/{r.avg_terms} context {r.context_weight}"


def migrate_sqlite(conn: sqlite3.Connection, schema: str, ranking: Ranking) -> None:
    """Bring the file to the current schema inside the caller's transaction."""
    legacy = _legacy_rows(conn)
    for statement in schema.split(";"):
        if statement.strip():
            conn.execute(statement)
    want = fingerprint(ranking)
    row = conn.execute("SELECT v FROM meta WHERE k = 'ranking'").fetchone()
    if legacy:
        from ._sqlite_sql import write

        for user_id, memories in legacy.items():
            write(conn, user_id, memories, [None] * len(memories), ranking)
    elif row is not None and row[0] != want:
        for (uid,) in conn.execute("SELECT uid FROM users").fetchall():
            _reindex_user(conn, uid, ranking)
    conn.execute(
        "INSERT INTO meta (k, v) VALUES ('ranking', ?) ON CONFLICT (k) DO UPDATE SET v = ?",
        (want, want),
    )


def _legacy_rows(conn: sqlite3.Connection) -> dict[str, list[Memory]]:
    """Memories of a version-1 file, whose tables are then dropped."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(memories)")}
    if "owner" not in columns:
        return {}
    rows = conn.execute(
        "SELECT user_id, id, key, kind, text, updated_at FROM memories ORDER BY rowid"
    ).fetchall()
    for statement in (
        "DROP TRIGGER IF EXISTS memories_ai",
        "DROP TRIGGER IF EXISTS memories_ad",
        "DROP TABLE IF EXISTS memories_fts",
        "DROP TABLE memories",
        "DROP INDEX IF EXISTS memories_user_key",
        "DROP INDEX IF EXISTS memories_user_time",
    ):
        conn.execute(statement)
    out: dict[str, list[Memory]] = {}
    for user_id, mid, key, kind, text, at in rows:
        out.setdefault(user_id, []).append(
            Memory(id=mid, key=key, kind=kind, text=text, updated_at=at)
        )
    return out


def _reindex_user(conn: sqlite3.Connection, uid: int, ranking: Ranking) -> None:
    rows: list[Any] = conn.execute(
        "SELECT doc, id, kind, text, context FROM memories WHERE uid = ? ORDER BY seq", (uid,)
    ).fetchall()
    conn.execute("DELETE FROM postings WHERE uid = ?", (uid,))
    conn.execute("DELETE FROM terms WHERE uid = ?", (uid,))
    items = [
        index(Memory(id=mid, kind=kind, text=text, context=ctx), ranking)
        for _, mid, kind, text, ctx in rows
    ]
    conn.executemany(
        "INSERT INTO postings (uid, term, doc, w) VALUES (?, ?, ?, ?)",
        [
            (uid, tid, r[0], w)
            for r, item in zip(rows, items, strict=True)
            for tid, w in item.weights.items()
        ],
    )
    conn.executemany(
        "UPDATE memories SET terms = ?, cterms = ? WHERE doc = ?",
        [
            (join_terms(i.terms), join_terms(i.context), r[0])
            for r, i in zip(rows, items, strict=True)
        ],
    )
    df: Counter[int] = document_frequencies(items)
    conn.executemany(
        "INSERT INTO terms (uid, term, df) VALUES (?, ?, ?)", [(uid, t, n) for t, n in df.items()]
    )
