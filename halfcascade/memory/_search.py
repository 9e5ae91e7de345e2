"""The store-independent half of a recall: the query, its filters, embeddings, candidates.

Rows passed around here have the layout of ``_sqlite_sql.COLUMNS`` (both stores select the
same columns): ``doc, id, key, kind, text, updated_at, importance, context, terms``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._index import split_terms
from ._text import clean_text, query_terms
from .rank import Candidate, Ranking, idf, term_id
from .types import Embedder, Memory, MemoryKind

__all__ = [
    "SCAN_BUDGET",
    "TERM_CAP",
    "Query",
    "SearchPlan",
    "Vectors",
    "embed_blobs",
    "embed_query",
    "row_memory",
    "rows_to_candidates",
]

_KINDS = ("fact", "preference", "note")
_MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Query:
    """A validated recall request."""

    text: str
    terms: tuple[str, ...]
    limit: int
    kinds: tuple[str, ...] | None
    since: float | None
    until: float | None

    @classmethod
    def make(
        cls,
        text: str,
        *,
        limit: int,
        kinds: Sequence[MemoryKind] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Query:
        """Check the arguments of ``recall``/``search``; raises ``ConfigError``."""
        if not isinstance(text, str):
            raise ConfigError(f"recall query must be a str, got {type(text).__name__}")
        if not isinstance(limit, int) or not 1 <= limit <= _MAX_LIMIT:
            raise ConfigError(f"recall limit must be 1 to {_MAX_LIMIT}, got {limit!r}")
        if kinds is not None:
            kinds = tuple(kinds)
            if not kinds or any(k not in _KINDS for k in kinds):
                raise ConfigError(f"recall kinds must be some of {_KINDS}, got {kinds!r}")
        text = clean_text(text)
        return cls(text, tuple(query_terms(text)), limit, kinds, since, until)

    def filter_sql(self, mark: Callable[[int], str], start: int = 0) -> tuple[str, list[Any]]:
        """A ``WHERE`` fragment on alias ``m`` and its parameters (``mark(i)`` numbers them)."""
        parts: list[str] = []
        params: list[Any] = []

        def add(value: Any) -> str:
            params.append(value)
            return mark(start + len(params))

        if self.kinds:
            parts.append(f"m.kind IN ({', '.join(add(k) for k in self.kinds)})")
        if self.since is not None:
            parts.append(f"m.updated_at >= {add(float(self.since))}")
        if self.until is not None:
            parts.append(f"m.updated_at < {add(float(self.until))}")
        return " AND ".join(parts), params

    def accepts(self, row: Sequence[Any]) -> bool:
        """Whether a fetched row passes the filters."""
        if self.kinds and row[3] not in self.kinds:
            return False
        if self.since is not None and row[5] < self.since:
            return False
        return not (self.until is not None and row[5] >= self.until)


#: postings read per recall to find candidates; commoner terms only score the candidates
SCAN_BUDGET = 4000
#: most postings read for one term (its most recent): bounds a query of only common words
TERM_CAP = 4000


class SearchPlan:
    """Term ids, their weights for this user, and the candidate pool size."""

    def __init__(self, query: Query, ranking: Ranking, docs: int) -> None:
        self.term_ids = [term_id(t) for t in query.terms]
        self.pool = max(ranking.pool, 4 * query.limit)
        self._docs = docs

    def split(self, df: dict[int, int]) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """``(term id, idf)`` of the user's terms, split into scanned and scoring-only ones.

        The rarest terms are scanned (they find the candidates) until ``SCAN_BUDGET``
        postings; commoner ones only add to the score of candidates already found, so a
        word in every memory (the user's name) costs a few lookups, not a full scan.
        """
        have = sorted((df[t], t) for t in self.term_ids if df.get(t))
        scan: list[tuple[int, float]] = []
        rest: list[tuple[int, float]] = []
        read = 0
        for n, tid in have:
            pair = (tid, idf(self._docs, n))
            if not scan or read + n <= SCAN_BUDGET:
                scan.append(pair)
                read += n
            else:
                rest.append(pair)
        return scan, rest


def row_memory(row: Sequence[Any]) -> Memory:
    """The :class:`Memory` of a row."""
    return Memory(
        id=row[1],
        key=row[2],
        kind=row[3],
        text=row[4],
        updated_at=row[5],
        importance=row[6],
        context=row[7],
    )


def rows_to_candidates(
    scored: Sequence[tuple[tuple[Any, ...], float]], vectors: dict[int, Any]
) -> list[Candidate]:
    """Candidates for :func:`~halfcascade.memory.rank.rerank`."""
    return [Candidate(r, s, split_terms(r[8]), r[6], r[5], vectors.get(r[0])) for r, s in scored]


async def embed_blobs(embedder: Embedder, texts: Sequence[str]) -> list[bytes | None]:
    """Unit-length float32 vectors of ``texts`` as bytes."""
    matrix = _unit(np.asarray(await embedder.embed(list(texts)), dtype=np.float32))
    if matrix.ndim != 2 or matrix.shape[0] != len(texts):
        raise ConfigError("Embedder.embed must return one vector per text")
    return [row.tobytes() for row in matrix]


async def embed_query(embedder: Embedder, text: str) -> np.ndarray[Any, Any]:
    """The unit-length float32 vector of a query."""
    matrix = _unit(np.asarray(await embedder.embed([text]), dtype=np.float32))
    vector: np.ndarray[Any, Any] = matrix[0]
    return vector


def _unit(matrix: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    if matrix.ndim != 2:
        raise ConfigError("Embedder.embed must return a list of equal-length vectors")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: np.ndarray[Any, Any] = matrix / np.where(norms == 0, 1.0, norms)
    return unit


@dataclass(slots=True)
class _UserVectors:
    seq: int = 0
    dels: int = -1
    docs: list[int] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)
    matrix: np.ndarray[Any, Any] = field(default_factory=lambda: np.zeros((0, 0), np.float32))


class Vectors:
    """Each user's embedding matrix, kept in memory and topped up as memories are added.

    A deletion (``dels`` changed) reloads the user's matrix; additions only load the rows
    written since (``seq``). Thread-safe: both stores' readers share one instance.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[int, _UserVectors] = {}

    def since(self, uid: int, seq: int, dels: int) -> int | None:
        """The seq to load from (0 = everything), or ``None`` when the cache is current."""
        with self._lock:
            have = self._users.get(uid)
        if have is None or have.dels != dels or have.seq > seq:
            return 0
        return None if have.seq == seq else have.seq

    def add(
        self, uid: int, seq: int, dels: int, start: int, rows: Sequence[tuple[int, int, bytes]]
    ) -> None:
        """Store rows ``(doc, seq, blob)`` loaded from ``start``."""
        with self._lock:
            have = self._users.get(uid) if start else None
            if have is None:
                have = self._users[uid] = _UserVectors()
            new = [np.frombuffer(blob, dtype=np.float32) for _, _, blob in rows]
            if new:
                stacked = np.vstack(new)
                have.matrix = np.vstack([have.matrix, stacked]) if have.docs else stacked
                for doc, _, _ in rows:
                    have.index[doc] = len(have.docs)
                    have.docs.append(doc)
            have.seq, have.dels = seq, dels

    def refresh(self, conn: Any, user: Any, loader: Callable[..., Any]) -> dict[int, Any]:
        """Bring the user's matrix up to date with a synchronous ``loader(conn, uid, seq)``."""
        start = self.since(user.uid, user.seq, user.dels)
        if start is not None:
            self.add(user.uid, user.seq, user.dels, start, loader(conn, user.uid, start))
        return self.lookup(user.uid)

    def lookup(self, uid: int) -> dict[int, Any]:
        """A doc -> vector view of the user's matrix."""
        with self._lock:
            have = self._users.get(uid)
        return _View(have) if have is not None else {}

    def nearest(self, uid: int, qvec: Any, k: int, *, exclude: set[int]) -> list[int]:
        """Docs of the ``k`` vectors most similar to ``qvec`` (not in ``exclude``)."""
        with self._lock:
            have = self._users.get(uid)
        if have is None or not have.docs or have.matrix.shape[1] != qvec.shape[0]:
            return []
        sims = have.matrix @ qvec
        take = min(len(sims), k + len(exclude))
        best = np.argpartition(-sims, take - 1)[:take]
        best = best[np.argsort(-sims[best])]
        return [d for d in (have.docs[i] for i in best) if d not in exclude][:k]


class _View(dict[int, Any]):
    """doc -> vector, looked up lazily in a user's matrix."""

    def __init__(self, have: _UserVectors) -> None:
        super().__init__()
        self._have = have

    def get(self, doc: Any, default: Any = None) -> Any:
        i = self._have.index.get(doc)
        return self._have.matrix[i] if i is not None else default
