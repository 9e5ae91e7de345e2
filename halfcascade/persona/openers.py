"""A companion's signature openers: what it usually opens a reply with.

Short interjections and acknowledgements ("Woof!", "Oh, hi!", "Hehe, yes!"). The persona's
spoken style asks the model to open with one of them where it fits, and a phrase cache
(:class:`~halfcascade.speech.PhraseCache`) plays them the moment they are written. A persona
file lists its own (``openers = [...]``); without the field, the defaults below follow the
character, for English personas (``openers = []`` turns them off).
"""

from __future__ import annotations

from ..speech.openers import normalize_phrase, phrase_words

__all__ = ["MAX_OPENERS", "MAX_OPENER_WORDS", "check_openers", "default_openers"]

MAX_OPENERS = 24
MAX_OPENER_WORDS = 5
_MAX_CHARS = 40

_COMMON = ("Oh, hi!", "Hehe, yes!", "Ooh!", "Aw,", "Hmm,", "Oh no!", "Okay!")
_BY_CHARACTER: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("dog", "puppy", "pup", "retriever", "terrier", "spaniel", "poodle", "corgi", "hound"),
        ("Woof!", "Yay!", "Yes, yes!", *_COMMON),
    ),
    (("cat", "kitten", "kitty"), ("Meow!", "Mrrp?", "Purr...", *_COMMON)),
    (("bird", "parrot", "owl", "chick"), ("Tweet!", "Squawk!", "Hoo!", *_COMMON)),
    (("dragon", "dino", "monster"), ("Rawr!", "Heh,", "Yes!", *_COMMON)),
    (("robot", "android", "bot"), ("Beep boop!", "Affirmative!", "Processing...", *_COMMON)),
)
_GENERIC = ("Yes!", "Wow!", "Really?", "Of course!", *_COMMON)


def _short(text: str) -> str:
    """``repr(text)``, cut to about 60 characters (openers are short; bad input may not be)."""
    return repr(text) if len(text) <= 60 else f"{text[:57]!r}..."


def default_openers(character: str, language: str = "en") -> tuple[str, ...]:
    """Openers for a character when its persona lists none (English only; else none)."""
    if language.split("-")[0].lower() != "en":
        return ()
    words = set(phrase_words(character))
    for keys, openers in _BY_CHARACTER:
        if words & set(keys):
            return openers
    return _GENERIC


def check_openers(openers: tuple[str, ...]) -> tuple[str, ...]:
    """``openers`` stripped, or ``ValueError`` saying what to fix."""
    if len(openers) > MAX_OPENERS:
        raise ValueError(f"expected at most {MAX_OPENERS} openers, got {len(openers)}")
    seen: dict[str, str] = {}
    out = []
    for raw in openers:
        opener = raw.strip()
        words = phrase_words(opener)
        if not words or len(words) > MAX_OPENER_WORDS or len(opener) > _MAX_CHARS:
            raise ValueError(
                f"expected short openers of 1 to {MAX_OPENER_WORDS} words and at most "
                f"{_MAX_CHARS} characters, got {_short(raw)}"
            )
        key = normalize_phrase(opener)
        if key in seen:
            raise ValueError(f"openers {_short(seen[key])} and {_short(raw)} are the same words")
        seen[key] = raw
        out.append(opener)
    return tuple(out)
