"""One fault-run session's stand-ins and the faults injected into them (child side).

:class:`StandIns` is what :class:`~halfcascade.testing.faults_host.StandInHost` keeps per
session in its child process: the realtime stand-in (scripted transcripts, replies drawn
from a fixed pool), the ElevenLabs primary voice and the OpenAI TTS fallback voice, the
first two behind a :class:`~halfcascade.testing.faults.FaultProxy`. Faults are named
by the kinds of :mod:`halfcascade.testing.faults_run`.
"""

from __future__ import annotations

import functools
import random
from contextlib import AsyncExitStack
from typing import Any, Self

from .elevenlabs import ElevenLabsServer
from .faults import FaultProxy
from .openai_realtime import RealtimeServer, ReplyContext
from .openai_tts import OpenAITTSServer
from .transcribe import ScriptedTranscriber
from .vad import VadConfig

__all__ = ["REPLY_POOL", "StandIns", "replies"]

_WORDS = "woof hello friend sure buddy okay then let us go play fetch in the park now".split()
REPLY_POOL = 48
"""Distinct replies every run draws from (3-40 words each). The stand-in voices cache what
espeak-ng speaks (an LRU of 256 phrases): fresh random words every turn kept filling it for
the whole soak, where a bounded pool fills it during the warm-up; barge-ins and faults still
cut the replies at random points."""


@functools.cache
def replies() -> tuple[str, ...]:
    """The pool of replies (the same in every run)."""
    pool = random.Random(0)
    return tuple(
        " ".join(pool.choice(_WORDS) for _ in range(pool.randint(3, 40))).capitalize() + "."
        for _ in range(REPLY_POOL)
    )


class StandIns:
    """The servers one session talks to, and the switches that break them."""

    def __init__(self, stack: AsyncExitStack, rng: random.Random) -> None:
        self._stack = stack
        self._rng = rng
        self.transcriber = ScriptedTranscriber()
        self.rt: RealtimeServer
        self.el: ElevenLabsServer
        self.backup: OpenAITTSServer
        self.rt_proxy: FaultProxy
        self.el_proxy: FaultProxy

    @classmethod
    async def open(cls, *, seed: int) -> Self:
        """Start the servers (replies drawn with ``seed``)."""
        stack = AsyncExitStack()
        self = cls(stack, random.Random(seed))
        try:
            self.rt = await stack.enter_async_context(
                RealtimeServer(
                    reply=self._reply,
                    ttft=0.05,
                    token_interval=0.01,
                    transcriber=self.transcriber,
                    vad=VadConfig(min_speech_ms=40, prefix_padding_ms=0),
                )
            )
            self.el = await stack.enter_async_context(ElevenLabsServer(ttfb=0.05))
            self.backup = await stack.enter_async_context(OpenAITTSServer(ttfb=0.05))
            self.rt_proxy = await stack.enter_async_context(FaultProxy(self.rt.port))
            self.el_proxy = await stack.enter_async_context(FaultProxy(self.el.port))
        except BaseException:
            await stack.aclose()
            raise
        return self

    def urls(self) -> dict[str, str]:
        """Where the session's plugins connect."""
        return {
            "realtime": self.rt_proxy.base_url(self.rt.base_url),
            "elevenlabs": self.el_proxy.base_url(self.el.base_url),
            "backup": self.backup.base_url,
        }

    async def run(self, op: str, **args: Any) -> Any:
        """One named operation (a request from the parent)."""
        if op == "before_reply":
            self.before_reply(args["kind"])
        elif op == "mid_reply":
            self.mid_reply(args["kind"])
        elif op == "restore":
            self.restore()
        elif op == "push":
            self.transcriber.push(args["text"])
        elif op == "first_delta_at":
            return self.rt.turns[-1].first_delta_at if self.rt.turns else None
        elif op == "prune":
            self.rt.received.clear()
            self.rt.sent.clear()
            self.rt_proxy.drop_hung()  # a stalled realtime socket the client gave up on
        else:
            raise ValueError(f"unknown operation {op!r}")
        return None

    def before_reply(self, kind: str) -> None:
        """Break what ``kind`` breaks before the user's turn (a no-op for the others)."""
        if kind == "tts_hang":
            self.el_proxy.mode = "hang"
            self.el_proxy.hang_all()
        elif kind == "tts_refuse":
            self.el_proxy.mode = "refuse"
            self.el_proxy.drop_all()
        elif kind == "tts_5xx":
            self.el.fail_next(1, kind="error")
        elif kind == "tts_slow":
            self.el_proxy.delay = 0.3
        elif kind == "realtime_5xx":
            self.rt.fail_next_response()

    def mid_reply(self, kind: str) -> None:
        """Break what ``kind`` breaks while a reply is being spoken."""
        if kind == "tts_drop":
            self.el_proxy.drop_all()
        elif kind == "tts_stall":
            self.el_proxy.hang_all()
        elif kind == "realtime_drop":
            self.rt_proxy.drop_all()
        elif kind == "realtime_stall":  # open, silent both ways: a half-open connection
            self.rt_proxy.hang_all()

    def restore(self) -> None:
        """Every switch back to normal."""
        self.el_proxy.mode = "pass"
        self.el_proxy.delay = 0.0
        self.el_proxy.drop_hung()  # a stalled server ends its sockets eventually

    async def aclose(self) -> None:
        """Stop every server."""
        await self._stack.aclose()

    def _reply(self, ctx: ReplyContext) -> str:
        return self._rng.choice(replies())
