"""Both stores: batch writes, scores and filters, conversational context, diversity,
per-user statistics, and no driver exception for any text."""

from __future__ import annotations

import asyncio
import random

import pytest

from halfcascade import ConfigError
from halfcascade.memory import Memory, MemoryStore, PostgresMemoryStore, SQLiteMemoryStore

Store = SQLiteMemoryStore | PostgresMemoryStore


def turns(*texts: str, start: float = 1000.0, step: float = 30.0) -> list[Memory]:
    """A conversation: one memory per turn, ``step`` seconds apart."""
    return [
        Memory(text=t, id=f"t{i}", kind="note", updated_at=start + i * step)
        for i, t in enumerate(texts)
    ]


async def test_remember_many_in_order_with_replacements(store: Store) -> None:
    batch = [
        Memory(text="The user's dog is called Rex.", key="dog.name", id="a"),
        Memory(text="The user likes tea.", id="b"),
        Memory(text="The user's dog is called Max.", key="dog.name", id="c"),  # replaces a
        Memory(text="The user likes green tea.", id="b"),  # replaces b
    ]
    assert await store.remember_many("u1", batch) == batch
    assert await store.count("u1") == 2
    assert {m.text for m in await store.recall("u1", "dog tea", limit=5)} == {
        "The user's dog is called Max.",
        "The user likes green tea.",
    }
    # a later batch replaces across batches too, and an empty batch is fine
    await store.remember_many(
        "u1", [Memory(text="The user's dog is called Ziggy.", key="dog.name")]
    )
    assert [m.text for m in await store.recall("u1", "dog")] == ["The user's dog is called Ziggy."]
    assert await store.remember_many("u1", []) == []
    assert await store.count("u1") == 2


async def test_search_scores_and_filters(store: Store) -> None:
    await store.remember_many(
        "u1",
        [
            Memory(text="The user plays chess on Sundays.", kind="fact", updated_at=100.0),
            Memory(text="The user prefers chess to poker.", kind="preference", updated_at=200.0),
            Memory(text="Chess club moved to Mondays.", kind="note", updated_at=300.0),
        ],
    )
    found = await store.search("u1", "chess", limit=3)
    assert len(found) == 3 and all(r.score > 0 for r in found)
    assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)
    prefs = await store.recall("u1", "chess", kinds=["preference"])
    assert [m.kind for m in prefs] == ["preference"]
    assert {m.updated_at for m in await store.recall("u1", "chess", since=150, until=300)} == {
        200.0
    }
    assert [m.updated_at for m in await store.recall("u1", "", kinds=["fact", "note"])] == [
        300.0,
        100.0,
    ]
    with pytest.raises(ConfigError, match="kinds"):
        await store.recall("u1", "chess", kinds=["secret"])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="limit"):
        await store.recall("u1", "chess", limit=0)


async def test_a_reply_is_found_by_what_it_answers(store: Store) -> None:
    await store.remember_many(
        "u1",
        turns(
            "I've been running most mornings.",
            "How is that going for you?",
            "This has been great for my mental health.",
            "Anyway, I was running late for work today.",
            "Oh no!",
            "I painted the fence on Sunday.",
        ),
    )
    found = [m.text for m in await store.recall("u1", "What has running been good for?", limit=4)]
    assert "This has been great for my mental health." in found
    assert "I painted the fence on Sunday." not in found
    # an explicit context (the question a fact answers) is searchable with the memory
    await store.remember(
        "u2", Memory(text="A pottery set.", context="What did you give your sister?")
    )
    assert [m.text for m in await store.recall("u2", "present for my sister")] == ["A pottery set."]


async def test_forgotten_words_do_not_linger_as_context(store: Store) -> None:
    await store.remember_many(
        "u1", turns("My secret diary is under the bed.", "Noted.", "Anyway, lunch was good.")
    )
    assert await store.recall("u1", "secret diary", limit=5)
    assert await store.forget("u1", ["t0"]) == 1
    assert await store.recall("u1", "secret diary", limit=5) == []


async def test_near_duplicates_do_not_fill_the_results(store: Store) -> None:
    texts = [f"Yoga again today, yoga is how I relax, day {i}." for i in range(8)]
    texts += [
        "A hot bath helps me relax too.",
        "Long walks help me relax as well.",
    ]
    await store.remember_many(
        "u1", [Memory(text=t, updated_at=i * 7200.0) for i, t in enumerate(texts)]
    )
    found = [m.text for m in await store.recall("u1", "how do I relax", limit=4)]
    assert "A hot bath helps me relax too." in found
    assert "Long walks help me relax as well." in found


async def test_ranking_does_not_depend_on_other_users(store: Store) -> None:
    mine = [
        Memory(text=t, id=f"m{i}", updated_at=i * 7200.0)
        for i, t in enumerate(["The user's cat is Luna.", "The user likes cats and dogs.", "x y"])
    ]
    await store.remember_many("alice", mine)
    before = await store.search("alice", "cat dogs", limit=3)
    # another user writes thousands of memories full of the same words
    noise = [Memory(text=f"cat cat dogs {i}") for i in range(2000)]
    await store.remember_many("bob", noise)
    after = await store.search("alice", "cat dogs", limit=3)
    assert [(r.memory.id, round(r.score, 9)) for r in after] == [
        (r.memory.id, round(r.score, 9)) for r in before
    ]


_NASTY = [
    "\x00",
    "NUL\x00inside",
    "\ud800",
    "lone \udfff low",
    "\udc80\udcff surrogateescape bytes",
    "\u2028\u2029",
    "emoji \U0001f436 and \ufeff BOM",
    "' OR 1=1; DROP TABLE memories; --",
    'fts " * NEAR( AND OR NOT ^ : -',
    "tsquery ! & | <-> :* ( )",
    "\\x00 \\u0000 literal escapes",
    "x" * 499 + "\u00e9",
    "\x1b[31m colour \x07",
    "\u202e right-to-left override",
]


async def test_no_driver_exception_for_any_text(store: Store) -> None:
    rng = random.Random(7)
    ok = 0
    for text in _NASTY + ["".join(chr(rng.randrange(0, 0x3000)) for _ in range(40))] * 20:
        try:
            memory = Memory(text=text)
        except ConfigError:
            continue  # nothing left after cleaning: refused before any store sees it
        await store.remember("u1", memory)
        await store.recall("u1", text, limit=3)
        await store.search("u1", text, limit=3)
        ok += 1
    assert ok >= len(_NASTY) - 2
    for query in _NASTY:  # queries are cleaned too
        await store.recall("u1", query)
    assert await store.count("u1") == ok


async def test_concurrent_batches_and_upserts_of_one_key(store: Store) -> None:
    async def write(i: int) -> None:
        await store.remember("u1", Memory(text=f"The user's dog is called Dog{i}.", key="dog.name"))
        await store.remember_many("u1", [Memory(text=f"note {i} about dogs", id=f"n{i % 5}")])

    await asyncio.gather(*(write(i) for i in range(40)))
    assert await store.count("u1") == 6  # one dog.name, five note ids
    assert len(await store.recall("u1", "dog name", limit=10)) >= 1


def test_store_types_satisfy_the_protocol(tmp_path: object) -> None:
    assert isinstance(SQLiteMemoryStore("/tmp/unused.db"), MemoryStore)
    assert isinstance(PostgresMemoryStore("postgresql://x@127.0.0.1:9/x"), MemoryStore)
