from __future__ import annotations

from pathlib import Path

import pytest
from livekit.agents.llm.chat_context import Instructions

from halfcascade import (
    Agent,
    ConfigError,
    Memory,
    MemoryBinding,
    SpokenStyle,
    SQLiteMemoryStore,
    load_persona,
    render_persona,
    render_spoken_instructions,
)

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


PERSONA = Path(__file__).parents[2] / "examples" / "personas" / "biscuit.toml"


def test_persona_prefix_opens_the_instructions_once() -> None:
    persona = load_persona(PERSONA)
    agent = Agent(persona=persona, instructions="Never talk about cats.")
    prefix = render_persona(persona)
    assert agent.instructions.startswith(prefix)
    assert agent.instructions.endswith("Never talk about cats.")
    assert agent.instructions.count("Speaking style") == prefix.count("Speaking style")


async def test_memory_block_follows_the_persona_and_tools_are_added(tmp_path: Path) -> None:
    async with SQLiteMemoryStore(tmp_path / "m.db") as store:
        await store.remember("u1", Memory(text="The user's dog is called Max.", key="dog_name"))
        memory = MemoryBinding(store, user_id="u1")
        await memory.prepare()
        agent = Agent(persona=load_persona(PERSONA), memory=memory)
        prefix = render_persona(load_persona(PERSONA))
        assert agent.instructions.startswith(prefix)
        assert "Max" in agent.instructions[len(prefix) :]
        names = {t.info.name for t in agent.tools}  # type: ignore[union-attr]
        assert {"recall_memory", "remember", "forget"} <= names
        await memory.aclose()


def test_an_agent_needs_instructions_or_a_persona() -> None:
    with pytest.raises(ConfigError, match="persona"):
        Agent()


def test_persona_avatar_sections_map_to_avatars() -> None:
    from halfcascade import LocalAvatar, NoAvatar, RunwayAvatar, TavusAvatar
    from halfcascade.avatar import avatar_from_persona
    from halfcascade.persona import AvatarSpec

    assert isinstance(avatar_from_persona(None), NoAvatar)
    assert isinstance(avatar_from_persona(AvatarSpec(provider="tavus", id="f1")), TavusAvatar)
    assert isinstance(avatar_from_persona(AvatarSpec(provider="runway", id="a1")), RunwayAvatar)
    assert isinstance(avatar_from_persona(AvatarSpec(provider="local")), LocalAvatar)
