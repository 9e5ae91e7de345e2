"""Turn a written phrase into what the TTS should say: no markdown, no emoji.

The transcript keeps the model's raw text; only the copy sent to the TTS is cleaned. The
patterns are livekit's own (``livekit.agents.voice.transcription.filters``), applied to a
whole phrase at once: livekit's streaming filters hold back every punctuation mark until
the next token arrives, which delays the first phrase for nothing once it is complete.
"""

from __future__ import annotations

import re

from livekit.agents.voice.transcription import filters as _lk

__all__ = ["spoken_text"]

_SPACES = re.compile(r"[ \t]{2,}")


def spoken_text(text: str, *, line_start: bool = True) -> str:
    """Strip markdown and emoji from ``text``.

    Args:
        text: a complete phrase (markup that opens in it also closes in it).
        line_start: whether ``text`` begins a line, so line markup (``# ``, ``- ``, ``> ``)
            is recognised at its start.
    """
    lines = text.split("\n")
    out: list[str] = []
    for n, line in enumerate(lines):
        if n > 0 or line_start:
            for pattern, repl in _lk.FULL_LINE_PATTERNS:
                line = pattern.sub(repl, line)
            for pattern, repl in _lk.LINE_PATTERNS:
                line = pattern.sub(repl, line)
        if _lk.INLINE_MARKERS.search(line):
            for pattern, repl in _lk.INLINE_PATTERNS:
                line = pattern.sub(repl, line)
        out.append(line)
    cleaned = _lk.EMOJI_PATTERN.sub("", "\n".join(out))
    return _SPACES.sub(" ", cleaned)
