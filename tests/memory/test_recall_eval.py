"""A small run of ``halfcascade bench memory --eval``: recall floors as ratios, no timings.

The full evaluation (1k/10k/100k memories per user, every store and ranking option) is the
benchmark; this keeps the ranking from regressing below what it achieves with margin.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from halfcascade.bench.memory import main
from halfcascade.bench.memory.corpus import conversations
from halfcascade.bench.memory.evaluate import EvalResult, PlainBM25, evaluate
from halfcascade.memory import PostgresMemoryStore, Ranking, SQLiteMemoryStore
from halfcascade.testing.postgres import TemporaryPostgres

SMALL = {"users": 4, "turns": 400, "seed": 13}


def corpus() -> list:  # type: ignore[type-arg]
    return list(conversations(SMALL["users"], SMALL["turns"], seed=SMALL["seed"]))


async def on_sqlite(tmp_path: Path, ranking: Ranking | None = None) -> EvalResult:
    async with SQLiteMemoryStore(tmp_path / f"{uuid.uuid4().hex}.db", ranking=ranking) as s:
        return await evaluate(s, corpus())


def test_generator_is_deterministic_and_varied() -> None:
    a, b = corpus(), corpus()
    assert [c.turns for c in a] == [c.turns for c in b]
    kinds = {q.kind for c in a for q in c.questions}
    assert kinds >= {"context", "paraphrase", "multi", "temporal", "direct", "update"}
    assert len({t.text for c in a for t in c.turns}) > 400
    multi = [q for c in a for q in c.questions if q.kind == "multi"]
    assert multi and all(len(q.evidence) >= 3 for q in multi)


async def test_recall_beats_plain_bm25_by_a_wide_margin(tmp_path: Path) -> None:
    baseline = await evaluate(PlainBM25(), corpus())
    ours = await on_sqlite(tmp_path)
    assert ours.evidence == baseline.evidence > 150
    # measured 72-79 % against 20-22 % for BM25 on this size (seeds 1-3, 13)
    assert ours.recall[10] >= 0.6
    assert ours.recall[10] >= 2.5 * baseline.recall[10]
    assert ours.recall[25] >= ours.recall[10] >= ours.recall[5]


async def test_context_and_diversity_each_pay_for_themselves(tmp_path: Path) -> None:
    ours = await on_sqlite(tmp_path)
    plain = await on_sqlite(tmp_path, Ranking(context_turns=0, diversity=0.0))
    no_diversity = await on_sqlite(tmp_path, Ranking(diversity=0.0))
    assert ours.recall[10] >= 1.5 * plain.recall[10]
    assert ours.recall[10] > no_diversity.recall[10]
    assert ours.by_kind["context"][10] > 2 * plain.by_kind["context"][10]


@pytest.mark.contract
async def test_postgres_ranks_like_sqlite(postgres: TemporaryPostgres, tmp_path: Path) -> None:
    if not postgres.running:
        await postgres.astart()
    lite = await on_sqlite(tmp_path)
    table = f"mem_{uuid.uuid4().hex[:12]}"
    async with PostgresMemoryStore(postgres.dsn, table=table) as pg:
        theirs = await evaluate(pg, corpus())
    for k in (5, 10, 25):
        assert abs(theirs.recall[k] - lite.recall[k]) <= 0.02


def test_bench_command_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval.json"
    main(["--eval", "--sizes", "300", "--stores", "sqlite", "--rankers", "bm25,default",
          "--questions", "5", "--json", str(out)])  # fmt: skip
    import json

    rows = json.loads(out.read_text())["rows"]
    assert {(r["store"], r["ranker"]) for r in rows} == {("python", "bm25"), ("sqlite", "default")}
    assert all({"r@5", "r@10", "r@25", "p50_ms", "p95_ms", "p99_ms"} <= set(r) for r in rows)
    assert "evidence recall" in capsys.readouterr().out
