"""The whole half-cascade, room-less, with the real livekit plugins on the local servers.

User speech (espeak-ng) -> local OpenAI Realtime server (energy VAD, whisper or scripted
transcript) -> text -> first-phrase tokenizer -> local ElevenLabs server (espeak voice) ->
agent audio at the session's output.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from livekit.agents import Agent as LkAgent
from livekit.agents import AgentSession, RunContext, function_tool

from halfcascade import Agent, ElevenLabsVoice, OpenAIBrain, OpenAIVoice, Session
from halfcascade.testing.openai_realtime import ReplyContext, ToolCall
from halfcascade.testing.openai_tts import OpenAITTSServer
from halfcascade.testing.stack import API_KEY, LocalStack, halfcascade_builder, open_stack
from halfcascade.testing.transcribe import WhisperTranscriber

pytestmark = [pytest.mark.contract, pytest.mark.timeout(120)]


def rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) if len(pcm) else 0.0


async def history_text(session: AgentSession[Any], role: str, n: int = 1) -> list[str]:
    """The first ``n`` messages of ``role`` once the session has recorded them."""
    for _ in range(50):
        texts = [
            m.text_content or ""
            for m in session.history.items
            if getattr(m, "type", "") == "message" and getattr(m, "role", "") == role
        ]
        if len(texts) >= n:
            return texts
        await asyncio.sleep(0.1)
    return texts


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    return WhisperTranscriber()


async def test_spoken_question_gets_a_spoken_answer(whisper: WhisperTranscriber) -> None:
    heard: list[str] = []

    def reply(ctx: ReplyContext) -> str:
        heard.append(ctx.transcript)
        if "ball" in ctx.transcript.lower():
            return "**Woof,** yes! Throw the *red* ball 🎾 for me."
        return "Woof?"

    async with open_stack(reply=reply, transcriber=whisper) as stack:
        await stack.say("Do you want to play with the red ball?")
        segment = await stack.next_reply()

        assert "ball" in heard[0].lower()  # the server really recognised the audio
        assert segment.duration > 1.0 and rms(segment.pcm()) > 500
        spoken = whisper.transcribe(segment.pcm(), 24000).lower()
        assert "ball" in spoken and "throw" in spoken  # what the user hears is the reply

        ctx = stack.tts.contexts[0]
        assert ctx.chunks[0].strip() == "Woof,"  # the first phrase went alone, early
        assert "*" not in ctx.text and "🎾" not in ctx.text  # the voice gets no markup
        assert stack.session is not None
        assert await history_text(stack.session, "assistant") == [
            "**Woof,** yes! Throw the *red* ball 🎾 for me."  # the transcript keeps it
        ]
        # the voice's websocket was open before the user finished speaking, and reused
        assert len(stack.tts.connections) == 1
        assert stack.mic.speech_ended_at is not None
        assert stack.tts.connections[0].opened_at < stack.mic.speech_ended_at


class BallAgent(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You are Biscuit, a puppy who fetches balls.")
        self.thrown: list[str] = []

    @function_tool
    async def fetch_ball(self, context: RunContext, color: str) -> str:
        """Fetch the ball the user throws.

        Args:
            color: the ball's color.
        """
        self.thrown.append(color)
        return f"fetched the {color} ball"


async def test_tool_call_round_trip_is_spoken() -> None:
    contexts: list[ReplyContext] = []

    def reply(ctx: ReplyContext) -> str | ToolCall:
        contexts.append(ctx)
        if ctx.tool_output is None:
            return ToolCall("fetch_ball", {"color": "red"})
        return f"Woof! I {ctx.tool_output}."

    agent = BallAgent()
    async with open_stack(reply=reply, build=halfcascade_builder(agent)) as stack:
        await stack.say("Fetch the red ball!")
        segment = await stack.next_reply()

    assert agent.thrown == ["red"]
    assert contexts[0].tools == ("fetch_ball",)
    assert contexts[1].tool_output == "fetched the red ball"
    assert "fetched the red ball" in stack.tts.contexts[-1].text
    assert segment.duration > 0.5 and not segment.interrupted


async def test_barge_in_stops_the_voice_and_the_audio_together() -> None:
    long_reply = " ".join(f"Sentence {n} is about my favourite squeaky toy." for n in range(12))

    def reply(ctx: ReplyContext) -> str:
        return "Yes, I am here!" if "there" in ctx.transcript else long_reply

    async with open_stack(reply=reply, token_interval=0.03) as stack:
        await stack.say("Tell me about your toys.")
        first = await stack.speaker.wait_for_segment(0)
        await asyncio.sleep(1.0)  # let it talk for a moment
        await stack.say("Are you there?")
        interrupted = await stack.next_reply(index=0)
        answer = await stack.next_reply(index=1)

        assert interrupted is first and interrupted.interrupted
        assert interrupted.played < 4.0  # cut short, not played to the end
        cancelled = [t for t in stack.realtime.turns if t.cancelled]
        assert cancelled and cancelled[0].text != long_reply  # the model stopped writing
        assert stack.tts.contexts[0].cancelled or stack.tts.contexts[0].closed_at is not None
        # the voice stopped too: not every sentence of the reply was sent for synthesis
        assert len(stack.tts.contexts[0].chunks) < 12
        assert "Yes, I am here!" in stack.tts.contexts[-1].text
        assert not answer.interrupted and answer.duration > 0.5


async def test_dropped_realtime_socket_the_next_turn_still_works() -> None:
    async with open_stack(reply=lambda ctx: "Woof! Still here.") as stack:
        await stack.say("Hello there.")
        await stack.next_reply()
        assert await stack.realtime.drop_connections() == 1
        for _ in range(100):  # the plugin reconnects on its own
            if stack.realtime.open_connections == 1:
                break
            await asyncio.sleep(0.1)
        await stack.say("Are you still there?")
        segment = await stack.next_reply()

    assert stack.realtime.connections >= 2
    assert segment.duration > 0.5
    assert len([t for t in stack.realtime.turns if t.status == "completed"]) == 2


async def test_a_failing_voice_falls_back_to_the_next_one() -> None:
    async with OpenAITTSServer(ttfb=0.05) as backup_tts:

        def build(stack: LocalStack) -> tuple[AgentSession[Any], LkAgent]:
            session = Session(
                brain=OpenAIBrain(base_url=stack.realtime.base_url, api_key=API_KEY),
                voice=ElevenLabsVoice(base_url=stack.tts.base_url, api_key=API_KEY),
                fallback_voices=[OpenAIVoice(base_url=backup_tts.base_url, api_key=API_KEY)],
            )
            return session, Agent(instructions="You are a friendly companion.")

        async with open_stack(reply=lambda ctx: "Woof, hello friend!", build=build) as stack:
            stack.tts.fail_next(20, kind="close")
            await stack.say("Hello Biscuit.")
            segment = await stack.next_reply()

        assert backup_tts.requests, "the fallback voice was never asked"
        assert "".join(r.text for r in backup_tts.requests).count("hello friend") == 1
        assert segment.duration > 0.5 and rms(segment.pcm()) > 500


async def test_a_greeting_goes_straight_to_the_voice() -> None:
    async with open_stack(reply="unused") as stack:
        assert stack.session is not None
        stack.session.say("Woof, welcome back! I missed you.")
        segment = await stack.next_reply()
    assert not stack.realtime.turns  # no model round trip before the first words
    assert stack.tts.contexts[0].chunks[0].strip() == "Woof,"
    assert segment.duration > 1.0
