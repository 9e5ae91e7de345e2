"""Files and tables written by the first version (FTS5 / tsvector) open and keep their data;
changed ranking weights rebuild the index."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from halfcascade.memory import PostgresMemoryStore, Ranking, SQLiteMemoryStore
from halfcascade.testing.postgres import TemporaryPostgres

_V1_SQLITE = """
CREATE TABLE memories (rowid INTEGER PRIMARY KEY, user_id TEXT NOT NULL, owner TEXT NOT NULL,
    id TEXT NOT NULL, key TEXT, kind TEXT NOT NULL, text TEXT NOT NULL, updated_at REAL NOT NULL,
    embedding BLOB, UNIQUE (user_id, id));
CREATE UNIQUE INDEX memories_user_key ON memories (user_id, key) WHERE key IS NOT NULL;
CREATE INDEX memories_user_time ON memories (user_id, updated_at);
CREATE VIRTUAL TABLE memories_fts USING fts5 (owner, text, content='memories',
    content_rowid='rowid');
INSERT INTO memories (user_id, owner, id, key, kind, text, updated_at) VALUES
    ('u1', 'x', 'a', 'dog.name', 'fact', 'The user''s dog is called Max.', 1.0),
    ('u1', 'x', 'b', NULL, 'note', 'The user plays the cello.', 2.0),
    ('u2', 'y', 'c', NULL, 'fact', 'Bob likes tea.', 3.0);
"""


async def test_a_version_1_sqlite_file_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(_V1_SQLITE)
    conn.close()
    async with SQLiteMemoryStore(db) as store:
        assert await store.count("u1") == 2 and await store.count("u2") == 1
        assert [m.id for m in await store.recall("u1", "dog")] == ["a"]
        assert [m.text for m in await store.recall("u2", "")] == ["Bob likes tea."]


async def test_changed_weights_rebuild_the_index(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    async with SQLiteMemoryStore(db) as store:
        await store.remember_many("u1", [])
        from halfcascade.memory import Memory

        await store.remember("u1", Memory(text="cello lessons on Tuesday", updated_at=1.0))
        before = await store.search("u1", "cello")
    async with SQLiteMemoryStore(db, ranking=Ranking(k1=2.0, b=0.3)) as store:
        after = await store.search("u1", "cello")
    assert [r.memory.id for r in after] == [r.memory.id for r in before]
    assert after[0].score == pytest.approx(before[0].score)  # normalised to the best


@pytest.mark.contract
async def test_a_version_1_postgres_table_is_upgraded(postgres: TemporaryPostgres) -> None:
    import asyncpg

    if not postgres.running:
        await postgres.astart()
    table = f"mem_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(postgres.dsn)
    await conn.execute(
        f"CREATE TABLE {table} (user_id text NOT NULL, id text NOT NULL, key text, "
        "kind text NOT NULL, text text NOT NULL, updated_at double precision NOT NULL, "
        "tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED, "
        "PRIMARY KEY (user_id, id))"
    )
    await conn.execute(
        f"INSERT INTO {table} (user_id, id, key, kind, text, updated_at) VALUES "
        "('u1', 'a', 'dog.name', 'fact', 'The user''s dog is called Max.', 1.0), "
        "('u2', 'c', NULL, 'fact', 'Bob likes tea.', 3.0)"
    )
    await conn.close()
    async with PostgresMemoryStore(postgres.dsn, table=table) as store:
        assert [m.id for m in await store.recall("u1", "dog")] == ["a"]
        assert await store.count("u2") == 1
