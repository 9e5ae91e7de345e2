"""Text helpers shared by the stores, the extractor and forgetting.

Two jobs:

- :func:`clean_text` makes any ``str`` safe to store: both databases refuse NUL, SQLite's
  driver refuses lone surrogates, and a line separator must not start a new line in the
  rendered notes. Cleaning happens when a :class:`~halfcascade.memory.types.Memory` is
  built, so nothing unstorable ever reaches a queue or a driver.
- :func:`index_terms` / :func:`query_terms` turn text into the terms both stores index,
  with the same code, so SQLite and PostgreSQL rank alike. The stop list only drops
  function words (``after``/``before``/``first`` carry a question, so they stay) and stop
  words are dropped *before* stemming, so a stem can never collide with one (Porter turns
  ``used`` into ``us``); the stemmer is deliberately light and never shortens a word to
  fewer than three letters.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "clean_text",
    "content_words",
    "index_terms",
    "matches_about",
    "query_terms",
    "search_terms",
    "stem",
    "text_problem",
]

_WORD = re.compile(r"[a-z0-9]+")
_TOKEN = re.compile(r"[^\W_]+")
# control characters other than tab and newline; lone surrogates are handled apart
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029\x85]")
# "[shares a photo of a sunset]": the verb of an attachment marker is boilerplate that
# would match every question with "share"/"send" in it; the caption stays searchable
_MARKER = re.compile(
    r"\[\s*(?:shares?|shared|sends?|sent|posts?|posted|attaches?|attached)\s+"
    r"(?:an?\s+|the\s+)?(?:photo|picture|image|pic|video|link|file)s?\b",
    re.IGNORECASE,
)


def clean_text(text: str) -> str:
    """``text`` as storable text: NFC, no NUL/control characters, no lone surrogates.

    Lone surrogates become U+FFFD, NUL and control characters are dropped (tab kept),
    and CR, NEL, U+2028 and U+2029 become ``\\n``. Surrounding whitespace is stripped.
    """
    if _SURROGATE.search(text):
        # a valid pair split in two code points joins up again; a lone half is replaced
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROL.sub(lambda m: "" if m.group() == "\x00" else " ", text)
    return unicodedata.normalize("NFC", text).strip()


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be used as an identifier as it is, or ``None`` if it can."""
    if "\x00" in text:
        return "contains a NUL character"
    if _SURROGATE.search(text):
        return "contains a lone surrogate (text decoded with errors='surrogateescape'?)"
    if _CONTROL.search(text):
        return "contains a control character"
    return None


# function words only: question words, pronouns, auxiliaries, articles, most
# prepositions. Words that carry a question's meaning (after, before, first, last, since,
# never, name, called) are kept.
_STOP = frozenset(
    """a an the i me my mine myself we us our ours ourselves you your yours yourself
    yourselves he him his himself she her hers herself it its itself they them their
    theirs themselves one ones am is are was were be been being have has had having do
    does did doing done will would shall should can could may might must what which who
    whom whose when where why how this that these those and but or nor so yet if then than
    because as while of at by for with about against between into through to from in on
    off over under up down out just very too also only own same such no not some any all
    each both few more most other there here s t re ve ll d m dont doesnt didnt isnt
    wasnt arent werent wont wouldnt couldnt shouldnt cant havent hasnt hadnt im ive youre
    youve theyre theyve weve lets thats whats oh ok okay yeah yes hey hi wow um uh ah hmm
    lol user users""".split()
)

# common irregular forms, so "went"/"go" and "bought"/"buy" meet
_IRREGULAR = {
    "went": "go", "gone": "go", "goes": "go", "ran": "run", "bought": "buy", "brought": "bring",
    "thought": "think", "taught": "teach", "caught": "catch", "made": "make", "took": "take",
    "taken": "take", "gave": "give", "given": "give", "saw": "see", "seen": "see",
    "ate": "eat", "eaten": "eat", "drove": "drive", "driven": "drive", "wrote": "write",
    "written": "write", "met": "meet", "felt": "feel", "got": "get", "gotten": "get",
    "found": "find", "told": "tell", "said": "say", "says": "say", "knew": "know",
    "known": "know", "grew": "grow", "grown": "grow", "began": "begin", "begun": "begin",
    "sang": "sing", "sung": "sing", "swam": "swim", "swum": "swim", "lost": "lose",
    "kept": "keep", "slept": "sleep", "spent": "spend", "sent": "send", "built": "build",
    "paid": "pay", "sold": "sell", "held": "hold", "rode": "ride", "ridden": "ride",
    "flew": "fly", "flown": "fly", "fell": "fall", "fallen": "fall", "chose": "choose",
    "chosen": "choose", "spoke": "speak", "spoken": "speak", "wore": "wear", "worn": "wear",
    "broke": "break", "broken": "break", "children": "child", "women": "woman",
    "men": "man", "mice": "mouse", "feet": "foot", "teeth": "tooth", "became": "become",
    "came": "come", "understood": "understand", "won": "win",
    "drew": "draw", "drawn": "draw", "threw": "throw", "thrown": "throw", "hid": "hide",
    "hidden": "hide", "woke": "wake", "woken": "wake", "fought": "fight", "left": "leave",
    "led": "lead", "fed": "feed", "dug": "dig", "stood": "stand", "sat": "sit",
    "lay": "lie", "heard": "hear", "meant": "mean", "learnt": "learn", "burnt": "burn",
}  # fmt: skip
_VOWELS = frozenset("aeiouy")
_KEEP_S = ("ss", "us", "is", "ous", "ics")
_NOT_PLURAL = frozenset("news lens series species always perhaps".split())


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stem: plurals, ``-ing``, ``-ed``, a final ``e``, common irregulars.

    ``dogs``/``dog``, ``running``/``run``, ``used``/``use``/``using``, ``went``/``go`` meet;
    a stem keeps at least three letters and a vowel, so short words stay as they are.
    """
    if word in _IRREGULAR:
        word = _IRREGULAR[word]
    if len(word) <= 3 or not word.isalpha():
        return word
    base = word
    if word in _NOT_PLURAL:
        return word
    base = word
    if base.endswith(("ies", "ied")) and len(base) > 4:
        base = base[:-3] + "i"  # stories/story, cookies/cookie -> stori, cooki
    elif base.endswith(("sses", "ches", "shes", "xes", "zzes")):
        base = base[:-2]
    elif base.endswith("s") and not base.endswith(_KEEP_S):
        base = base[:-1]
    for suffix in ("ing", "ed"):
        if base.endswith(suffix) and not base.endswith("eed"):
            rest = base[: -len(suffix)]
            if len(rest) == 2 and rest[0] in _VOWELS:
                base = rest + "e"  # used/using -> use, aged -> age
            elif _stem_ok(rest):
                base = rest
                if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                    base = base[:-1]  # running -> run, stopped -> stop (but spell, miss)
            break
    if len(base) > 3 and base[-1] == "y" and base[-2] not in _VOWELS:
        base = base[:-1] + "i"  # story -> stori, happy -> happi (day, play stay)
    if base.endswith("e") and len(base) > 3 and not base.endswith(("ee", "ye")):
        base = base[:-1]  # love/loved/loving -> lov
    return base


def _stem_ok(stem_: str) -> bool:
    return len(stem_) >= 3 and any(c in _VOWELS for c in stem_)


_POSSESSIVE = re.compile(r"'s\b")
# ASCII text splits on bytes: every byte but a-z and 0-9 becomes a gap (what ``_TOKEN``
# finds in lowercase ASCII), several times faster than the Unicode regex
_ASCII_GAPS = bytes(c if 48 <= c <= 57 or 97 <= c <= 122 else 32 for c in range(256))


def _folded(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    if "[" in text:
        text = _MARKER.sub("[photo", text)
    if "'" in text:  # "'s" ends a word, other apostrophes join one ("don't" -> dont)
        text = _POSSESSIVE.sub(" ", text).replace("'", "")
    return text


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(_folded(text))


class _Terms(dict[str, str]):
    """token -> its indexed term, ``""`` for a stop word (a bounded memo of ``stem``)."""

    def __missing__(self, token: str) -> str:
        term = "" if token in _STOP else stem(token)
        if len(self) < 200_000:
            self[token] = term
        return term


class _AsciiTerms(dict[bytes, str]):
    """The same for ASCII tokens as bytes."""

    def __missing__(self, token: bytes) -> str:
        term = _TERMS[token.decode()]
        if len(self) < 200_000:
            self[token] = term
        return term


_TERMS = _Terms()
_ASCII_TERMS = _AsciiTerms()


def index_terms(text: str) -> list[str]:
    """Stemmed content terms of ``text``, in order, repeats kept (the indexed form)."""
    text = _folded(text)
    if text.isascii():
        tokens = text.encode().translate(_ASCII_GAPS).split()
        return [term for term in map(_ASCII_TERMS.__getitem__, tokens) if term]
    return [term for term in map(_TERMS.__getitem__, _TOKEN.findall(text)) if term]


def query_terms(text: str, *, limit: int = 16) -> list[str]:
    """Distinct stemmed content terms of a query, in order, at most ``limit``."""
    return list(dict.fromkeys(index_terms(text)))[:limit]


# -- forgetting: whole words, a looser stop list --------------------------------------

# words that carry no topic: dropped from "forget ..." requests
_FORGET_STOP = frozenset(
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


def _forget_stem(word: str) -> str:
    for suffix in ("ing", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> list[str]:
    """The topic words of ``text``: lowercase, stop words dropped, in order, unique."""
    words = _WORD.findall(text.lower().replace("'s ", " "))
    return list(dict.fromkeys(w for w in words if w not in _FORGET_STOP))


def search_terms(text: str, *, limit: int = 12) -> list[str]:
    """Alphanumeric topic words of ``text`` (safe to quote into any query language)."""
    return content_words(text)[:limit]


def matches_about(about: str, texts: Iterable[str]) -> bool:
    """Whether every topic word of ``about`` occurs (stemmed) in ``texts`` together."""
    words = content_words(about) or [
        w for w in _WORD.findall(about.lower().replace("'s ", " ")) if w not in _FILLER
    ]
    wanted = {_forget_stem(w) for w in words}
    if not wanted:
        return False
    have = {_forget_stem(w) for t in texts for w in _WORD.findall(t.lower())}
    return wanted <= have
