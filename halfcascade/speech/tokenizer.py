"""A livekit ``SentenceTokenizer`` that speaks the first phrase early.

Plug it wherever livekit takes a sentence tokenizer: ``elevenlabs.TTS(word_tokenizer=...)``
(auto mode sends every token with ``flush: true``), ``tts.StreamAdapter(sentence_tokenizer=...)``
for request/response TTS (OpenAI, Google), or any plugin with a tokenizer option. Tokens are
already cleaned for speech (no markdown, no emoji); blank ones are dropped.
"""

from __future__ import annotations

from livekit.agents import tokenize, utils
from livekit.agents.tokenize.tokenizer import SentenceStream

from ..latency import probe
from .phrases import PhraseChunker, Phrasing
from .spoken import spoken_text

__all__ = ["FirstPhraseTokenizer"]


class FirstPhraseTokenizer(tokenize.SentenceTokenizer):
    """Cuts streamed text into a quick first phrase, then whole sentences.

    Args:
        phrasing: the cutting rules; defaults to :class:`Phrasing`'s.
        clean: strip markdown and emoji from every token (the transcript keeps them).
    """

    def __init__(self, phrasing: Phrasing | None = None, *, clean: bool = True) -> None:
        self._phrasing = phrasing or Phrasing()
        self._clean = clean

    @property
    def phrasing(self) -> Phrasing:
        """The cutting rules in use."""
        return self._phrasing

    def tokenize(self, text: str, *, language: str | None = None) -> list[str]:
        """Cut a complete text the way a stream of it would be cut."""
        chunker = PhraseChunker(self._phrasing)
        pieces = chunker.push(text)
        if (rest := chunker.flush()) is not None:
            pieces.append(rest)
        return [t for t in _clean_all(pieces, self._clean) if t]

    def stream(self, *, language: str | None = None) -> SentenceStream:
        """A stream for one synthesis."""
        return _FirstPhraseStream(self._phrasing, clean=self._clean)


class _FirstPhraseStream(SentenceStream):
    def __init__(self, phrasing: Phrasing, *, clean: bool) -> None:
        super().__init__()
        self._chunker = PhraseChunker(phrasing)
        self._clean = clean
        self._line_start = True
        self._segment_id = utils.shortuuid()

    def push_text(self, text: str) -> None:
        self._check_not_closed()
        for phrase in self._chunker.push(text):
            self._emit(phrase)

    def flush(self) -> None:
        self._check_not_closed()
        if (rest := self._chunker.flush()) is not None:
            self._emit(rest)
        self._segment_id = utils.shortuuid()

    def end_input(self) -> None:
        self.flush()
        self._do_close()

    async def aclose(self) -> None:
        self._do_close()

    def _emit(self, phrase: str) -> None:
        token = spoken_text(phrase, line_start=self._line_start) if self._clean else phrase
        self._line_start = phrase.endswith("\n")
        token = token.strip()
        if token:
            probe.mark("first_tts_text")  # the probe keeps only the first report of a turn
            self._event_ch.send_nowait(tokenize.TokenData(segment_id=self._segment_id, token=token))


def _clean_all(pieces: list[str], clean: bool) -> list[str]:
    out: list[str] = []
    line_start = True
    for piece in pieces:
        out.append((spoken_text(piece, line_start=line_start) if clean else piece).strip())
        line_start = piece.endswith("\n")
    return out
