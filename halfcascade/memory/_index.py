"""What both stores write for a batch of memories: terms and posting weights.

Kept apart from the SQL so that SQLite and PostgreSQL index exactly alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import chain
from typing import NamedTuple

from ._text import index_terms
from .rank import Ranking, posting_weights, term_id
from .types import Memory

__all__ = ["Indexed", "dedupe", "document_frequencies", "index", "join_terms", "split_terms"]


class Indexed(NamedTuple):
    """A memory's terms, its ``Memory.context`` terms and its posting weights by term id."""

    terms: tuple[str, ...]
    context: tuple[str, ...]
    weights: dict[int, float]


def index(memory: Memory, ranking: Ranking) -> Indexed:
    """The index entry of ``memory``."""
    terms = tuple(index_terms(memory.text))
    context = tuple(index_terms(memory.context)) if memory.context else ()
    return Indexed(terms, context, posting_weights(terms, context, ranking))


def stored_term_ids(terms: str, context: str) -> set[int]:
    """The term ids a stored memory has postings for (from its ``terms``/``cterms``)."""
    return {term_id(t) for t in (*split_terms(terms), *split_terms(context))}


def document_frequencies(indexed: Sequence[Indexed]) -> Counter[int]:
    """How many of ``indexed`` have each term."""
    return Counter(chain.from_iterable(item.weights for item in indexed))


def dedupe(memories: Sequence[Memory]) -> list[Memory]:
    """The batch with only the last write per id and per key (as if written one by one)."""
    seen: set[tuple[str, str]] = set()
    out: list[Memory] = []
    for memory in reversed(memories):
        slots = {("id", memory.id)} | ({("key", memory.key)} if memory.key else set())
        if slots & seen:
            continue
        seen |= slots
        out.append(memory)
    out.reverse()
    return out


def join_terms(terms: Sequence[str]) -> str:
    """Terms as stored in a text column."""
    return " ".join(terms)


def split_terms(stored: str | None) -> tuple[str, ...]:
    """Terms from :func:`join_terms`."""
    return tuple(stored.split()) if stored else ()
