"""Small text helpers shared by the stores, the extractor and forgetting."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["content_words", "matches_about", "search_terms", "stem"]

_WORD = re.compile(r"[a-z0-9]+")

# words that carry no topic: dropped from queries and from "forget ..." requests
_STOP = frozenset(
    """a about after again all also am an and any are as at be been before being but by can
    could did do does doing don down for from had has have having he her here hers him his how
    i if in into is it its itself just me more most my myself no nor not now of off on once
    only or other our ours out over own same she should so some such than that the their them
    then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours user users s t re ve ll d m
    forget remember please said told tell thing things stuff name named called call know
    anymore""".split()
)


# what a "forget ..." request may be made of besides its topic ("forget my name")
_FILLER = frozenset("a about all an everything i know me my of please that the to what you".split())


def stem(word: str) -> str:
    """A crude English stem: enough for ``likes``/``like`` and ``dogs``/``dog``."""
    for suffix in ("ing", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> list[str]:
    """The topic words of ``text``: lowercase, stop words dropped, in order, unique."""
    words = _WORD.findall(text.lower().replace("'s ", " "))
    return list(dict.fromkeys(w for w in words if w not in _STOP))


def search_terms(text: str, *, limit: int = 12) -> list[str]:
    """Alphanumeric terms for a full-text query (safe to quote into FTS5 or tsquery)."""
    return content_words(text)[:limit]


def matches_about(about: str, texts: Iterable[str]) -> bool:
    """Whether every topic word of ``about`` occurs (stemmed) in ``texts`` together."""
    words = content_words(about) or [
        w for w in _WORD.findall(about.lower().replace("'s ", " ")) if w not in _FILLER
    ]
    wanted = {stem(w) for w in words}
    if not wanted:
        return False
    have = {stem(w) for t in texts for w in _WORD.findall(t.lower())}
    return wanted <= have
