"""Recall on the second, independently written corpus (two friends catching up).

The ranking was tuned on ``corpus.py``; this checks on a corpus written apart from it, in
another style (LoCoMo-like: both speakers, echoing replies, topics that come back), that
the default ranking still beats plain BM25 in the same run, through the public API only.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

import pytest

from halfcascade.bench.memory import main
from halfcascade.bench.memory.corpus_dialogue import dialogues
from halfcascade.bench.memory.evaluate import EvalResult, PlainBM25, evaluate
from halfcascade.memory import Memory, PostgresMemoryStore, Ranking, SQLiteMemoryStore
from halfcascade.testing.postgres import TemporaryPostgres

SLICE = {"users": 2, "turns": 500, "seed": 7}


def corpus() -> list:  # type: ignore[type-arg]
    return list(dialogues(SLICE["users"], SLICE["turns"], seed=SLICE["seed"]))


async def on_sqlite(tmp_path: Path, ranking: Ranking | None = None) -> EvalResult:
    async with SQLiteMemoryStore(tmp_path / f"{uuid.uuid4().hex}.db", ranking=ranking) as s:
        return await evaluate(s, corpus())


def test_dialogues_are_deterministic_two_speaker_and_annotated() -> None:
    a, b = corpus(), corpus()
    assert [(c.turns, c.questions) for c in a] == [(c.turns, c.questions) for c in b]
    for conv in a:
        assert len(conv.turns) == SLICE["turns"]
        assert len({t.speaker for t in conv.turns}) == 2
        assert len({t.session for t in conv.turns}) > 5
        assert all(0 <= e < len(conv.turns) for q in conv.questions for e in q.evidence)
    kinds = Counter(q.kind for c in a for q in c.questions)
    assert set(kinds) == {"single", "multi", "temporal", "open"}
    multi = [q for c in a for q in c.questions if q.kind == "multi"]
    assert all(len(q.evidence) >= 2 for q in multi)
    # different seeds give different conversations
    other = list(dialogues(1, SLICE["turns"], seed=SLICE["seed"] + 1))
    assert other[0].turns != a[0].turns


async def test_default_ranking_beats_plain_bm25_on_dialogues(tmp_path: Path) -> None:
    baseline = await evaluate(PlainBM25(), corpus())
    ours = await on_sqlite(tmp_path)
    assert ours.evidence == baseline.evidence > 100
    assert ours.recall[10] > baseline.recall[10]
    assert ours.recall[25] > baseline.recall[25]
    # the turn that tells the news is found as well as BM25 finds it, give or take
    assert ours.by_kind["temporal"][10] >= baseline.by_kind["temporal"][10] - 0.15


async def test_recall_returns_stored_turns_through_the_public_api(tmp_path: Path) -> None:
    conv = corpus()[0]
    async with SQLiteMemoryStore(tmp_path / "one.db") as store:
        for i in range(150):
            turn = conv.turns[i]
            await store.remember(
                conv.user_id, Memory(text=conv.memory_text(i), id=f"t{i}", updated_at=turn.at)
            )
        question = next(q for q in conv.questions if q.kind == "temporal" and max(q.evidence) < 150)
        found = await store.recall(conv.user_id, question.text, limit=10)
    assert found and all(m.id.startswith("t") for m in found)
    assert {f"t{e}" for e in question.evidence} & {m.id for m in found}


def test_bench_command_runs_the_dialogue_corpus(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    main(["--eval", "--corpus", "dialogue", "--sizes", "300", "--stores", "sqlite",
          "--rankers", "bm25,default", "--questions", "4", "--json", str(out)])  # fmt: skip
    data = json.loads(out.read_text())
    assert data["corpus"] == "dialogue"
    assert {(r["store"], r["ranker"], r["corpus"]) for r in data["rows"]} == {
        ("python", "bm25", "dialogue"),
        ("sqlite", "default", "dialogue"),
    }


@pytest.mark.contract
async def test_postgres_ranks_dialogues_like_sqlite(
    postgres: TemporaryPostgres, tmp_path: Path
) -> None:
    if not postgres.running:
        await postgres.astart()
    lite = await on_sqlite(tmp_path)
    async with PostgresMemoryStore(postgres.dsn, table=f"dlg_{uuid.uuid4().hex[:12]}") as pg:
        theirs = await evaluate(pg, corpus())
    for k in (5, 10, 25):
        assert abs(theirs.recall[k] - lite.recall[k]) <= 0.02
