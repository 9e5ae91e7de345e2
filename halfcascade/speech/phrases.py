"""First-phrase chunking: when a piece of streamed text is ready to be spoken.

livekit's sentence tokenizers hold the first sentence back until it has 20 characters plus
10 characters of look-ahead, so a short companion reply ("Oh, hi! I missed you.") reaches
the TTS only once the model has written most of it. :class:`PhraseChunker` releases the
first phrase at the first clause boundary (or after a few words), as soon as the token
that closes it arrives, and then releases whole sentences, which keeps prosody natural
while the first phrase is already playing.

Written here rather than taken from ``livekit.agents.tokenize`` because none of its
tokenizers has a distinct, early first chunk; the rules are small and fully tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["PhraseChunker", "Phrasing"]

# marks that end a clause as soon as they are seen
_ALWAYS_CUT = frozenset("!?;\u2026\u2014\u2013")  # ... and em/en dashes
# marks that may be part of a number, an abbreviation or a URL
_MAYBE_CUT = frozenset(",.:")
_SENTENCE_END = frozenset(".!?…")
# closing characters that belong to the phrase they follow
_CLOSERS = frozenset("\"')]}*_\u201d\u2019\u00bb")  # and curly quotes, guillemet
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st sr jr vs etc e.g i.e prof mt no approx dept est".split()
)
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Phrasing:
    """How streamed text is cut into TTS requests.

    Attributes:
        first_max_words: release the first phrase after this many words even without a
            clause mark; ``None`` waits for a clause mark.
        first_min_words: a clause mark releases the first phrase once it has this many words.
        min_sentence_chars: later sentences shorter than this are merged with the next.
        max_chars: any chunk is cut at a word boundary past this length.
    """

    first_max_words: int | None = 4
    first_min_words: int = 1
    min_sentence_chars: int = 20
    max_chars: int = 250

    def __post_init__(self) -> None:
        if self.first_min_words < 1:
            raise ConfigError("Phrasing.first_min_words must be >= 1")
        if self.first_max_words is not None and self.first_max_words < self.first_min_words:
            raise ConfigError(
                "Phrasing.first_max_words must be >= first_min_words (or None to wait for "
                "a clause mark)"
            )
        if self.max_chars < 20:
            raise ConfigError("Phrasing.max_chars must be >= 20")


class PhraseChunker:
    """Incremental chunker: ``push`` text deltas, get back the phrases ready to speak.

    ``flush`` returns what is left and makes the next phrase a *first* phrase again (a
    flush marks a pause in the text, after which latency matters as much as at the start).
    """

    def __init__(self, phrasing: Phrasing | None = None) -> None:
        self._p = phrasing or Phrasing()
        self._buf = ""
        self._first = True

    def push(self, delta: str) -> list[str]:
        """Add a text delta; return the phrases it completed, in order."""
        self._buf += delta
        out: list[str] = []
        while True:
            cut = self._first_cut() if self._first else self._sentence_cut()
            if cut is None:
                return out
            phrase, self._buf = self._buf[:cut], self._buf[cut:]
            if phrase.strip():
                out.append(phrase)
                self._first = False

    def flush(self) -> str | None:
        """Return the remaining text (``None`` if blank) and reset to a first phrase."""
        rest, self._buf = self._buf, ""
        self._first = True
        return rest if rest.strip() else None

    def _first_cut(self) -> int | None:
        buf, p = self._buf, self._p
        words = 0
        in_word = False
        for i, ch in enumerate(buf):
            if ch.isspace():
                if in_word:
                    in_word = False
                    if p.first_max_words is not None and words >= p.first_max_words:
                        return i if not _markup_open(buf[:i]) else None
                continue
            if not in_word:
                in_word = True
                words += 1
            if words >= p.first_min_words and _is_clause_end(buf, i):
                end = _extend_closers(buf, i + 1)
                if not _markup_open(buf[:end]):
                    return end
        return self._overflow_cut()

    def _sentence_cut(self) -> int | None:
        buf, p = self._buf, self._p
        for i, ch in enumerate(buf):
            is_end = ch == "\n" or (
                ch in _SENTENCE_END and i + 1 < len(buf) and _is_clause_end(buf, i)
            )
            if not is_end:
                continue
            end = _extend_closers(buf, i + 1)
            if len(buf[:end].strip()) >= p.min_sentence_chars and not _markup_open(buf[:end]):
                return end
        return self._overflow_cut()

    def _overflow_cut(self) -> int | None:
        if len(self._buf) <= self._p.max_chars:
            return None
        cut = self._buf.rfind(" ", 0, self._p.max_chars)
        return cut if cut > 0 else self._p.max_chars


def _is_clause_end(buf: str, i: int) -> bool:
    ch = buf[i]
    if ch in _ALWAYS_CUT:
        return True
    if ch not in _MAYBE_CUT:
        return False
    nxt = buf[i + 1] if i + 1 < len(buf) else None
    if nxt is not None and not nxt.isspace() and nxt not in _CLOSERS:
        return False  # "3.5", "1,000", "e.g.", "12:30", "example.com"
    prev = buf[i - 1] if i > 0 else ""
    if prev.isdigit() and nxt is None:
        return False  # "3." may become "3.5": wait for the next token
    if ch == ".":
        word = _WORD.findall(buf[: i + 1])
        last = word[-1].rstrip(".").lower() if word else ""
        if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
            return False
    return True


def _extend_closers(buf: str, end: int) -> int:
    while end < len(buf) and buf[end] in _CLOSERS:
        end += 1
    return end


def _markup_open(text: str) -> bool:
    """Whether a cut here would split markdown emphasis, code or a link."""
    return (
        text.count("**") % 2 == 1
        or text.count("`") % 2 == 1
        or text.count("[") > text.count("]")
        or text.count("(") > text.count(")")
    )
