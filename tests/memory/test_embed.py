"""Hybrid recall: embeddings bring in memories that share no word with the query, the
per-user vector cache follows writes and deletions, and the bundled static model works
offline."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from halfcascade import ConfigError
from halfcascade.memory import Memory, PostgresMemoryStore, SQLiteMemoryStore
from halfcascade.testing.postgres import TemporaryPostgres

_CONCEPTS = {"dog": 0, "puppy": 0, "pup": 0, "cat": 1, "kitten": 1, "tea": 2, "chai": 2}


class ConceptEmbedder:
    """A fake that knows a few synonyms: one dimension per concept."""

    def __init__(self) -> None:
        self.calls = 0

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        out = []
        for text in texts:
            vec = [0.0] * 4
            for word in text.lower().replace(".", " ").replace("?", " ").split():
                vec[_CONCEPTS.get(word, 3)] += 1.0
            out.append(vec)
        return out


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.contract)])
async def hybrid(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SQLiteMemoryStore | PostgresMemoryStore]:
    made: SQLiteMemoryStore | PostgresMemoryStore
    if request.param == "sqlite":
        made = SQLiteMemoryStore(tmp_path / "m.db", embedder=ConceptEmbedder())
    else:
        pg: TemporaryPostgres = request.getfixturevalue("postgres")
        if not pg.running:
            pg.start()
        made = PostgresMemoryStore(
            pg.dsn, table=f"mem_{uuid.uuid4().hex[:12]}", embedder=ConceptEmbedder()
        )
    try:
        yield made
    finally:
        await made.aclose()


async def test_similar_memories_join_without_shared_words(
    hybrid: SQLiteMemoryStore | PostgresMemoryStore,
) -> None:
    await hybrid.remember_many(
        "u1",
        [
            Memory(text="We adopted a puppy.", id="p", updated_at=1.0),
            Memory(text="Chai every morning.", id="c", updated_at=9000.0),
        ],
    )
    assert [m.id for m in await hybrid.recall("u1", "dog", limit=1)] == ["p"]
    # the cache follows new memories and deletions
    await hybrid.remember("u1", Memory(text="A kitten moved in.", id="k", updated_at=20000.0))
    assert [m.id for m in await hybrid.recall("u1", "cat", limit=1)] == ["k"]
    assert await hybrid.forget("u1", ["p"]) == 1
    assert "p" not in [m.id for m in await hybrid.recall("u1", "dog", limit=3)]
    assert await hybrid.recall("u2", "dog") == []


async def test_a_broken_embedder_is_a_config_error(tmp_path: Path) -> None:
    class Ragged:
        async def embed(self, texts: Sequence[str]) -> list[list[float]]:
            return [[1.0]] * (len(texts) + 1)

    async with SQLiteMemoryStore(tmp_path / "m.db", embedder=Ragged()) as store:
        with pytest.raises(ConfigError, match="one vector per text"):
            await store.remember("u1", Memory(text="x"))


async def test_the_bundled_static_model_runs_offline(tmp_path: Path) -> None:
    pytest.importorskip("static_model", reason="pip install 'halfcascade[embeddings]'")
    from halfcascade.memory import StaticEmbedder

    embedder = StaticEmbedder()
    vectors = await embedder.embed(["My dog is called Max.", ""] + ["text"] * 20)
    assert len(vectors) == 22 and {len(v) for v in vectors} == {64}
    async with SQLiteMemoryStore(tmp_path / "m.db", embedder=embedder) as store:
        await store.remember("u1", Memory(text="We adopted a puppy."))
        assert [m.text for m in await store.recall("u1", "puppy")] == ["We adopted a puppy."]
