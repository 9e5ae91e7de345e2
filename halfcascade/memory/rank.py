"""How recall ranks: one Python implementation that both stores feed.

The stores keep an inverted index of their own (``postings``: user, term, memory,
weight) with per-user term counts, instead of FTS5 or ``tsvector``. That buys three things
the built-in engines could not give together:

- **per-user statistics**: a word's rarity is counted in the user's own memories, so one
  user's ranking never depends on another user's memories;
- **conversational context**: a match lends part of its score to the memories written
  right after it, so a reply is found by the words of what it answers ("running" finds
  "This has been great for my mental health" written after it); the words of
  ``Memory.context`` are indexed with the memory at a lower weight (BM25F);
- **the same ranking on SQLite and PostgreSQL**: the same terms (``_text.index_terms``),
  the same weights (:func:`posting_weights`), the same SQL shape and the same re-ranking
  (:func:`rerank`), so the two stores return the same results.

A recall sums ``weight * idf`` over the query's terms for the best ``pool`` memories in
SQL, then :func:`rerank` blends in semantic similarity (with an embedder), spreads the
results over different memories (a near-duplicate of a chosen memory is pushed down, so
a question whose answer spans several memories sees several), and breaks ties by
importance, then recency.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError

__all__ = [
    "Candidate",
    "Ranking",
    "idf",
    "posting_weights",
    "rerank",
    "term_id",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Ranking:
    """Knobs of recall ranking (defaults chosen on ``halfcascade bench memory --eval``).

    Attributes:
        context_turns: how many memories written right after a match share its score (a
            reply's topic is usually in the turns before it); 0 = off. Memories with a
            key are self-contained facts and take no part.
        context_weight: the share they get (also the weight of ``Memory.context`` words).
        context_gap: seconds between two memories' ``updated_at`` beyond which they are
            not one conversation.
        diversity: 0 = plain relevance order; higher pushes near-duplicates of already
            chosen memories down.
        semantic: share of cosine similarity in the score when the store has an embedder.
        pool: candidates ranked in SQL and re-ranked in Python (at least 4 x limit).
        k1, b, avg_terms: BM25 term saturation and length normalisation.
    """

    context_turns: int = 2
    context_weight: float = 0.7
    context_gap: float = 1800.0
    diversity: float = 0.5
    semantic: float = 0.15
    pool: int = 40
    k1: float = 1.2
    b: float = 0.75
    avg_terms: float = 10.0

    def __post_init__(self) -> None:
        if not 0 <= self.context_turns <= 8 or self.context_gap < 0:
            raise ConfigError("Ranking.context_turns must be 0..8 and context_gap >= 0")
        if not 0 <= self.context_weight <= 1 or not 0 <= self.semantic <= 1:
            raise ConfigError("Ranking.context_weight and Ranking.semantic must be within 0..1")
        if self.diversity < 0 or self.pool < 1 or self.k1 <= 0 or not 0 <= self.b <= 1:
            raise ConfigError("Ranking: diversity >= 0, pool >= 1, k1 > 0, 0 <= b <= 1")
        if self.avg_terms <= 0:
            raise ConfigError("Ranking.avg_terms must be > 0")


def term_id(term: str) -> int:
    """A stable signed 64-bit id for ``term`` (postings store ids, not strings)."""
    return _IDS[term]


def _hash_id(term: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(term.encode(), digest_size=8).digest(), "big", signed=True
    )


class _Ids(dict[str, int]):
    """term -> id, a bounded memo of :func:`_hash_id`."""

    def __missing__(self, term: str) -> int:
        tid = _hash_id(term)
        if len(self) < 200_000:
            self[term] = tid
        return tid


_IDS = _Ids()


def posting_weights(
    terms: Sequence[str], context: Sequence[str], ranking: Ranking
) -> dict[int, float]:
    """BM25F term weights of one memory: its own terms, ``Memory.context`` terms lower."""
    tf: dict[str, float] = dict.fromkeys(terms, 0.0)
    for term in terms:
        tf[term] += 1.0
    cw = ranking.context_weight
    for term in context:
        tf[term] = tf.get(term, 0.0) + cw
    length = len(terms) + cw * len(context)
    norm = ranking.k1 * (1 - ranking.b + ranking.b * length / ranking.avg_terms)
    k1 = ranking.k1 + 1
    ids = _IDS
    return {ids[t]: f * k1 / (f + norm) for t, f in tf.items()}


def spread(
    scores: dict[int, float],
    found: Sequence[tuple[int, int, float]],
    following: dict[int, tuple[int, float]],
    ranking: Ranking,
) -> dict[int, float]:
    """Scores after each match lends ``context_weight`` of its score to the memories
    written right after it (``found``: doc, seq, time of matches; ``following``: seq ->
    doc, time of the memories after them)."""
    out = dict(scores)
    for doc, seq, at in found:
        for step in range(1, ranking.context_turns + 1):
            nxt = following.get(seq + step)
            if nxt is not None and abs(nxt[1] - at) <= ranking.context_gap:
                out[nxt[0]] = out.get(nxt[0], 0.0) + ranking.context_weight * scores[doc]
    return out


def idf(docs: int, df: int) -> float:
    """BM25 inverse document frequency of a term in ``df`` of the user's ``docs`` memories."""
    return math.log(1.0 + (docs - df + 0.5) / (df + 0.5))


@dataclass(slots=True)
class Candidate:
    """A memory found in SQL (its row), with its lexical score, terms (repeats allowed)
    and optional vector."""

    row: tuple[Any, ...]
    lexical: float
    terms: Sequence[str]
    importance: float
    updated_at: float
    vector: np.ndarray[Any, Any] | None = None


def rerank(
    candidates: Iterable[Candidate],
    ranking: Ranking,
    limit: int,
    query_vector: np.ndarray[Any, Any] | None = None,
    query_terms: Iterable[str] = (),
) -> list[tuple[Candidate, float]]:
    """The best ``limit`` candidates with their scores: fused, diversified, tie-broken.

    Two candidates are near-duplicates by the words they share besides ``query_terms``
    (every candidate has those).
    """
    pool = list(candidates)
    if not pool:
        return []
    top = max(c.lexical for c in pool) or 1.0
    scores: list[float] = []
    for c in pool:
        score = c.lexical / top
        if query_vector is not None and c.vector is not None:
            cosine = float(c.vector @ query_vector)
            score = (1 - ranking.semantic) * score + ranking.semantic * max(cosine, 0.0)
        scores.append(score)
    order = sorted(
        range(len(pool)),
        key=lambda i: (-round(scores[i], 4), -pool[i].importance, -pool[i].updated_at),
    )
    if ranking.diversity <= 0:
        return [(pool[i], scores[i]) for i in order[:limit]]
    # a memory far down the list does not climb past many better ones: diversify the head
    head = order[: 2 * limit + 8]
    return _diversify(pool, scores, head, ranking.diversity, limit, frozenset(query_terms))


def _diversify(
    pool: list[Candidate],
    scores: list[float],
    order: list[int],
    weight: float,
    limit: int,
    query: frozenset[str],
) -> list[tuple[Candidate, float]]:
    # greedy maximal marginal relevance over word overlap: a memory that mostly repeats
    # one already chosen loses part of its score, so the next distinct answer can surface.
    # The query's words and words in almost every candidate (a speaker's name) say nothing
    # about whether two memories repeat each other. A candidate's value after some choices
    # is ``score * (1 - weight * most overlap with a chosen one)``; each step takes the
    # best value, ties to the earlier in ``order``. The overlaps of all pairs come from
    # one matrix product (the head is small: at most 2 x limit + 8 memories).
    n = len(order)
    column: dict[str, int] = {}
    add = column.setdefault
    cols = np.fromiter([add(t, len(column)) for i in order for t in pool[i].terms], dtype=np.intp)
    rows = np.repeat(np.arange(n), [len(pool[i].terms) for i in order])
    words = np.zeros((n, len(column)), dtype=np.float64)
    words[rows, cols] = 1.0
    keep = words.sum(axis=0) * 10 <= n * 9
    for t in query:
        c = column.get(t)
        if c is not None:
            keep[c] = False
    words = words[:, keep]
    shared = words @ words.T
    sizes = words.sum(axis=1)
    smaller = np.minimum(sizes[:, None], sizes[None, :])
    overlap = np.divide(shared, smaller, out=np.zeros_like(shared), where=smaller > 0)
    base = np.array([scores[i] for i in order], dtype=np.float64)
    # value of i once j is chosen; min over chosen j == score * (1 - weight * max overlap)
    after = base[:, None] * (1 - weight * overlap)
    value = base.copy()
    chosen: list[tuple[Candidate, float]] = []
    for _ in range(min(limit, n)):
        best = int(value.argmax())
        chosen.append((pool[order[best]], float(value[best])))
        np.minimum(value, after[:, best], out=value)
        value[best] = -np.inf
    return chosen
