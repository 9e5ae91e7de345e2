"""GoogleBrain end to end: the real livekit Google plugin (through google-genai) on the
local Gemini Live stand-in, the real ElevenLabs plugin on its stand-in, room-less.

User speech (espeak-ng or a synthetic voice) -> GeminiLiveServer (energy VAD, whisper or a
scripted transcript) -> text parts -> first-phrase tokenizer -> ElevenLabs stand-in ->
agent audio at the session's output.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from _gemini import gemini_stack, server_of
from livekit.agents import AgentSession, RunContext, function_tool

from halfcascade import Agent
from halfcascade.testing.gemini_live import ReplyContext, ToolCall
from halfcascade.testing.transcribe import WhisperTranscriber

pytestmark = [pytest.mark.contract, pytest.mark.timeout(90)]


def rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) if len(pcm) else 0.0


async def history(session: AgentSession[Any] | None, role: str, n: int = 1) -> list[str]:
    """The texts of ``role`` messages once the session has recorded ``n`` of them."""
    assert session is not None
    texts: list[str] = []
    for _ in range(50):
        texts = [
            m.text_content or ""
            for m in session.history.items
            if getattr(m, "type", "") == "message" and getattr(m, "role", "") == role
        ]
        if len(texts) >= n:
            break
        await asyncio.sleep(0.1)
    return texts


async def wait_open(stack: Any, n: int = 1) -> None:
    """Until the plugin has (re)connected and ``n`` connections are open."""
    server = server_of(stack)
    for _ in range(100):
        if server.open_connections == n:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{server.open_connections} open connections, expected {n}")


async def test_spoken_question_gets_a_spoken_answer() -> None:
    whisper = WhisperTranscriber()
    heard: list[str] = []

    def reply(ctx: ReplyContext) -> str:
        heard.append(ctx.transcript)
        if "ball" in ctx.transcript.lower():
            return "**Woof,** yes! Throw the *red* ball for me."
        return "Woof?"

    async with gemini_stack(reply=reply, transcriber=whisper) as stack:
        await stack.say("Do you want to play with the red ball?")
        segment = await stack.next_reply()
        server = server_of(stack)

        assert "ball" in heard[0].lower()  # the stand-in really recognised the audio
        assert server.setups[0]["generationConfig"]["responseModalities"] == ["TEXT"]
        assert segment.duration > 1.0 and rms(segment.pcm()) > 500
        spoken = whisper.transcribe(segment.pcm(), 24000).lower()
        assert "ball" in spoken and "throw" in spoken  # what the user hears is the reply
        ctx = stack.tts.contexts[0]
        assert ctx.chunks[0].strip() == "Woof,"  # the first phrase went alone, early
        assert "*" not in ctx.text
        assert await history(stack.session, "assistant") == [
            "**Woof,** yes! Throw the *red* ball for me."
        ]
        # Gemini's input transcription reached the session's history
        assert "ball" in (await history(stack.session, "user"))[0].lower()


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
    async with gemini_stack(reply=reply, agent=agent) as stack:
        await stack.say("Fetch the red ball!")
        segment = await stack.next_reply()
        received = server_of(stack).received

    assert agent.thrown == ["red"]
    assert contexts[0].tools == ("fetch_ball",)
    assert contexts[1].tool_output == "fetched the red ball"
    responses = [m["toolResponse"] for m in received if "toolResponse" in m]
    assert responses[0]["functionResponses"][0]["name"] == "fetch_ball"
    assert "fetched the red ball" in stack.tts.contexts[-1].text
    assert segment.duration > 0.5 and not segment.interrupted


async def test_update_instructions_between_turns_reaches_the_model() -> None:
    contexts: list[ReplyContext] = []

    def reply(ctx: ReplyContext) -> str:
        contexts.append(ctx)
        return "Woof! Hi Max's friend." if "Max" in str(ctx.items) else "Woof! Hello."

    agent = Agent(instructions="You are Biscuit, a friendly puppy.")
    async with gemini_stack(reply=reply, agent=agent) as stack:
        await stack.say("Hello Biscuit.")
        await stack.next_reply()
        await agent.update_instructions("You are Biscuit. The user's dog is called Max.")
        await stack.say("Do you remember my dog?")
        await stack.next_reply()
        server = server_of(stack)

    assert server.connections == 1  # no reconnect: the update went over the open session
    updates = [
        turn
        for m in server.received
        for turn in m.get("clientContent", {}).get("turns", [])
        if "Max" in turn["parts"][0]["text"]
    ]
    # the Gemini API way: a model turn; the system instruction stays as it was
    assert [u["role"] for u in updates] == ["model"]
    assert "Max" not in contexts[1].instructions
    assert any(i["role"] == "assistant" and "Max" in i["text"] for i in contexts[1].items)
    assert "Hi Max's friend" in stack.tts.contexts[-1].text


async def test_barge_in_stops_the_reply_and_the_voice() -> None:
    long_reply = " ".join(f"Sentence {n} is about my favourite squeaky toy." for n in range(12))

    def reply(ctx: ReplyContext) -> str:
        return "Yes, I am here!" if "there" in ctx.transcript else long_reply

    async with gemini_stack(reply=reply, token_interval=0.05) as stack:
        await stack.say("Tell me about your toys.")
        first = await stack.speaker.wait_for_segment(0)
        await asyncio.sleep(1.0)  # let it talk for a moment
        await stack.say("Are you there?")
        interrupted = await stack.next_reply(index=0)
        answer = await stack.next_reply(index=1)
        server = server_of(stack)

        assert interrupted is first and interrupted.interrupted
        assert interrupted.played < 4.0  # cut short, not played to the end
        cancelled = [t for t in server.turns if t.cancelled]
        assert cancelled and cancelled[0].text != long_reply  # the model stopped writing
        assert {"serverContent": {"interrupted": True}} in server.sent
        assert len(stack.tts.contexts[0].chunks) < 12  # the voice stopped too
        assert "Yes, I am here!" in stack.tts.contexts[-1].text
        assert not answer.interrupted and answer.duration > 0.5


async def test_barge_in_after_the_text_is_complete_lands_with_the_next_reply() -> None:
    """In text mode the reply is written long before it is spoken: the service has nothing
    to interrupt, so the agent stops when the next reply starts (see docs/gemini.md)."""
    long_reply = " ".join(f"Sentence {n} is about my favourite squeaky toy." for n in range(12))

    def reply(ctx: ReplyContext) -> str:
        return "Yes, I am here!" if "there" in ctx.transcript else long_reply

    async with gemini_stack(reply=reply, token_interval=0.005) as stack:
        await stack.say("Tell me about your toys.")
        first = await stack.speaker.wait_for_segment(0)
        await server_of(stack).wait_for_turns(1)  # the whole text is out
        await asyncio.sleep(1.0)
        await stack.say("Are you there?")
        interrupted = await stack.next_reply(index=0)
        answer = await stack.next_reply(index=1)
        server = server_of(stack)

    assert interrupted is first and interrupted.interrupted and interrupted.played < 6.0
    assert {"serverContent": {"interrupted": True}} not in server.sent
    assert [t.status for t in server.turns] == ["completed", "completed"]
    assert not answer.interrupted and answer.duration > 0.5


async def test_dropped_socket_the_next_turn_still_works() -> None:
    async with gemini_stack(reply=lambda ctx: "Woof! Still here.") as stack:
        server = server_of(stack)
        await stack.say("Hello there.")
        await stack.next_reply()
        assert await server.drop_connections() == 1
        await wait_open(stack)  # the plugin reconnects on its own
        await stack.say("Are you still there?")
        segment = await stack.next_reply()

    assert server.connections == 2
    assert segment.duration > 0.5
    assert [t.status for t in server.turns] == ["completed", "completed"]
    # reconnected with the resumption handle of the first turn: the conversation goes on
    assert server.setups[1]["sessionResumption"]["handle"]


async def test_go_away_the_next_turn_still_works() -> None:
    seen: list[ReplyContext] = []

    def reply(ctx: ReplyContext) -> str:
        seen.append(ctx)
        return "Woof! Still here."

    async with gemini_stack(reply=reply) as stack:
        server = server_of(stack)
        await stack.say("Hello there.")
        await stack.next_reply()
        assert await server.send_go_away(time_left=5.0) == 1
        for _ in range(100):  # the client leaves before the time is up and resumes
            if server.connections == 2 and server.open_connections == 1:
                break
            await asyncio.sleep(0.1)
        await stack.say("Are you still there?")
        segment = await stack.next_reply()

    assert server.connections == 2 and segment.duration > 0.5
    handle = server.setups[1]["sessionResumption"]["handle"]
    assert handle  # resumed, not restarted
    assert [i["role"] for i in seen[1].items] == ["user", "assistant", "user"]


async def test_refused_connections_at_start_are_retried() -> None:
    """A failed first connection used to end the session at once (no retry)."""
    async with gemini_stack(reply="Woof! I made it.", reject_first=2) as stack:
        await stack.say("Hello there.")
        segment = await stack.next_reply()
        server = server_of(stack)
    assert server.rejected == 2 and server.connections == 1
    assert segment.duration > 0.5


async def test_a_failed_turn_closes_the_socket_and_the_next_turn_works() -> None:
    async with gemini_stack(reply="Woof! I made it.") as stack:
        server = server_of(stack)
        server.fail_next_response()  # the service's 1011 in the middle of a session
        await stack.say("Hello there.")
        await wait_open(stack)
        for _ in range(100):
            if server.connections == 2:
                break
            await asyncio.sleep(0.1)
        await wait_open(stack)
        await stack.say("Hello again.")
        segment = await stack.next_reply()
    assert server.closes == [(1011, "Internal error encountered.")]
    assert server.connections == 2 and segment.duration > 0.5


async def test_environment_points_a_plain_brain_at_the_stand_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """How a user points code they cannot change at the stand-in: two variables."""
    from halfcascade import ElevenLabsVoice, GoogleBrain, Session
    from halfcascade.testing.stack import API_KEY, LocalStack

    def build(stack: LocalStack) -> tuple[Session, Agent]:
        server = server_of(stack)
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.base_url)
        monkeypatch.setenv("SSL_CERT_FILE", server.ca_file)
        voice = ElevenLabsVoice(base_url=stack.tts.base_url, api_key=API_KEY)
        return Session(brain=GoogleBrain(api_key=API_KEY), voice=voice), Agent(instructions="Hi")

    async with gemini_stack(reply="Woof!", build=build) as stack:  # type: ignore[arg-type]
        await stack.say("Hello.")
        segment = await stack.next_reply()
        assert server_of(stack).connections == 1
    assert segment.duration > 0.2
