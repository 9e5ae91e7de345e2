"""The opener matcher: when a streamed reply is known to open with a cached opener, or not."""

from __future__ import annotations

import pytest

from halfcascade.speech.openers import OpenerDecision, OpenerMatcher, normalize_phrase

pytestmark = pytest.mark.unit

OPENERS = ["Woof!", "Oh, hi!", "Hehe, yes!", "Aw,"]


def run(openers: list[str], tokens: list[str], *, end: bool = True) -> tuple[int, OpenerDecision]:
    """(index of the token that decided, decision); len(tokens) when only the end decided."""
    m = OpenerMatcher(openers)
    for i, token in enumerate(tokens):
        if (d := m.push(token)) is not None:
            return i, d
    assert end, "undecided"
    return len(tokens), m.end()


def test_normalized_text_ignores_case_punctuation_and_spaces() -> None:
    assert normalize_phrase("  OH,   hi!! ") == normalize_phrase("oh hi") == "oh hi"
    assert normalize_phrase("I'm up\u2026") == "im up"
    assert normalize_phrase("**Woof**") == "woof"


def test_a_one_word_opener_hits_on_the_token_that_closes_it() -> None:
    i, d = run(OPENERS, ["Woof", ",", " I", "'m", " up", "!"])
    assert (i, d.outcome, d.opener) == (1, "hit", "woof")
    assert "Woof, I'm up!"[: d.end] == "Woof,"


def test_a_reply_with_no_opener_is_released_on_its_first_word() -> None:
    i, d = run(OPENERS, ["Chicken", ",", " definitely", "."])
    assert (i, d.outcome) == (0, "miss")
    i, d = run(OPENERS, ["Wo", "w", "!"])  # a word that only starts like an opener
    assert (i, d.outcome) == (1, "miss")


def test_a_two_word_opener_waits_only_while_it_can_still_match() -> None:
    i, d = run(OPENERS, ["Oh", ",", " hi", "!", " Missed", " you"])
    assert (i, d.outcome, d.opener) == (3, "hit", "oh hi")
    i, d = run(OPENERS, ["Oh", " no", ",", " muddy"])  # held for one word, then released
    assert (i, d.outcome) == (1, "miss")


def test_the_opener_must_end_a_clause() -> None:
    _, d = run(OPENERS, ["Woof", " woof", "!"])
    assert d.outcome == "miss"
    _, d = run(OPENERS, ["Woof"], end=True)  # the end of the text closes it too
    assert (d.outcome, d.end) == ("hit", 4)


def test_the_longest_opener_wins() -> None:
    openers = ["Woof!", "Woof woof!"]
    i, d = run(openers, ["Woof", ",", " woof", "!", " Hi"])
    assert (i, d.opener) == (3, "woof woof")
    i, d = run(openers, ["Woof", ",", " I", "'m"])  # the longer one is ruled out by "I"
    assert (i, d.opener) == (2, "woof")
    assert "Woof, I"[: d.end] == "Woof,"


def test_case_markup_and_leading_emoji_do_not_matter() -> None:
    tokens = ["**", "OH", ",", " HI", "...**", " so"]
    _, d = run(OPENERS, tokens)
    assert d.outcome == "hit" and d.opener == "oh hi"
    assert "".join(tokens)[: d.end] == "**OH, HI...**"
    _, d = run(OPENERS, ["\U0001f436 ", "Aw", ",", " poor", " thing"])
    assert d.outcome == "hit" and d.opener == "aw"


def test_no_openers_decides_at_once() -> None:
    assert OpenerMatcher([]).push("") == OpenerDecision("miss")
    m = OpenerMatcher(OPENERS)
    assert m.push("") is None and m.push(" ") is None
    assert m.end().outcome == "miss"
