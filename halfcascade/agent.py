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

from collections.abc import AsyncGenerator, AsyncIterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from livekit import rtc
from livekit.agents import Agent as _LkAgent
from livekit.agents import ModelSettings
from livekit.agents.llm.chat_context import Instructions
from livekit.agents.voice.io import TimedString

from .errors import ConfigError
from .latency import probe
from .speech.cache import OpenerSpeech, PhraseCache
from .speech.cache.node import agent_tts
from .speech.style import SpokenStyle, render_spoken_instructions

if TYPE_CHECKING:
    from .memory import MemoryBinding
    from .persona import Persona

__all__ = ["Agent", "SpokenStyle", "render_spoken_instructions"]

_DEFAULT_STYLE = SpokenStyle()


class Agent(_LkAgent):
    """A livekit ``Agent`` whose instructions are rendered for spoken output.

    Args:
        instructions: the agent's own instructions (a string or ``llm.Instructions``); with a
            persona, extra instructions placed after the persona's.
        persona: the companion's persona; its rendered prefix (spoken style included) opens
            the instructions, and its openers are the ones cached.
        memory: a :class:`~halfcascade.memory.MemoryBinding`: its memory block follows the
            prefix, its tools are added, and it follows the session from ``on_enter`` to
            ``on_exit`` (call ``await memory.prepare()`` first to connect with memories).
        style: spoken-output rules without a persona; ``None`` sends the instructions as
            given.
        openers: without a persona, the companion's signature openers (the model is asked
            to open with one where it fits); with a persona, set them in its file.
        phrase_cache: the worker's :class:`~halfcascade.speech.PhraseCache`: the openers are
            warmed for the session's voice when the agent starts, and a reply that opens
            with one plays its cached audio at once while the rest is synthesised live.
        **kwargs: any other livekit ``Agent`` argument (``tools``, ``chat_ctx``...).

    Subclasses that override ``on_enter``/``on_exit`` call ``super()`` first.
    """

    def __init__(
        self,
        *,
        instructions: str | Instructions | None = None,
        persona: Persona | None = None,
        memory: MemoryBinding | None = None,
        style: SpokenStyle | None = _DEFAULT_STYLE,
        openers: Sequence[str] | None = None,
        phrase_cache: PhraseCache | None = None,
        **kwargs: Any,
    ) -> None:
        chosen = _openers(persona, openers)
        if openers is not None and style is not None:
            style = replace(style, openers=chosen)
        if phrase_cache is not None and not chosen:
            raise ConfigError(
                "Agent(phrase_cache=...) needs openers to cache: list them in the persona "
                "file (openers = [...]) or pass openers=[...]"
            )
        prefix = _prefix(instructions, persona, style)
        if memory is not None:
            kwargs["tools"] = [*kwargs.get("tools", []), *memory.tools()]
            prefix = memory.compose(prefix)
        super().__init__(instructions=prefix, **kwargs)
        self._memory = memory
        self.openers: tuple[str, ...] = chosen
        """The companion's signature openers."""
        self.phrases = OpenerSpeech(phrase_cache, chosen) if phrase_cache is not None else None
        """The cached-opener speech, when a phrase cache is set (``await
        agent.phrases.wait_warm()`` waits for the start-up warm-up)."""

    async def on_enter(self) -> None:
        """Warm the cached openers; start following the session with the memory binding."""
        if self.phrases is not None and (tts := agent_tts(self)) is not None:
            self.phrases.start(tts)
        if self._memory is not None:
            self._memory.attach(self.session, self)

    async def on_exit(self) -> None:
        """Let the memory binding finish its writes and stop; stop warming openers."""
        if self.phrases is not None:
            await self.phrases.aclose()
        if self._memory is not None:
            await self._memory.aclose()

    async def tts_node(
        self, text: AsyncIterable[str], model_settings: ModelSettings
    ) -> AsyncGenerator[rtc.AudioFrame, None]:
        """livekit's TTS node (behind the phrase cache, when set), reporting first text in
        and first audio out to the latency tracker (override it and call
        ``super().tts_node`` to keep the measurements and the cache)."""
        probe.use_probe(getattr(self.session, "latency", None))
        if self.phrases is not None:
            audio = self.phrases.speak(self, _marked(text), model_settings)
        else:
            audio = _LkAgent.default.tts_node(self, _marked(text), model_settings)
        first_audio = True
        async for frame in audio:
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


def _openers(persona: Persona | None, openers: Sequence[str] | None) -> tuple[str, ...]:
    if openers is None:
        return persona.signature_openers if persona is not None else ()
    if persona is not None:
        raise ConfigError(
            "Agent(openers=...) is for agents without a persona: with a persona, list them "
            "in its file (openers = [...])"
        )
    from .persona.openers import check_openers

    try:
        return check_openers(tuple(openers))
    except ValueError as exc:
        raise ConfigError(f"Agent(openers=...): {exc}") from None


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
