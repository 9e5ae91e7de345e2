"""``Agent(openers=..., phrase_cache=...)``: what it asks of the model and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from halfcascade import Agent, ConfigError, SpokenStyle, load_persona
from halfcascade.speech import PhraseCache

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).parents[2] / "examples" / "personas" / "biscuit.toml"


def test_openers_are_asked_for_and_cached() -> None:
    cache = PhraseCache(persist=False)
    agent = Agent(instructions="You are Mochi.", openers=["Meow!", "Purr..."], phrase_cache=cache)
    assert '"Meow!", "Purr..."' in agent.instructions
    assert agent.openers == ("Meow!", "Purr...")
    assert agent.phrases is not None and agent.phrases.cache is cache
    styled = Agent(instructions="x", openers=["Meow!"], style=SpokenStyle(max_words=5))
    assert '"Meow!"' in styled.instructions and "3 to 5 words" in styled.instructions
    assert styled.phrases is None  # asked for, not cached


def test_a_persona_brings_its_own_openers() -> None:
    agent = Agent(persona=load_persona(EXAMPLE), phrase_cache=PhraseCache(persist=False))
    assert agent.openers[0] == "Woof!" and agent.phrases is not None


def test_options_that_would_do_nothing_are_refused() -> None:
    with pytest.raises(ConfigError, match="needs openers"):
        Agent(instructions="x", phrase_cache=PhraseCache(persist=False))
    with pytest.raises(ConfigError, match="persona"):
        Agent(persona=load_persona(EXAMPLE), openers=["Woof!"])
    with pytest.raises(ConfigError, match=r"Agent\(openers=\.\.\.\): .*same words"):
        Agent(instructions="x", openers=["Woof!", "woof"])
