"""Signature openers: how a reply's opening words are recognised while the text streams in.

A companion opens most replies with a short interjection ("Woof!", "Oh, hi!"). When its
audio is cached, it can play the moment the model has written it, while the rest of the
reply goes to the live TTS. :class:`OpenerMatcher` decides, token by token, whether the
reply opens with one of the cached openers:

- words are compared normalized (case, punctuation and whitespace ignored), so ``"oh hi,"``
  matches the opener ``"Oh, hi!"``;
- the opener must end the reply's first clause (a clause mark or the end of the text after
  it): ``"Woof woof!"`` does not match ``"Woof!"``;
- the longest opener wins, and the decision comes as soon as no other opener can still
  match, so a reply that opens with no opener is released on its first unmatched word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["OpenerDecision", "OpenerMatcher", "normalize_phrase", "phrase_words"]

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_APOSTROPHES = str.maketrans("", "", "'\u2019")
# marks that end a clause (as in the first-phrase chunker) and what may close them
_CLAUSE_MARKS = frozenset(",.!?;:\u2026\u2014\u2013")
_CLOSERS = frozenset("\"')]}*_\u201d\u2019\u00bb")
_MAX_HELD_CHARS = 200  # text with no word in it (emoji, markup) is not held longer than this


def phrase_words(text: str) -> tuple[str, ...]:
    """The words of ``text``, case-folded, without punctuation (``"I'm"`` -> ``"im"``)."""
    return tuple(w.translate(_APOSTROPHES).casefold() for w in _WORD.findall(text))


def normalize_phrase(text: str) -> str:
    """``text`` as the cache compares it: case, punctuation and whitespace ignored."""
    return " ".join(phrase_words(text))


@dataclass(frozen=True, slots=True)
class OpenerDecision:
    """What the matcher decided about a reply's opening.

    Attributes:
        outcome: ``"hit"`` when the reply opens with ``opener``, else ``"miss"``.
        opener: the matched opener, normalized (``""`` on a miss).
        end: how many characters of the text seen so far the opener covers (its trailing
            punctuation included); the rest goes to the live TTS. ``0`` on a miss.
    """

    outcome: Literal["hit", "miss"]
    opener: str = ""
    end: int = 0


_MISS = OpenerDecision("miss")


class OpenerMatcher:
    """Incremental matcher of a reply's opening against a set of openers.

    Args:
        openers: the openers that can be served (any spelling; they are normalized).
    """

    def __init__(self, openers: Iterable[str]) -> None:
        words = {phrase_words(o) for o in openers}
        self._openers = sorted((w for w in words if w), key=len, reverse=True)
        self._buf = ""

    @property
    def text(self) -> str:
        """Everything pushed so far."""
        return self._buf

    def push(self, delta: str) -> OpenerDecision | None:
        """Add a text delta; the decision once it is certain, else ``None``."""
        self._buf += delta
        return self._decide(ended=False)

    def end(self) -> OpenerDecision:
        """The text is complete: decide now."""
        decision = self._decide(ended=True)
        return decision if decision is not None else _MISS

    def _decide(self, *, ended: bool) -> OpenerDecision | None:
        if not self._openers:
            return _MISS
        words = list(_WORD.finditer(self._buf))
        if not words:
            return _MISS if ended or len(self._buf) > _MAX_HELD_CHARS else None
        complete = len(words) if ended or _complete(self._buf, words[-1].end()) else len(words) - 1
        seen = [w.group().translate(_APOSTROPHES).casefold() for w in words]
        best: OpenerDecision | None = None
        pending = False
        for opener in self._openers:  # longest first
            state = self._state(opener, seen, complete, words, ended=ended)
            if state == "pending":
                pending = True
            elif isinstance(state, int) and best is None and not pending:
                best = OpenerDecision("hit", " ".join(opener), state)
        if pending:
            return None
        return best or _MISS

    def _state(
        self,
        opener: tuple[str, ...],
        seen: list[str],
        complete: int,
        words: list[re.Match[str]],
        *,
        ended: bool,
    ) -> Literal["dead", "pending"] | int:
        """``"dead"``, ``"pending"``, or the end offset of a complete match."""
        n = len(opener)
        for i, word in enumerate(opener):
            if i >= len(seen):
                return "dead" if ended else "pending"
            if i < complete:
                if seen[i] != word:
                    return "dead"
            elif not word.startswith(seen[i]):
                return "dead"
        if complete < n:
            return "pending"
        end = words[n - 1].end()
        nxt = words[n].start() if len(words) > n else None
        sep = self._buf[end:nxt]
        if any(ch in _CLAUSE_MARKS for ch in sep):
            return _covered(self._buf, end)
        if nxt is not None:
            return "dead"  # another word follows with no clause mark between
        return _covered(self._buf, end) if ended else "pending"


def _complete(buf: str, end: int) -> bool:
    """Whether the word ending at ``end`` can no longer grow."""
    if end >= len(buf):
        return False
    return not (buf[end] in "'\u2019" and end + 1 == len(buf))


def _covered(buf: str, end: int) -> int:
    """The end of the opener: its word, then spaces, clause marks and closers up to the next
    space after a mark."""
    i = end
    marked = False
    while i < len(buf):
        ch = buf[i]
        if ch in _CLAUSE_MARKS or ch in _CLOSERS:
            marked = marked or ch in _CLAUSE_MARKS
            i += 1
        elif ch.isspace() and not marked:
            i += 1
        else:
            break
    return i if marked else end
