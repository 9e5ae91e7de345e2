"""Spoken-output rules: what the instructions add so written text sounds right when spoken.

livekit resolves ``Instructions`` to their text variant when the realtime model writes text,
although every word of a half-cascade is spoken: :func:`render_spoken_instructions` takes
the audio variant and appends the rules once, at the end of the stable prefix. The rules
live here, with speech, because both the agent and the persona renderer use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from livekit.agents.llm.chat_context import Instructions

from ..errors import ConfigError

__all__ = ["SpokenStyle", "render_spoken_instructions"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpokenStyle:
    """Rules appended to the instructions so written text sounds right when spoken.

    Attributes:
        min_words, max_words: the usual reply length (companions: 3-8 words).
        openers: the companion's signature openers; the model is asked to open with one of
            them where it fits (a phrase cache then plays them instantly).
        extra: further rules, one per line.
    """

    min_words: int = 3
    max_words: int = 8
    openers: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.min_words <= self.max_words:
            raise ConfigError("SpokenStyle needs 1 <= min_words <= max_words")

    def render(self) -> str:
        """The rules as an instruction block."""
        rules = [
            "Everything you write is spoken aloud by a text-to-speech voice.",
            f"Reply in {self.min_words} to {self.max_words} words unless asked for more.",
            "Write plain spoken sentences: no markdown, lists, headings, emoji, URLs or code.",
            _opening_rule(self.openers),
            "Write numbers, dates and symbols the way they are said.",
            *self.extra,
        ]
        return "# Speaking style\n" + "\n".join(f"- {rule}" for rule in rules)


def _opening_rule(openers: tuple[str, ...]) -> str:
    if not openers:
        return "Start with a short phrase, then finish the thought."
    listed = ", ".join(f'"{o}"' for o in openers)
    return (
        f"Where it fits, open with one of your usual openers, written exactly like this: "
        f"{listed}. Then finish the thought."
    )


def render_spoken_instructions(
    instructions: str | Instructions, style: SpokenStyle | None = SpokenStyle()
) -> str:
    """The instructions a half-cascade sends: the audio variant, then ``style``'s rules.

    Pure and deterministic, so the result is byte-identical across turns and sessions.
    """
    if isinstance(instructions, Instructions):
        text: str = instructions.render(modality="audio")
    else:
        text = instructions
    text = text.strip()
    if style is None:
        return text
    return f"{text}\n\n{style.render()}" if text else style.render()
