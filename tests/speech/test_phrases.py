from __future__ import annotations

import pytest

from halfcascade import ConfigError, FirstPhraseTokenizer, Phrasing
from halfcascade.speech import PhraseChunker, spoken_text

pytestmark = pytest.mark.unit

TOKENS = [
    "Oh",
    ",",
    " hi",
    " there",
    "!",
    " I",
    " missed",
    " you",
    " so",
    " much",
    ".",
    " Want",
    " to",
    " play",
    "?",
]


def feed(chunker: PhraseChunker, tokens: list[str]) -> list[tuple[int, str]]:
    """(index of the token that released it, phrase) for every phrase."""
    out = [(i, p) for i, t in enumerate(tokens) for p in chunker.push(t)]
    if (rest := chunker.flush()) is not None:
        out.append((len(tokens), rest))
    return out


def test_first_phrase_leaves_on_the_token_that_closes_the_clause() -> None:
    got = feed(PhraseChunker(), TOKENS)
    assert got[0] == (1, "Oh,")  # released by "," itself, not by the token after it
    assert "".join(p for _, p in got) == "".join(TOKENS)  # nothing lost or reordered


def test_later_text_goes_by_whole_sentences() -> None:
    got = [p for _, p in feed(PhraseChunker(), TOKENS)]
    assert got[1:] == [" hi there! I missed you so much.", " Want to play?"]


def test_first_phrase_after_max_words_without_punctuation() -> None:
    tokens = ["I", " really", " love", " long", " walks", " in", " the", " park"]
    got = feed(PhraseChunker(Phrasing(first_max_words=4)), tokens)
    assert got[0] == (4, "I really love long")


def test_first_max_words_none_waits_for_a_clause_mark() -> None:
    tokens = ["I", " really", " love", " long", " walks", ";", " yes"]
    got = feed(PhraseChunker(Phrasing(first_max_words=None)), tokens)
    assert got[0] == (5, "I really love long walks;")


@pytest.mark.parametrize(
    ("tokens", "first"),
    [
        (["It", " costs", " 3", ".", "5", " dollars", ",", " ok"], "It costs 3.5 dollars,"),
        (["Dr", ".", " Who", " is", " here", "!"], "Dr. Who is here!"),
        (["See", " 1", ",", "000", " dogs", "!"], "See 1,000 dogs!"),
        (['"', "Woof", '!"', " he", " said"], '"Woof!"'),
    ],
)
def test_numbers_abbreviations_and_quotes_are_not_cut(tokens: list[str], first: str) -> None:
    assert feed(PhraseChunker(Phrasing(first_max_words=None)), tokens)[0][1] == first


def test_markdown_emphasis_is_never_split() -> None:
    tokens = ["**", "Hi", ",", " friend", "**", " how", " are", " you", "?"]
    got = [p for _, p in feed(PhraseChunker(Phrasing(first_max_words=None)), tokens)]
    assert got[0] == "**Hi, friend** how are you?"


def test_short_sentences_are_merged_and_flush_resets_first_phrase() -> None:
    c = PhraseChunker(Phrasing(min_sentence_chars=20))
    assert c.push("Yes! ") == ["Yes!"]
    assert c.push("Ok. Fine. Sure thing, pal. ") == [" Ok. Fine. Sure thing, pal."]
    assert c.flush() is None
    assert c.push("Again,") == ["Again,"]


def test_overlong_text_is_cut_at_a_word() -> None:
    c = PhraseChunker(Phrasing(first_max_words=None, max_chars=30))
    got = c.push("word " * 20)
    assert got and all(len(p) <= 30 for p in got)


def test_tokenizer_cleans_markdown_and_emoji_for_the_voice() -> None:
    tok = FirstPhraseTokenizer()
    assert tok.tokenize("**Woof!** 🐶 I _love_ [walks](http://x). # Not a header") == [
        "Woof!",
        "I love walks.",
        "# Not a header",  # mid-line: not a heading, so kept
    ]


async def test_tokenizer_stream_emits_first_phrase_immediately() -> None:
    stream = FirstPhraseTokenizer().stream()
    stream.push_text("Oh")
    stream.push_text(",")
    first = await stream.__anext__()
    assert first.token == "Oh,"
    stream.push_text(" hi there! 😀")
    stream.end_input()
    rest = [t.token async for t in stream]
    assert rest == ["hi there!"]


def test_spoken_text_strips_line_markup_only_at_line_start() -> None:
    assert spoken_text("- item one\n## Title", line_start=True) == "item one\nTitle"
    assert spoken_text(" - 3 degrees", line_start=False) == " - 3 degrees"


@pytest.mark.parametrize(
    "kwargs",
    [{"first_min_words": 0}, {"first_max_words": 1, "first_min_words": 2}, {"max_chars": 5}],
)
def test_bad_phrasing_names_the_field(kwargs: dict[str, int]) -> None:
    with pytest.raises(ConfigError, match="Phrasing"):
        Phrasing(**kwargs)
