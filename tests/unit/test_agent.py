from __future__ import annotations

import pytest
from livekit.agents.llm.chat_context import Instructions

from halfcascade import Agent, ConfigError, SpokenStyle, render_spoken_instructions

pytestmark = pytest.mark.unit


def test_instructions_take_the_audio_variant_and_spoken_rules() -> None:
    text = render_spoken_instructions(
        Instructions("You are Biscuit.", audio="Bark softly.", text="Use markdown.")
    )
    assert text.startswith("You are Biscuit.")
    assert "Bark softly." in text and "Use markdown." not in text
    assert "no markdown" in text and "3 to 8 words" in text


def test_rendering_is_byte_stable() -> None:
    style = SpokenStyle(min_words=2, max_words=5, extra=("Purr when happy.",))
    a = render_spoken_instructions("You are Mochi.", style)
    b = render_spoken_instructions(
        "You are Mochi.", SpokenStyle(min_words=2, max_words=5, extra=("Purr when happy.",))
    )
    assert a == b and a.endswith("- Purr when happy.")


def test_agent_sends_rendered_instructions_and_style_can_be_off() -> None:
    assert "Speaking style" in Agent(instructions="Be kind.").instructions
    assert Agent(instructions="Be kind.", style=None).instructions == "Be kind."


def test_bad_style_is_named() -> None:
    with pytest.raises(ConfigError, match="SpokenStyle"):
        SpokenStyle(min_words=9, max_words=3)
