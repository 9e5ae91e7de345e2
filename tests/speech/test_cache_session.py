"""The phrase cache end to end: real livekit plugins on the local OpenAI Realtime and
ElevenLabs stand-ins, the cached opener first and the rest of the reply synthesised live.

What the user hears is checked on the speaker's recording, what the voice was asked for on
the ElevenLabs stand-in's records (HTTP requests are warm-ups, websocket contexts are
replies), and what the session reports on its latency timeline.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from livekit.agents import Agent as LkAgent
from livekit.agents import AgentSession
from livekit.agents.voice import io
from livekit.agents.voice.transcription.synchronizer import TranscriptSynchronizer

from halfcascade import Agent, ElevenLabsVoice, OpenAIBrain, OpenAIVoice, Session
from halfcascade.latency import TurnTimeline
from halfcascade.speech import PhraseCache, normalize_phrase
from halfcascade.speech.cache import voice_key
from halfcascade.testing.openai_tts import OpenAITTSServer
from halfcascade.testing.stack import API_KEY, LocalStack, halfcascade_builder, open_stack
from halfcascade.testing.transcribe import WhisperTranscriber
from halfcascade.testing.voices import synthetic_voice

pytestmark = [pytest.mark.contract, pytest.mark.timeout(150)]

OPENERS = ["Woof!", "Yes, of course!", "Hello there, my friend!"]
REPLIES = {
    "ball": "Yes, of course! The red ball is my favourite.",
    "eat": "Chicken is yummy.",
    "bark": "Woof!",
    "hello": "Hello there, my friend! I was waiting for you all day long.",
    "there": "I am right here.",
}


def reply(ctx: Any) -> str:
    return next((r for k, r in REPLIES.items() if k in ctx.transcript.lower()), "Woof? Hmm.")


def cached_agent(cache: PhraseCache, **kw: Any) -> Agent:
    return Agent(
        instructions="You are Biscuit, a puppy.", openers=OPENERS, phrase_cache=cache, **kw
    )


async def timelines(session: AgentSession[Any], n: int) -> list[TurnTimeline]:
    assert isinstance(session, Session)
    for _ in range(100):
        if len(session.latency.timelines) >= n:
            break
        await asyncio.sleep(0.05)
    return session.latency.timelines


def reply_contexts(stack: LocalStack, before: int) -> list[str]:
    return [c.text for c in stack.tts.contexts[before:]]


class Captions(io.TextOutput):
    """The transcript the user sees, as livekit's synchronizer releases it."""

    def __init__(self) -> None:
        super().__init__(label="captions", next_in_chain=None)
        self.segments: list[str] = [""]

    async def capture_text(self, text: str) -> None:
        self.segments[-1] += text

    def flush(self) -> None:
        self.segments.append("")


def with_captions(session: AgentSession[Any]) -> Captions:
    """Put livekit's TranscriptSynchronizer in front of the session's output, as RoomIO does."""
    assert session.output.audio is not None
    captions = Captions()
    sync = TranscriptSynchronizer(
        next_in_chain_audio=session.output.audio, next_in_chain_text=captions
    )
    session.output.audio = sync.audio_output
    session.output.transcription = sync.text_output
    return captions


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    return WhisperTranscriber()


async def test_a_hit_plays_the_cached_opener_and_synthesises_only_the_rest(
    tmp_path: Path, whisper: WhisperTranscriber, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="halfcascade.latency")
    cache = PhraseCache(tmp_path)
    agent = cached_agent(cache)
    async with open_stack(reply=reply, build=halfcascade_builder(agent)) as stack:
        assert agent.phrases is not None and stack.session is not None
        await agent.phrases.wait_warm()
        warmed = [r.text for r in stack.tts.requests]
        assert sorted(warmed) == sorted(OPENERS)  # each opener synthesised once, at start
        captions = with_captions(stack.session)
        contexts = len(stack.tts.contexts)
        await stack.say("Do you want the ball?")
        segment = await stack.next_reply()
        await stack.say("What do you eat?")  # a miss, for comparison
        await stack.next_reply()
        (hit, miss) = await timelines(stack.session, 2)
        history = [m.text_content for m in stack.session.history.items if m.type == "message"]
        key = voice_key(stack.session.tts)  # type: ignore[arg-type]

    # the voice was asked for the rest only; no request for the opener during the reply
    assert [r.text for r in stack.tts.requests] == warmed
    assert reply_contexts(stack, contexts) == ["The red ball is my favourite.", "Chicken is yummy."]
    # the reply opens with exactly the cached audio, then the live audio follows
    opener = cache.phrases(key)[normalize_phrase("Yes, of course!")]
    pcm = segment.pcm()
    assert pcm[: len(opener.pcm) // 2].tobytes() == opener.pcm
    assert len(pcm) > len(opener.pcm) // 2 + 24000  # and the rest is there
    spoken = whisper.transcribe(pcm, 24000).lower()
    assert "course" in spoken and "favo" in spoken, spoken  # the opener, then the rest
    # transcripts and captions carry the whole reply, cached words included
    assert REPLIES["ball"] in history and REPLIES["eat"] in history
    assert captions.segments[0] == REPLIES["ball"] and captions.segments[1] == REPLIES["eat"]
    # the timeline shows the hit, what it saved, and the miss
    assert hit.phrase_cache == "hit" and hit.cache_saved is not None and hit.cache_saved > 0
    assert hit.tts_ttfb is not None and hit.tts_ttfb < hit.cache_saved
    assert miss.phrase_cache == "miss" and miss.cache_saved is None
    lines = [r.getMessage() for r in caplog.records if "TURN_LATENCY" in r.getMessage()]
    assert "PHRASE_CACHE=hit CACHE_SAVED_MS=" in lines[0] and "PHRASE_CACHE=miss" in lines[1]
    assert "of course" not in caplog.text.lower()  # no companion words at INFO
    summary = stack.session.latency.summary()
    assert (summary.cache_hits, summary.cache_misses) == (1, 1)


async def test_a_miss_makes_no_extra_request_and_an_opener_alone_opens_no_stream(
    tmp_path: Path,
) -> None:
    agent = cached_agent(PhraseCache(tmp_path))
    async with open_stack(reply=reply, build=halfcascade_builder(agent)) as stack:
        assert agent.phrases is not None and stack.session is not None
        await agent.phrases.wait_warm()
        requests, contexts = len(stack.tts.requests), len(stack.tts.contexts)
        await stack.say("What do you eat?")
        await stack.next_reply()
        await stack.say("Can you bark?")
        only = await stack.next_reply()
        miss, hit = await timelines(stack.session, 2)

    assert len(stack.tts.requests) == requests  # nothing synthesised outside the reply stream
    assert [c.chunks for c in stack.tts.contexts[contexts:]] == [("Chicken is yummy. ",)]
    assert (miss.phrase_cache, hit.phrase_cache) == ("miss", "hit")
    assert 0.3 < only.duration < 1.5 and not only.interrupted  # "Woof!" from the cache


async def test_barge_in_during_the_cached_opener_stops_it_cleanly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    agent = cached_agent(PhraseCache(tmp_path))
    async with open_stack(reply=reply, build=halfcascade_builder(agent)) as stack:
        assert agent.phrases is not None and stack.session is not None
        await agent.phrases.wait_warm()
        stack.tts.set_ttfb(3.0)  # the rest is slow: only the cached opener is playing
        contexts = len(stack.tts.contexts)
        await stack.say("Hello Biscuit!")
        first = await stack.speaker.wait_for_segment(0)
        await asyncio.sleep(0.2)
        await stack.say("Are you there?")
        cut = await stack.next_reply(index=0)
        stack.tts.set_ttfb(0.05)
        answer = await stack.next_reply(index=1)
        turns = await timelines(stack.session, 2)

    assert cut is first and cut.interrupted
    assert cut.played < cut.duration < 2.5  # cut short inside the ~1.8 s opener
    rest = stack.tts.contexts[contexts]
    assert rest.text.startswith("I was waiting") and rest.first_audio_sent_at is None
    assert rest.cancelled or rest.closed_at is not None  # the live part was abandoned
    assert stack.tts.contexts[-1].text == REPLIES["there"]
    assert not answer.interrupted and answer.duration > 0.5
    assert [t.interrupted for t in turns] == [True, False] and turns[0].phrase_cache == "hit"
    lifecycle = [r for r in caplog.records if r.name.startswith("livekit")]
    assert not lifecycle, [r.getMessage() for r in lifecycle]


async def test_a_voice_change_misses_until_its_own_phrases_are_warm(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    agent = cached_agent(cache)
    async with open_stack(reply=reply, build=halfcascade_builder(agent)) as stack:
        assert agent.phrases is not None and stack.session is not None
        await agent.phrases.wait_warm()
        tts = stack.session.tts
        assert tts is not None
        before = voice_key(tts)
        tts.update_options(voice_id="halfcascade-test")  # type: ignore[attr-defined]
        contexts = len(stack.tts.contexts)
        await stack.say("Can you bark?")
        await stack.next_reply()
        await agent.phrases.wait_warm()  # the new voice's phrases, made in the background
        await stack.say("Can you bark?")
        await stack.next_reply()
        miss, hit = await timelines(stack.session, 2)
        after = voice_key(tts)

    assert after != before and set(cache.phrases(after)) == {normalize_phrase(o) for o in OPENERS}
    assert (miss.phrase_cache, hit.phrase_cache) == ("miss", "hit")
    assert reply_contexts(stack, contexts) == ["Woof!"]  # the first was spoken live
    voices = [r.params.get("voice_id") for r in stack.tts.requests]
    assert voices.count("halfcascade-test") == len(OPENERS)


async def test_after_a_failover_the_primary_voice_phrases_are_never_played(
    tmp_path: Path,
) -> None:
    cache = PhraseCache(tmp_path)
    # the backup speaks with another (synthetic) voice, so its audio is told apart
    async with OpenAITTSServer(ttfb=0.05, voice=synthetic_voice) as backup:

        def build(stack: LocalStack) -> tuple[AgentSession[Any], LkAgent]:
            session = Session(
                brain=OpenAIBrain(base_url=stack.realtime.base_url, api_key=API_KEY),
                voice=ElevenLabsVoice(base_url=stack.tts.base_url, api_key=API_KEY),
                fallback_voices=[OpenAIVoice(base_url=backup.base_url, api_key=API_KEY)],
            )
            return session, cached_agent(cache)

        async with open_stack(reply=reply, build=build) as stack:
            session = stack.session
            assert session is not None and session.tts is not None
            agent = session.current_agent
            assert isinstance(agent, Agent) and agent.phrases is not None
            await agent.phrases.wait_warm()
            primary = voice_key(session.tts)
            stack.tts.fail_next(50, kind="close")  # the primary voice is down from now on
            for _ in range(3):
                await stack.say("What do you eat?")  # misses: the failover happens here
                await stack.next_reply()
            await agent.phrases.wait_warm()
            backup_requests = len(backup.requests)
            await stack.say("Can you bark?")
            segment = await stack.next_reply()
            turns = await timelines(session, 4)
            serving = voice_key(session.tts)

    assert serving != primary  # the fallback voice serves now, under its own key
    assert turns[-1].phrase_cache == "hit"
    fallback_woof = cache.phrases(serving)[normalize_phrase("Woof!")]
    primary_woof = cache.phrases(primary)[normalize_phrase("Woof!")]
    assert segment.pcm()[: len(fallback_woof.pcm) // 2].tobytes() == fallback_woof.pcm
    assert fallback_woof.pcm != primary_woof.pcm
    assert len(backup.requests) == backup_requests  # served from the cache, no request
    assert "Woof!" in [r.text for r in backup.requests]  # warmed with the fallback voice


async def test_the_cache_survives_a_restart_and_is_shared_between_processes(
    tmp_path: Path,
) -> None:
    persona = tmp_path / "pup.toml"
    openers = ", ".join(f'"{o}"' for o in OPENERS)
    persona.write_text(
        f'name = "Pup"\ncharacter = "puppy"\nopeners = [{openers}]\n'
        '[voice]\nprovider = "elevenlabs"\nmodel = "eleven_flash_v2_5"\n'
    )
    cache_dir = tmp_path / "cache"
    async with open_stack(reply=reply) as warm_stack:
        args = ["cache", "warm", "--persona", str(persona), "--dir", str(cache_dir)]
        args += ["--base-url", warm_stack.tts.base_url, "--api-key", API_KEY]
        code = f"import sys; from halfcascade.cli import main; sys.argv[1:] = {args!r}; main()"
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-c", code], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert sorted(r.text for r in warm_stack.tts.requests) == sorted(OPENERS)
        assert "3 ready" in done.stdout

    from halfcascade.persona import load_persona

    pup = load_persona(persona)
    agent = Agent(persona=pup, phrase_cache=PhraseCache(cache_dir))
    async with open_stack(reply=reply, build=halfcascade_builder(agent)) as stack:
        assert agent.phrases is not None and stack.session is not None
        await agent.phrases.wait_warm()
        await stack.say("Can you bark?")
        await stack.next_reply()
        (turn,) = await timelines(stack.session, 1)

    assert not stack.tts.requests  # every opener came from disk: no synthesis at all
    assert turn.phrase_cache == "hit"


async def test_sessions_starting_together_synthesise_each_phrase_once(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    async with open_stack(reply=reply) as stack:
        assert stack.session is not None and stack.session.tts is not None
        tts = stack.session.tts
        reports = await asyncio.gather(*(cache.warm(tts, OPENERS) for _ in range(4)))
        again = await PhraseCache(tmp_path).warm(tts, OPENERS)  # a new process: from disk
    assert sorted(r.text for r in stack.tts.requests) == sorted(OPENERS)
    assert sum(r.synthesized for r in reports) == len(OPENERS)
    assert again.loaded == len(OPENERS) and again.synthesized == 0
    assert np.all([r.failed == 0 for r in reports])


async def test_the_avatar_lip_syncs_the_cached_opener_like_synthesised_audio(
    tmp_path: Path,
) -> None:
    from halfcascade.bench.tap import install_tap

    cache = PhraseCache(tmp_path)
    agent = cached_agent(cache)
    async with open_stack(reply=reply, build=halfcascade_builder(agent)) as stack:
        assert agent.phrases is not None and stack.session is not None
        await agent.phrases.wait_warm()
        # the frames also drive the local avatar (AvatarAudioOutput -> LocalVideoGenerator ->
        # AvatarPlayer), whose video frames record how open the mouth is
        tap = await install_tap(stack.session.output, avatar=True)
        try:
            stack.tts.set_ttfb(2.0)  # the rest is late: only the cached opener plays at first
            await stack.say("Hello Biscuit!")
            hit = await stack.next_reply()
            stack.tts.set_ttfb(0.05)
            await stack.say("What do you eat?")  # a miss: synthesised audio, for comparison
            miss = await stack.next_reply()
            await asyncio.sleep(0.3)
            turns = await timelines(stack.session, 2)
        finally:
            await tap.aclose()
        key = voice_key(stack.session.tts)  # type: ignore[arg-type]

    assert [t.phrase_cache for t in turns] == ["hit", "miss"]
    opener = cache.phrases(key)[normalize_phrase("Hello there, my friend!")]
    assert not hit.interrupted and not miss.interrupted
    assert len(tap.segments) == 2
    for segment in tap.segments:
        assert segment.mouth_at is not None  # the mouth moved for both replies
    # on the hit, the mouth moved while the cached opener was the only audio
    first = tap.segments[0]
    assert first.mouth_at is not None and first.mouth_at < first.first_at + opener.duration
