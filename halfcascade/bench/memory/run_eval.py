"""The recall-quality benchmark: every store and ranking option on the same conversations.

One row per (size, store, ranker): evidence recall@5/10/25, search p50/p95/p99 (ms, at
``limit=10``) and ingest rate (``remember_many`` in batches of 5,000). ``bm25`` is the
plain-BM25 baseline (in-process, no store).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from ...memory import PostgresMemoryStore, Ranking, SQLiteMemoryStore
from .corpus import conversations
from .corpus_dialogue import dialogues
from .evaluate import EvalResult, PlainBM25, evaluate

__all__ = ["CORPORA", "RANKERS", "STORES", "eval_bench", "users_for"]

#: ranking options compared by ``--rankers`` (``hybrid`` adds the bundled static embedder)
RANKERS: dict[str, Ranking | None] = {
    "bm25": None,
    "default": Ranking(),
    "no-context": Ranking(context_turns=0),
    "no-diversity": Ranking(diversity=0.0),
    "hybrid": Ranking(),
}
STORES = ("sqlite", "postgres")
#: generated corpora (``--corpus``): companion conversations, or two friends catching up
CORPORA = {"companion": conversations, "dialogue": dialogues}


def users_for(size: int) -> int:
    """Users per size: ten conversations at 1k memories each, fewer as they grow."""
    return min(10, max(1, 40000 // size))


async def eval_bench(
    sizes: Sequence[int],
    stores: Sequence[str],
    rankers: Sequence[str],
    *,
    seed: int = 13,
    corpus: str = "companion",
    max_questions: int | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the evaluation; one summary dict per (size, store, ranker)."""
    unknown = [r for r in rankers if r not in RANKERS] + [s for s in stores if s not in STORES]
    if unknown or corpus not in CORPORA:
        raise ValueError(
            f"unknown ranker/store/corpus {unknown or corpus}; rankers {list(RANKERS)}, "
            f"stores {STORES}, corpora {list(CORPORA)}"
        )
    generate = CORPORA[corpus]
    rows: list[dict[str, Any]] = []
    async with _postgres("postgres" in stores) as dsn:
        for size in sizes:
            convs = list(generate(users_for(size), size, seed=seed))
            for ranker in rankers:
                for store in ["python"] if ranker == "bm25" else stores:
                    result = await _run(store, ranker, convs, dsn, max_questions, size)
                    row = {
                        "corpus": corpus,
                        "memories": size,
                        "store": store,
                        "ranker": ranker,
                        "users": len(convs),
                        "questions": result.questions,
                        **result.row(),
                    }
                    row["by_kind_r@10"] = {
                        k: round(100 * v[10], 1) for k, v in result.by_kind.items()
                    }
                    rows.append(row)
                    if on_row is not None:
                        on_row(row)
    return rows


async def _run(
    store: str,
    ranker: str,
    convs: list[Any],
    dsn: str | None,
    max_questions: int | None,
    size: int,
) -> EvalResult:
    if ranker == "bm25":
        return await evaluate(PlainBM25(), convs, max_questions=max_questions)
    ranking = RANKERS[ranker]
    embedder = None
    if ranker == "hybrid":
        from ...memory import StaticEmbedder

        embedder = StaticEmbedder()
    if store == "postgres":
        assert dsn is not None
        table = f"eval_{size}_{ranker.replace('-', '_')}"
        async with PostgresMemoryStore(
            dsn, table=table, embedder=embedder, ranking=ranking, timeout=60.0
        ) as pg:
            return await evaluate(pg, convs, max_questions=max_questions)
    with tempfile.TemporaryDirectory(prefix="halfcascade-eval-") as tmp:
        async with SQLiteMemoryStore(
            Path(tmp) / "memories.db", embedder=embedder, ranking=ranking
        ) as lite:
            return await evaluate(lite, convs, max_questions=max_questions)


@contextlib.asynccontextmanager
async def _postgres(wanted: bool) -> AsyncIterator[str | None]:
    if not wanted:
        yield None
        return
    from ...testing.postgres import TemporaryPostgres

    async with TemporaryPostgres() as pg:
        yield pg.dsn
