"""Both stores, same behaviour: CRUD, ranking, isolation, replace-on-change, forget."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from halfcascade import ConfigError
from halfcascade.memory import (
    Memory,
    MemoryStore,
    PostgresMemoryStore,
    RuleExtractor,
    SQLiteMemoryStore,
    WriteQueue,
    forget_about,
)


async def test_crud(store: MemoryStore) -> None:
    dog = await store.remember("u1", Memory(text="The user's dog is called Rex.", key="dog.name"))
    note = await store.remember("u1", Memory(text="The user plays the cello.", kind="note"))
    assert await store.count("u1") == 2
    assert {m.id for m in await store.recall("u1", "")} == {dog.id, note.id}
    # the same id again replaces (a retried write is harmless)
    await store.remember("u1", Memory(id=note.id, text="The user plays the cello well."))
    assert await store.count("u1") == 2
    assert await store.forget("u1", [dog.id]) == 1
    assert [m.text for m in await store.recall("u1", "")] == ["The user plays the cello well."]
    assert await store.forget("u1", []) == 0


async def test_recall_ranks_by_relevance_and_recent_first_without_query(store: MemoryStore) -> None:
    texts = [
        "The user's sister lives in Lisbon.",
        "The user's dog is called Max and the dog loves the park.",
        "The user likes jazz.",
        "The user's favorite food is pizza.",
        "The user's dog is scared of thunder.",
    ]
    for i, text in enumerate(texts):
        # hours apart: separate conversations, so no memory is context for the next
        await store.remember("u1", Memory(text=text, updated_at=1000.0 + i * 3600))
    found = await store.recall("u1", "my dog at the park", limit=3)
    assert found[0].text.startswith("The user's dog is called Max")
    assert all("dog" in m.text for m in found[:2])
    assert [m.text for m in await store.recall("u1", "dogs", limit=5)][:2] == [texts[1], texts[4]]
    assert [m.text for m in await store.recall("u1", "", limit=2)] == [texts[4], texts[3]]
    assert await store.recall("u1", "spaceships") == []
    # query syntax of either backend is inert
    assert await store.recall("u1", 'dog" OR * NEAR( | & ! :') != []


async def test_users_are_isolated(store: MemoryStore) -> None:
    secret = await store.remember(
        "alice", Memory(text="Alice's password hint is tulip.", key="hint")
    )
    await store.remember("bob", Memory(text="Bob likes tulip fields.", key="hint"))
    assert [m.text for m in await store.recall("bob", "tulip")] == ["Bob likes tulip fields."]
    # bob cannot delete alice's memory even with its id, nor overwrite it with it
    assert await store.forget("bob", [secret.id]) == 0
    await store.remember("bob", Memory(id=secret.id, text="Bob's own note."))
    assert [m.text for m in await store.recall("alice", "")] == ["Alice's password hint is tulip."]
    assert await store.count("alice") == 1 and await store.count("bob") == 2


async def test_concurrent_sessions_never_mix_users(store: MemoryStore) -> None:
    users = [f"user-{i}" for i in range(8)]

    async def session(user: str) -> None:
        for n in range(10):
            await store.remember(user, Memory(text=f"{user} fact number {n} about dogs."))
            for m in await store.recall(user, "dogs fact", limit=10):
                assert m.text.startswith(user + " ")

    await asyncio.gather(*(session(u) for u in users))
    for user in users:
        assert await store.count(user) == 10


def test_no_store_call_goes_without_a_user_id() -> None:
    for cls in (SQLiteMemoryStore, PostgresMemoryStore):
        for name in ("remember", "recall", "forget", "count"):
            params = list(inspect.signature(getattr(cls, name)).parameters)
            assert params[1] == "user_id", f"{cls.__name__}.{name}"


async def test_empty_user_id_is_refused(store: MemoryStore) -> None:
    with pytest.raises(ConfigError, match="user_id"):
        await store.recall("", "dog")
    with pytest.raises(ConfigError, match="user_id"):
        await store.remember("  ", Memory(text="x"))


async def test_changed_fact_replaces_the_old_one(store: MemoryStore) -> None:
    rules = RuleExtractor()
    writer = WriteQueue(store)
    for said in ["My dog is called Rex.", "I love pizza", "Oh, my dog is called Max now."]:
        for op in await rules.extract(said):
            await writer.submit("u1", op)
    assert await writer.flush(5)
    dogs = [m.text for m in await store.recall("u1", "dog name")]
    assert dogs == ["The user's dog is called Max."]
    await writer.aclose()


async def test_forget(store: MemoryStore) -> None:
    await store.remember("u1", Memory(text="The user's dog is called Max.", key="dog.name"))
    await store.remember("u1", Memory(text="The user loves pizza.", key="likes.pizza"))
    await store.remember("u2", Memory(text="The user's dog is called Rex.", key="dog.name"))
    writer = WriteQueue(store)
    for op in await RuleExtractor().extract("Please forget about my dog."):
        await writer.submit("u1", op)
    assert await writer.flush(5)
    assert [m.text for m in await store.recall("u1", "")] == ["The user loves pizza."]
    assert await store.count("u2") == 1  # only the asking user's memories go
    assert await forget_about(store, "u1", "pizza") == 1
    assert await forget_about(store, "u1", "the") == 0  # no topic words: nothing matches
    await store.remember("u1", Memory(text="The user's name is Ana.", key="user.name"))
    assert await forget_about(store, "u1", "my name") == 1
    await writer.aclose()
