"""Stores for the memory tests: SQLite in a temp dir, PostgreSQL on a private server."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from halfcascade.memory import MemoryStore, PostgresMemoryStore, SQLiteMemoryStore
from halfcascade.testing.postgres import TemporaryPostgres, postgres_unavailable_reason


@pytest.fixture(scope="session")
def postgres() -> Iterator[TemporaryPostgres]:
    """One PostgreSQL server for the whole run; tests use their own tables."""
    reason = postgres_unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs postgresql: a skip there would hide a gap
        pytest.skip(reason)
    with TemporaryPostgres(settings={"fsync": "off"}) as pg:
        yield pg


def pg_table() -> str:
    return f"mem_{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.contract)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MemoryStore]:
    """Each store test runs on SQLite and on a real PostgreSQL."""
    made: SQLiteMemoryStore | PostgresMemoryStore
    if request.param == "sqlite":
        made = SQLiteMemoryStore(tmp_path / "memories.db")
    else:
        pg: TemporaryPostgres = request.getfixturevalue("postgres")
        if not pg.running:
            pg.start()
        made = PostgresMemoryStore(pg.dsn, table=pg_table())
    try:
        yield made
    finally:
        await made.aclose()
