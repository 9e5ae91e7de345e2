"""Evidence recall of a store on the synthetic conversations, through the public API only.

Every turn is stored with ``remember_many`` (one batch per user), every question asked
with ``recall(user_id, question, limit=max(ks))``; a question's evidence turn counts as
found at ``k`` when it is among the first ``k`` results. ``PlainBM25`` is the baseline:
textbook BM25 over lowercase words with a common English stop list, no stemming, no
context, run in the same process on the same data.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ...memory import Memory
from .corpus import Conversation

__all__ = ["EvalResult", "PlainBM25", "evaluate"]

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with you your yours yourself""".split()
)


class _Recaller(Protocol):
    async def remember_many(self, user_id: str, memories: Sequence[Memory]) -> Any: ...

    async def recall(self, user_id: str, query: str, *, limit: int = 5) -> list[Memory]: ...


@dataclass
class EvalResult:
    """Recall@k (share of evidence turns found) overall and per question kind, and timings."""

    recall: dict[int, float]
    by_kind: dict[str, dict[int, float]]
    evidence: int
    questions: int
    search_ms: list[float] = field(repr=False)
    ingest_s: float = 0.0
    memories: int = 0

    def percentile(self, q: float) -> float:
        """A search-latency percentile in ms (``q`` in 0..100)."""
        if not self.search_ms:
            return 0.0
        ordered = sorted(self.search_ms)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]

    def row(self) -> dict[str, Any]:
        """A flat summary for tables and JSON."""
        out: dict[str, Any] = {f"r@{k}": round(100 * v, 1) for k, v in self.recall.items()}
        out.update(
            evidence=self.evidence,
            p50_ms=round(self.percentile(50), 2),
            p95_ms=round(self.percentile(95), 2),
            p99_ms=round(self.percentile(99), 2),
            ingest_per_s=round(self.memories / self.ingest_s) if self.ingest_s else 0,
        )
        return out


async def evaluate(
    store: _Recaller,
    conversations: Iterable[Conversation],
    *,
    ks: Sequence[int] = (5, 10, 25),
    max_questions: int | None = None,
    batch: int = 5000,
    timed_limit: int = 10,
) -> EvalResult:
    """Store every turn, ask every question, count evidence found at each ``k``.

    Each question is asked twice: with ``limit=max(ks)`` for recall, and timed with
    ``limit=timed_limit`` (what a companion asks for) for latency.
    """
    found: dict[int, int] = dict.fromkeys(ks, 0)
    kind_found: dict[str, Counter[int]] = defaultdict(Counter)
    kind_total: Counter[str] = Counter()
    total = asked = stored = 0
    timings: list[float] = []
    ingest = 0.0
    for conv in conversations:
        memories = [
            Memory(text=conv.memory_text(i), id=f"t{i}", kind="note", updated_at=t.at)
            for i, t in enumerate(conv.turns)
        ]
        start = time.perf_counter()
        for i in range(0, len(memories), batch):
            await store.remember_many(conv.user_id, memories[i : i + batch])
        ingest += time.perf_counter() - start
        stored += len(memories)
        questions = conv.questions[:max_questions] if max_questions else conv.questions
        if questions:  # warm caches (pages, prepared statements) before timing
            await store.recall(conv.user_id, questions[0].text, limit=timed_limit)
        for q in questions:
            result = await store.recall(conv.user_id, q.text, limit=max(ks))
            start = time.perf_counter()
            await store.recall(conv.user_id, q.text, limit=timed_limit)
            timings.append((time.perf_counter() - start) * 1000)
            ranks = {m.id: r for r, m in enumerate(result)}
            asked += 1
            for e in q.evidence:
                total += 1
                kind_total[q.kind] += 1
                rank = ranks.get(f"t{e}")
                for k in ks:
                    if rank is not None and rank < k:
                        found[k] += 1
                        kind_found[q.kind][k] += 1
    return EvalResult(
        recall={k: found[k] / max(total, 1) for k in ks},
        by_kind={
            kind: {k: kind_found[kind][k] / n for k in ks} for kind, n in sorted(kind_total.items())
        },
        evidence=total,
        questions=asked,
        search_ms=timings,
        ingest_s=ingest,
        memories=stored,
    )


class PlainBM25:
    """The baseline: in-memory BM25 per user (k1=1.2, b=0.75), no stemming, no context."""

    def __init__(self) -> None:
        self._docs: dict[str, list[tuple[Memory, Counter[str], int]]] = defaultdict(list)
        self._df: dict[str, Counter[str]] = defaultdict(Counter)
        self._index: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        self._words: Counter[str] = Counter()

    async def remember_many(self, user_id: str, memories: Sequence[Memory]) -> None:
        """Index ``memories`` (no replacement: the eval writes each id once)."""
        docs, df, index = self._docs[user_id], self._df[user_id], self._index[user_id]
        for memory in memories:
            words = [w for w in _WORD.findall(memory.text.lower()) if w not in _STOP]
            tf = Counter(words)
            for w in tf:
                df[w] += 1
                index[w].append(len(docs))
            docs.append((memory, tf, len(words)))
            self._words[user_id] += len(words)

    async def recall(self, user_id: str, query: str, *, limit: int = 5) -> list[Memory]:
        """The ``limit`` best memories by BM25."""
        docs, df, index = self._docs[user_id], self._df[user_id], self._index[user_id]
        if not docs:
            return []
        avg = self._words[user_id] / len(docs) or 1.0
        scores: dict[int, float] = defaultdict(float)
        for w in dict.fromkeys(_WORD.findall(query.lower())):
            if w in _STOP or w not in df:
                continue
            idf = math.log(1 + (len(docs) - df[w] + 0.5) / (df[w] + 0.5))
            for i in index[w]:
                _, tf, n = docs[i]
                f = tf[w]
                scores[i] += idf * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * n / avg))
        best = sorted(scores, key=lambda i: -scores[i])[:limit]
        return [docs[i][0] for i in best]

    async def aclose(self) -> None:
        """Nothing to release."""
