"""A write queue that cannot be poisoned, tools that say only what is true, and writes
pending at close that come back on the next start."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest

from halfcascade import ConfigError, StoreError
from halfcascade.memory import (
    Memory,
    PostgresMemoryStore,
    RememberOp,
    RetryPolicy,
    SQLiteMemoryStore,
    WriteQueue,
    memory_tools,
)
from halfcascade.testing.postgres import TemporaryPostgres

FAST = RetryPolicy(first_delay=0.01, max_delay=0.05, attempt_timeout=2.0)


class _Picky:
    """A store that refuses some texts, fails unexpectedly on others, or is down."""

    def __init__(self) -> None:
        self.saved: list[tuple[str, str]] = []
        self.down = False
        self.calls = 0

    async def remember(self, user_id: str, memory: Memory) -> Memory:
        self.calls += 1
        if self.down:
            raise StoreError("down")
        if "refused" in memory.text:
            raise ConfigError("the store refuses this text")
        if "boom" in memory.text:
            raise UnicodeEncodeError("utf-8", "x", 0, 1, "a driver-level surprise")
        self.saved.append((user_id, memory.text))
        return memory

    async def recall(self, user_id: str, query: str, *, limit: int = 5) -> list[Memory]:
        return []

    async def forget(self, user_id: str, memory_ids: Sequence[str]) -> int:
        return 0

    async def count(self, user_id: str) -> int:
        return len(self.saved)

    async def aclose(self) -> None:
        pass


def op(text: str) -> RememberOp:
    return RememberOp(memory=Memory(text=text))


@pytest.mark.unit
async def test_a_bad_write_never_blocks_the_writes_behind_it() -> None:
    store = _Picky()
    queue = WriteQueue(store, retry=FAST)  # type: ignore[arg-type]
    bad = await queue.submit("alice", op("refused text"))
    odd = await queue.submit("alice", op("boom"))
    good = await queue.submit("bob", op("bob likes tea"))
    assert await queue.flush(5)
    assert await bad.wait() == "rejected" and "refuses" in (bad.error or "")
    assert await odd.wait() == "rejected" and "UnicodeEncodeError" in (odd.error or "")
    assert await good.wait() == "stored"
    assert store.saved == [("bob", "bob likes tea")]
    assert store.calls == 1 + FAST.max_unexpected + 1  # refused once, surprise 3x, then bob
    await queue.aclose()


@pytest.mark.unit
async def test_an_outage_is_retried_until_the_store_is_back() -> None:
    store = _Picky()
    store.down = True
    queue = WriteQueue(store, retry=FAST)  # type: ignore[arg-type]
    ticket = await queue.submit("u1", op("the user likes jazz"))
    assert await ticket.wait(0.2) == "pending"
    assert queue.pending == 1 and store.calls > 2
    store.down = False
    assert await ticket.wait(2) == "stored"
    await queue.aclose()


@pytest.mark.unit
async def test_bad_input_is_refused_before_it_is_queued() -> None:
    queue = WriteQueue(_Picky())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="user_id"):
        await queue.submit("eve\x00", op("x"))
    with pytest.raises(ConfigError, match="RememberOp"):
        await queue.submit("eve", "not an op")  # type: ignore[arg-type]
    assert queue.pending == 0
    await queue.aclose()


@pytest.mark.unit
async def test_remember_tool_confirms_only_what_was_stored() -> None:
    store = _Picky()
    queue = WriteQueue(store, retry=FAST)  # type: ignore[arg-type]
    remember = memory_tools(store, "u1", writer=queue, budget=0.3)[1]  # type: ignore[arg-type]
    assert await remember("The user likes tea.") == "Saved."
    assert (await remember("refused fact")).startswith("Not saved")
    store.down = True
    assert "will be saved" in await remember("The user likes jazz.")
    store.down = False
    assert await queue.flush(2)
    assert ("u1", "The user likes jazz.") in store.saved
    await queue.aclose()


async def test_nul_and_surrogates_through_the_tool_are_stored(tmp_path: Path) -> None:
    async with SQLiteMemoryStore(tmp_path / "m.db") as store:
        queue = WriteQueue(store)
        recall, remember, _ = memory_tools(store, "u1", writer=queue)
        assert await remember("The user's dog\x00 is called \ud800Rex.") == "Saved."
        assert "Rex" in await recall("dog")
        await queue.aclose()


async def test_pending_writes_are_spooled_at_close_and_replayed(tmp_path: Path) -> None:
    store = _Down(tmp_path / "m.db")
    queue = WriteQueue(store, retry=FAST)
    tickets = [await queue.submit("u1", op(f"fact {i}")) for i in range(3)]
    await queue.aclose(drain_timeout=0.1)  # the store is down: nothing landed
    assert [t.status for t in tickets] == ["pending"] * 3
    assert store.default_spool.exists()
    async with SQLiteMemoryStore(tmp_path / "m.db") as back:
        again = WriteQueue(back)
        await again.start()  # replays what the first queue kept
        assert await again.flush(5)
        assert sorted(m.text for m in await back.recall("u1", "", limit=10)) == [
            "fact 0",
            "fact 1",
            "fact 2",
        ]
        await again.aclose()
        third = WriteQueue(back)
        await third.start()
        assert third.pending == 0  # replayed once only
        await third.aclose()


async def test_explicit_spool_is_released_at_close(tmp_path: Path) -> None:
    spool = tmp_path / "pending.db"
    queue = WriteQueue(_Down(tmp_path / "m.db"), spool=spool, retry=FAST)
    await queue.submit("u1", op("kept on disk"))
    await queue.aclose(drain_timeout=0.05)
    async with SQLiteMemoryStore(tmp_path / "m.db") as back:
        again = WriteQueue(back, spool=spool)
        await again.start()
        assert await again.flush(5)
        assert [m.text for m in await back.recall("u1", "disk")] == ["kept on disk"]
        await again.aclose()


class _Down(SQLiteMemoryStore):
    """A SQLite store whose writes fail like an outage."""

    async def remember(self, user_id: str, memory: Memory) -> Memory:
        raise StoreError("down")


@pytest.mark.contract
async def test_postgres_pending_writes_come_back_after_a_restart(
    postgres: TemporaryPostgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALFCASCADE_STATE_DIR", str(tmp_path / "state"))
    if not postgres.running:
        await postgres.astart()
    table = f"mem_{uuid.uuid4().hex[:12]}"
    store = PostgresMemoryStore(postgres.dsn, table=table, timeout=1.0)
    assert store.default_spool.parent == tmp_path / "state"
    queue = WriteQueue(store, retry=FAST)
    await queue.submit("u1", op("before the outage"))
    assert await queue.flush(5)
    await postgres.astop()
    try:
        await queue.submit("u1", op("during the outage"))
        await queue.aclose(drain_timeout=0.3)
    finally:
        await postgres.astart()
    await store.aclose()
    async with PostgresMemoryStore(postgres.dsn, table=table) as back:
        again = WriteQueue(back)
        await again.start()
        assert await again.flush(10)
        assert await back.count("u1") == 2
        await again.aclose()


@pytest.mark.contract
async def test_postgres_pool_survives_a_second_event_loop(postgres: TemporaryPostgres) -> None:
    if not postgres.running:
        await postgres.astart()
    store = PostgresMemoryStore(postgres.dsn, table=f"mem_{uuid.uuid4().hex[:12]}")

    def session(n: int) -> int:
        async def run() -> int:
            await store.remember("u1", Memory(text=f"loop {n} fact"))
            return len(await store.recall("u1", "fact", limit=10))

        return asyncio.run(run())

    # each asyncio.run is a new event loop, as in a worker that restarts its loop
    assert await asyncio.to_thread(session, 1) == 1
    assert await asyncio.to_thread(session, 2) == 2
    assert await store.count("u1") == 2  # and the test's own loop
    await store.aclose()


@pytest.mark.contract
async def test_postgres_mixed_concurrent_input_raises_no_driver_error(
    postgres: TemporaryPostgres,
) -> None:
    if not postgres.running:
        await postgres.astart()
    texts = ["plain", "NUL\x00byte", "\ud800lone", "\u2028sep", "' ; DROP", "\U0001f600"]
    async with PostgresMemoryStore(postgres.dsn, table=f"mem_{uuid.uuid4().hex[:12]}") as store:
        queue = WriteQueue(store)

        async def one(i: int) -> str:
            text = f"{texts[i % len(texts)]} {i}"
            user = f"user-{i % 7}"
            if i % 3 == 0:
                await store.recall(user, text)
                return "read"
            ticket = await queue.submit(user, RememberOp(memory=Memory(text=text, key=f"k{i % 4}")))
            return await ticket.wait(10)

        results = await asyncio.gather(*(one(i) for i in range(600)))
        assert set(results) <= {"read", "stored"}
        await queue.aclose()
        assert sum([await store.count(f"user-{u}") for u in range(7)]) == 7 * 4


@pytest.mark.contract
async def test_postgres_driver_state_errors_in_an_outage_are_retried_not_dropped(
    postgres: TemporaryPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncpg raises ``InternalClientError`` when a restart cuts its pool mid-operation (the
    soak met it under PostgreSQL restarts): an outage, retried until stored, not a bad
    write dropped after ``max_unexpected`` attempts."""
    import asyncpg

    from halfcascade.memory import _postgres_sql

    if not postgres.running:
        await postgres.astart()
    write, cuts = _postgres_sql.write, [0]

    async def cut_then_write(*args: object, **kwargs: object) -> None:
        if cuts[0] < 2 * FAST.max_unexpected:
            cuts[0] += 1
            raise asyncpg.InternalClientError("cannot switch to state 12; another operation")
        await write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_postgres_sql, "write", cut_then_write)
    store = PostgresMemoryStore(postgres.dsn, table=f"mem_{uuid.uuid4().hex[:12]}", timeout=1.0)
    queue = WriteQueue(store, retry=FAST)
    try:
        ticket = await queue.submit("u1", op("a write the restart cut"))
        assert await ticket.wait(10) == "stored"
        assert cuts[0] == 2 * FAST.max_unexpected
        assert await store.count("u1") == 1
    finally:
        await queue.aclose()
        await store.aclose()
