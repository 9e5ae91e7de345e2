"""Acknowledged writes survive a killed process; a store outage loses nothing, stalls nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from halfcascade.memory import (
    Memory,
    PostgresMemoryStore,
    RememberOp,
    RetryPolicy,
    SQLiteMemoryStore,
    WriteQueue,
    memory_tools,
    prepare_instructions,
)
from halfcascade.testing.postgres import TemporaryPostgres

_WRITE_THEN_HANG = """
import asyncio, sys, time
from halfcascade.memory import Memory, SQLiteMemoryStore

async def main():
    store = SQLiteMemoryStore(sys.argv[1])
    await store.remember("u1", Memory(text="The user's dog is called Max.", key="dog.name"))
    print("acked", flush=True)
    time.sleep(60)  # killed here, store never closed

asyncio.run(main())
"""

_SPOOL_THEN_HANG = """
import asyncio, sys, time
from halfcascade.memory import Memory, PostgresMemoryStore, RememberOp, WriteQueue

async def main():
    down = PostgresMemoryStore("postgresql://nobody@127.0.0.1:9/none", timeout=0.2)
    queue = WriteQueue(down, spool=sys.argv[1])
    await queue.submit("u1", RememberOp(memory=Memory(text="The user likes jazz.")))
    print("acked", flush=True)
    time.sleep(60)

asyncio.run(main())
"""


def _run_until_acked_then_kill(script: str, arg: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(arg)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "acked"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.timeout(60)
async def test_acknowledged_sqlite_write_survives_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "memories.db"
    await asyncio.to_thread(_run_until_acked_then_kill, _WRITE_THEN_HANG, db)
    async with SQLiteMemoryStore(db) as store:
        assert [m.text for m in await store.recall("u1", "dog")] == [
            "The user's dog is called Max."
        ]


@pytest.mark.timeout(60)
async def test_spooled_write_survives_sigkill_during_an_outage(tmp_path: Path) -> None:
    spool = tmp_path / "spool.db"
    await asyncio.to_thread(_run_until_acked_then_kill, _SPOOL_THEN_HANG, spool)
    async with SQLiteMemoryStore(tmp_path / "memories.db") as store:
        queue = WriteQueue(store, spool=spool)
        await queue.start()  # replays what the killed process had acknowledged
        assert await queue.flush(5)
        assert [m.text for m in await store.recall("u1", "jazz")] == ["The user likes jazz."]
        await queue.aclose()


@pytest.mark.contract
@pytest.mark.timeout(90)
async def test_store_outage_queues_retries_and_never_stalls(postgres: TemporaryPostgres) -> None:
    if not postgres.running:
        await postgres.astart()
    store = PostgresMemoryStore(postgres.dsn, table=f"mem_{uuid.uuid4().hex[:12]}", timeout=1.0)
    queue = WriteQueue(store, retry=RetryPolicy(first_delay=0.05, max_delay=0.3))
    recall_tool = memory_tools(store, "u1", writer=queue, budget=0.3)[0]
    try:
        await queue.submit("u1", RememberOp(memory=Memory(text="The user's dog is called Max.")))
        assert await queue.flush(5)

        await postgres.astop()
        start = time.perf_counter()
        for fact in ("The user likes jazz.", "The user lives in Porto.", "The user is 34."):
            await queue.submit("u1", RememberOp(memory=Memory(text=fact)))
        assert time.perf_counter() - start < 0.2  # acknowledged at once
        # replies go on: recall answers within its budget, with nothing, without raising
        start = time.perf_counter()
        assert await prepare_instructions("P", store, "u1", budget=0.3) == "P"
        assert "unavailable" in await recall_tool("dog")
        assert time.perf_counter() - start < 1.5
        await asyncio.sleep(0.5)
        assert queue.pending == 3  # still retrying, nothing dropped

        await postgres.astart()
        assert await queue.flush(15)
        assert await store.count("u1") == 4
    finally:
        if not postgres.running:
            await postgres.astart()
        await queue.aclose()
        await store.aclose()
