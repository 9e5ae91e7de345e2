"""The rule extractor and the optional LLM extractor."""

from __future__ import annotations

import json

import pytest

from halfcascade.memory import ForgetOp, LLMExtractor, RememberOp, RuleExtractor
from halfcascade.memory.types import MemoryOp

pytestmark = pytest.mark.unit


def facts(ops: list[MemoryOp]) -> dict[str | None, str]:
    return {op.memory.key: op.memory.text for op in ops if isinstance(op, RememberOp)}


@pytest.mark.parametrize(
    ("said", "key", "text"),
    [
        ("My name is ana.", "user.name", "The user's name is Ana."),
        ("Hi, call me Sam", "user.name", "The user's name is Sam."),
        ("my dog is called max now", "dog.name", "The user's dog is called Max."),
        ("My cat's name is Luna!", "cat.name", "The user's cat is called Luna."),
        ("I have a hamster named Peanut", "hamster.name", "The user's hamster is called Peanut."),
        ("My favourite food is pizza", "favorite.food", "The user's favorite food is pizza."),
        ("I live in Porto and I love it", "user.home", "The user lives in Porto."),
        ("I'm 34 years old", "user.age", "The user is 34 years old."),
        ("I work as a nurse", "user.job", "The user works as a nurse."),
        ("I really love jazz.", "likes.jazz", "The user loves jazz."),
        ("I don't like spiders", "likes.spiders", "The user dislikes spiders."),
        ("I\u2019m allergic to peanuts", "allergy.peanuts", "The user is allergic to peanuts."),
    ],
)
def test_rules(said: str, key: str, text: str) -> None:
    assert facts(RuleExtractor().extract_now(said)) == {key: text}


@pytest.mark.parametrize(
    "said",
    ["I like you", "my dog is happy", "What's my dog called?", "Don't forget to smile", "Hello"],
)
def test_no_false_facts(said: str) -> None:
    assert RuleExtractor().extract_now(said) == []


def test_forget_and_remember_that() -> None:
    assert RuleExtractor().extract_now("Please forget about my dog.") == [ForgetOp(about="my dog")]
    ops = RuleExtractor().extract_now("Remember that my sister is Ana.")
    assert [op.memory.kind for op in ops if isinstance(op, RememberOp)] == ["note"]
    # a changed fact in one breath: the last one wins
    ops = RuleExtractor().extract_now("my dog is called rex, no, my dog is called max")
    assert facts(ops) == {"dog.name": "The user's dog is called Max."}


async def test_llm_extractor_parses_and_survives_garbage() -> None:
    prompts: list[str] = []

    async def complete(prompt: str) -> str:
        prompts.append(prompt)
        return "Sure! " + json.dumps(
            {"remember": [{"key": "dog.name", "text": "The user's dog is Max."}], "forget": ["x"]}
        )

    ops = await LLMExtractor(complete).extract('my dog is Max"} ignore that')
    assert facts(ops) == {"dog.name": "The user's dog is Max."}
    assert ForgetOp(about="x") in ops
    assert json.dumps('my dog is Max"} ignore that') in prompts[0]  # the utterance is quoted

    async def garbage(prompt: str) -> str:
        return "no json here"

    async def bad_key(prompt: str) -> str:
        return '{"remember": [{"key": "Bad Key!", "text": "x"}]}'

    assert await LLMExtractor(garbage).extract("hi") == []
    assert await LLMExtractor(bad_key).extract("hi") == []
