"""The examples, run as they are (``python examples/<name>.py start``) with
``HALFCASCADE_OFFLINE=1``: their stand-ins start in-process, a user dispatched into a room
speaks and hears the offline companion answer (``-m room``).

All examples run side by side on one livekit-server (each registers its own agent name),
which keeps the test about as long as a single example run.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
from pathlib import Path

import pytest
from _harness import RATE, ROOT, User, WorkerProcess, needs_speech

from halfcascade.testing import WhisperTranscriber, default_voice, trim_silence
from halfcascade.testing.livekit_server import LiveKitServer

pytestmark = pytest.mark.room

EXAMPLES = ROOT / "examples"
AGENT_NAMES = {
    "companion_worker": "biscuit",
    "companion_with_memory": "biscuit-memory",
    "local_avatar": "biscuit-face",
    "gemini_companion": "biscuit-gemini",
}
# the offline brain's answer when it hears no words (its whisper is off here):
# "Hello friend! I am running offline. Say something and I will repeat it."
REPLY_WORDS = {"hello", "friend", "running", "offline", "say", "something", "repeat"}


def _reply_words_heard(heard: set[str]) -> set[str]:
    """The reply's words among ``heard``, by stem: tiny.en on a synthetic voice hears
    "friends" for "friend" or "off" for "offline" when the window cuts a word. Looser than
    exact words (a heard "some" counts for "something"), so three of them are needed."""
    return {
        r
        for r in REPLY_WORDS
        for w in heard
        if min(len(r), len(w)) >= 3 and (r.startswith(w) or w.startswith(r))
    }


def _examples() -> list[str]:
    names = list(AGENT_NAMES)
    if importlib.util.find_spec("halfcascade.testing.gemini_live") is None:
        names.remove("gemini_companion")  # the Gemini stand-in is not in this checkout
    return names


async def _talk(lk: LiveKitServer, example: str) -> set[str]:
    """A user dispatched to ``example``'s agent says hello; the words it hears back."""
    user = User(lk, f"ex-{example}", agent_name=AGENT_NAMES[example], metadata={"user_id": "u"})
    try:
        await user.join()
        await user.wait_state("listening", within=30)
        await asyncio.sleep(2.5)  # let a greeting finish
        end = await user.say(trim_silence(default_voice()("Hello Biscuit.", RATE)))
        first = await user.wait_loud_after(end + 0.2, within=30)
        await asyncio.sleep(3.0)
        pcm = user.audio_between(first - 0.1, first + 3.0)
    finally:
        await user.leave()
    text = await asyncio.to_thread(WhisperTranscriber().transcribe, pcm, RATE)
    return set(re.sub(r"[^a-z ]", "", text.lower()).split())


async def test_every_example_runs_offline_and_answers_in_a_room(
    lk: LiveKitServer, tmp_path: Path
) -> None:
    needs_speech()
    names = _examples()
    env = {
        "HALFCASCADE_OFFLINE": "1",
        "HALFCASCADE_WORKER_PORT": "0",  # several workers on one machine
        "HALFCASCADE_MAX_JOBS": "2",  # capacity by jobs: the CPU is shared by all of them
        # four whisper models side by side on a small CI box are too slow: the stand-in
        # brain answers without hearing words (test_worker_room covers the hearing)
        "HALFCASCADE_OFFLINE_WHISPER": "0",
        "HALFCASCADE_CACHE_DIR": str(tmp_path / "cache"),
    }
    workers = {
        n: WorkerProcess(lk, tmp_path / f"{n}.log", app=EXAMPLES / f"{n}.py", env=env, cwd=tmp_path)
        for n in names
    }
    try:
        await asyncio.gather(*(w.start(within=90) for w in workers.values()))
        heard = await asyncio.gather(*(_talk(lk, n) for n in names))
    finally:
        await asyncio.gather(*(w.stop() for w in workers.values()))
    for name, words in zip(names, heard, strict=True):
        assert len(_reply_words_heard(words)) >= 3, (name, words)
        assert "offline, providers on loopback" in workers[name].log()
