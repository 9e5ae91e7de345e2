"""The pipelines a benchmark compares, each on its own local provider servers.

Every pipeline is a real livekit ``AgentSession`` with the real provider plugins, talking
to halfcascade's protocol servers, with a paced microphone in and a recording speaker out.
``halfcascade+cache`` is ``halfcascade`` with a phrase cache of Biscuit's openers, in a
fresh directory, warmed through the pipeline's own TTS before the first turn.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from livekit.agents import Agent as LkAgent
from livekit.agents import AgentSession

from ..agent import Agent
from ..speech.cache import PhraseCache
from ..testing.chat_server import ChatCompletionsServer
from ..testing.openai_realtime import ReplyContext
from ..testing.scripted_stt import ScriptedSTT
from ..testing.stack import API_KEY, Builder, LocalStack, halfcascade_builder, open_stack
from ..testing.transcribe import ScriptedTranscriber
from ..testing.vad import VadConfig
from .profiles import Draw
from .script import OPENERS

__all__ = ["BRAINS", "PIPELINES", "Pipeline", "PipelineName", "open_pipeline"]

BrainName = Literal["openai", "google"]
BRAINS: tuple[BrainName, ...] = ("openai", "google")
"""The realtime brains the half-cascade pipelines can run on (the cascade is the same)."""

PipelineName = Literal["cascade", "livekit-half-cascade", "halfcascade", "halfcascade+cache"]
PIPELINES: tuple[PipelineName, ...] = (
    "cascade",
    "livekit-half-cascade",
    "halfcascade",
    "halfcascade+cache",
)

INSTRUCTIONS = "You are Biscuit, a playful puppy who is the user's best friend."


@dataclass(slots=True)
class Pipeline:
    """A running pipeline: its name, its local stack and, for the cascade, its STT and LLM."""

    name: PipelineName
    stack: LocalStack
    stt: ScriptedSTT | None = None
    llm: ChatCompletionsServer | None = None

    @property
    def half_cascade(self) -> bool:
        """Whether a realtime model writes the text (every pipeline but the cascade)."""
        return self.stt is None

    def set_delays(self, draw: Draw, *, token_interval: float) -> None:
        """Inject this turn's provider delays."""
        self.stack.realtime.set_latency(ttft=draw.first_text, token_interval=token_interval)
        self.stack.tts.set_ttfb(draw.tts_ttfb)
        if self.stt is not None and self.llm is not None:
            self.stt.final_delay = draw.stt_final
            self.llm.ttft, self.llm.token_interval = draw.llm_ttft, token_interval

    def floor(self, draw: Draw) -> float:
        """The injected delays this pipeline cannot avoid on this turn."""
        return draw.cascade_floor if self.stt is not None else draw.realtime_floor


def _replier(replies: Mapping[str, str]) -> Callable[[ReplyContext], str]:
    def reply(ctx: ReplyContext) -> str:
        return replies.get(ctx.transcript, "Woof!")

    return reply


def _livekit_default(stack: LocalStack) -> tuple[AgentSession[Any], LkAgent]:
    # livekit's own half-cascade as its docs write it; PCM only because the stand-in serves
    # no MP3 (decoding MP3 would only add to livekit's time)
    from livekit.plugins import elevenlabs, openai

    session: AgentSession[Any] = AgentSession(
        llm=openai.realtime.RealtimeModel(
            modalities=["text"], base_url=stack.realtime.base_url, api_key=API_KEY
        ),
        tts=elevenlabs.TTS(base_url=stack.tts.base_url, api_key=API_KEY, encoding="pcm_24000"),
    )
    return session, LkAgent(instructions=INSTRUCTIONS)


def _cascade(stt: ScriptedSTT, llm_url: str) -> Builder:
    # STT -> LLM -> TTS through livekit's AgentSession, turns ended by the STT's final
    # transcript (the profile's STT delay already includes endpointing)
    from livekit.plugins import elevenlabs, openai

    def build(stack: LocalStack) -> tuple[AgentSession[Any], LkAgent]:
        session: AgentSession[Any] = AgentSession(
            stt=stt,
            llm=openai.LLM(base_url=llm_url, api_key=API_KEY),
            tts=elevenlabs.TTS(base_url=stack.tts.base_url, api_key=API_KEY, encoding="pcm_24000"),
            vad=None,
            turn_handling={"turn_detection": "stt", "endpointing": {"min_delay": 0.0}},
        )
        return session, LkAgent(instructions=INSTRUCTIONS)

    return build


def _cached(cache: PhraseCache) -> Builder:
    agent = Agent(instructions=INSTRUCTIONS, openers=OPENERS, phrase_cache=cache)
    return halfcascade_builder(agent)


def _livekit_gemini(stack: LocalStack) -> tuple[AgentSession[Any], LkAgent]:
    # livekit's own half-cascade on Gemini: the Google RealtimeModel with TEXT responses
    from ..testing.gemini_live import GeminiLiveServer
    from ..testing.gemini_live.stack import livekit_gemini_builder

    assert isinstance(stack.realtime, GeminiLiveServer)
    return livekit_gemini_builder(stack.realtime, INSTRUCTIONS)(stack)


_BUILDERS: dict[PipelineName, Callable[[], Builder]] = {
    "halfcascade": lambda: halfcascade_builder(Agent(instructions=INSTRUCTIONS)),
    "livekit-half-cascade": lambda: _livekit_default,
}


@contextlib.asynccontextmanager
async def open_pipeline(
    name: PipelineName,
    *,
    replies: Mapping[str, str],
    vad_decision: float,
    brain: BrainName = "openai",
) -> AsyncIterator[Pipeline]:
    """Start servers and a session for pipeline ``name``; close everything on exit.

    ``brain="google"``: the half-cascade pipelines run on the Gemini Live stand-in
    (halfcascade with ``GoogleBrain``, livekit's with the Google ``RealtimeModel``).
    """
    window = int(vad_decision * 1000)
    vad = VadConfig(silence_duration_ms=window, semantic_silence_duration_ms=window)
    transcripts = ScriptedTranscriber()
    if name == "halfcascade+cache":
        with tempfile.TemporaryDirectory(prefix="halfcascade-bench-cache-") as folder:
            cache = PhraseCache(folder)
            async with open_stack(
                reply=_replier(replies),
                build=_cached(cache),
                transcriber=transcripts,
                vad=vad,
                brain=brain,
            ) as stack:
                agent = stack.session.current_agent if stack.session is not None else None
                if isinstance(agent, Agent) and agent.phrases is not None:
                    await agent.phrases.wait_warm()
                yield Pipeline(name, stack)
        return
    if name != "cascade":
        build = _livekit_gemini if (brain, name) == ("google", "livekit-half-cascade") else None
        async with open_stack(
            reply=_replier(replies),
            build=build or _BUILDERS[name](),
            transcriber=transcripts,
            vad=vad,
            brain=brain,
        ) as stack:
            yield Pipeline(name, stack)
        return
    stt = ScriptedSTT(transcriber=transcripts)
    async with ChatCompletionsServer(reply=lambda text: replies.get(text, "Woof!")) as llm:
        async with open_stack(
            reply="unused", build=_cascade(stt, llm.base_url), transcriber=transcripts, vad=vad
        ) as stack:
            yield Pipeline(name, stack, stt=stt, llm=llm)
