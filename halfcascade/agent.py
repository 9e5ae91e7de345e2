"""The Agent base users subclass.

It is a livekit ``Agent`` whose instructions are rendered for *spoken* output. livekit
resolves ``Instructions`` to their text variant when the realtime model writes text,
although every word here is spoken: this base resolves the audio variant and adds the
spoken-style rules (no markdown, short replies) once, at the end of the stable prefix.

Tools are livekit's: decorate methods with ``@function_tool``::

    class Pet(halfcascade.Agent):
        def __init__(self) -> None:
            super().__init__(instructions="You are Biscuit, a playful puppy.")

        @function_tool
        async def fetch_ball(self, context: RunContext, color: str) -> str:
            \"\"\"Fetch the ball the user throws.

            Args:
                color: the ball's color.
            \"\"\"
            return f"got the {color} ball"
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livekit import rtc
from livekit.agents import Agent as _LkAgent
from livekit.agents import ModelSettings
from livekit.agents.llm.chat_context import Instructions
from livekit.agents.voice.io import TimedString

from .errors import ConfigError
from .latency import probe

if TYPE_CHECKING:
    from .memory import MemoryBinding
    from .persona import Persona

__all__ = ["Agent", "SpokenStyle", "render_spoken_instructions"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpokenStyle:
    """Rules appended to the instructions so written text sounds right when spoken.

    Attributes:
        min_words, max_words: the usual reply length (companions: 3-8 words).
        extra: further rules, one per line.
    """

    min_words: int = 3
    max_words: int = 8
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
            "Start with a short phrase, then finish the thought.",
            "Write numbers, dates and symbols the way they are said.",
            *self.extra,
        ]
        return "# Speaking style\n" + "\n".join(f"- {rule}" for rule in rules)


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


class Agent(_LkAgent):
    """A livekit ``Agent`` whose instructions are rendered for spoken output.

    Args:
        instructions: the agent's own instructions (a string or ``llm.Instructions``); with a
            persona, extra instructions placed after the persona's.
        persona: the companion's persona; its rendered prefix (spoken style included) opens
            the instructions.
        memory: a :class:`~halfcascade.memory.MemoryBinding`: its memory block follows the
            prefix, its tools are added, and it follows the session from ``on_enter`` to
            ``on_exit`` (call ``await memory.prepare()`` first to connect with memories).
        style: spoken-output rules without a persona; ``None`` sends the instructions as
            given.
        **kwargs: any other livekit ``Agent`` argument (``tools``, ``chat_ctx``...).

    Subclasses that override ``on_enter``/``on_exit`` call ``super()`` first.
    """

    def __init__(
        self,
        *,
        instructions: str | Instructions | None = None,
        persona: Persona | None = None,
        memory: MemoryBinding | None = None,
        style: SpokenStyle | None = SpokenStyle(),
        **kwargs: Any,
    ) -> None:
        prefix = _prefix(instructions, persona, style)
        if memory is not None:
            kwargs["tools"] = [*kwargs.get("tools", []), *memory.tools()]
            prefix = memory.compose(prefix)
        super().__init__(instructions=prefix, **kwargs)
        self._memory = memory

    async def on_enter(self) -> None:
        """Start following the session with the memory binding, if any."""
        if self._memory is not None:
            self._memory.attach(self.session, self)

    async def on_exit(self) -> None:
        """Let the memory binding finish its writes and stop."""
        if self._memory is not None:
            await self._memory.aclose()

    async def tts_node(
        self, text: AsyncIterable[str], model_settings: ModelSettings
    ) -> AsyncGenerator[rtc.AudioFrame, None]:
        """livekit's TTS node, reporting first text in and first audio out to the latency
        tracker (override it and call ``super().tts_node`` to keep the measurements)."""
        probe.use_probe(getattr(self.session, "latency", None))
        first_audio = True
        async for frame in _LkAgent.default.tts_node(self, _marked(text), model_settings):
            if first_audio:
                first_audio = False
                probe.mark("first_tts_audio")
            yield frame

    async def transcription_node(
        self, text: AsyncIterable[str | TimedString], model_settings: ModelSettings
    ) -> AsyncGenerator[str | TimedString, None]:
        """livekit's transcription node, reporting the model's first text."""
        async for delta in _LkAgent.default.transcription_node(self, _marked(text), model_settings):
            yield delta


def _prefix(
    instructions: str | Instructions | None, persona: Persona | None, style: SpokenStyle | None
) -> str:
    if persona is None:
        if instructions is None:
            raise ConfigError("Agent needs instructions= or persona=")
        return render_spoken_instructions(instructions, style)
    from .persona import render_persona

    prefix = render_persona(persona)
    if instructions is None:
        return prefix
    return f"{prefix}\n\n{render_spoken_instructions(instructions, None)}"


async def _marked(text: AsyncIterable[Any]) -> AsyncGenerator[Any, None]:
    """Pass ``text`` through, reporting the first non-empty delta as the model's first text."""
    seen = False
    async for delta in text:
        if not seen and str(delta).strip():
            seen = True
            probe.mark("first_text")
        yield delta
