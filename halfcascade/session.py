"""``Session``: a livekit ``AgentSession`` set up as a fast half-cascade.

It differs from a hand-built ``AgentSession(llm=RealtimeModel(modalities=["text"]), tts=...)``
in the defaults that cost latency or silently do nothing on this path:

- the TTS gets the first-phrase tokenizer and is prewarmed;
- livekit's ``tts_text_transforms`` are off (they hold every punctuation mark back a token;
  the tokenizer cleans markdown and emoji itself, the transcript keeps the raw text);
- no AEC warm-up (livekit mutes barge-in for 3 s after the agent first speaks);
- server-side turn detection, no local VAD or turn-detector model unless you ask for one;
- cascade-only options (preemptive generation, endpointing delays, STT) are refused
  instead of being accepted and ignored;
- a realtime socket drop that livekit recovers from by reconnecting logs one WARNING, not
  an ERROR with a traceback (:class:`RecoveredDropFilter` on the ``livekit.agents`` logger;
  a drop it cannot recover from still ends in livekit's own ERROR);
- the session's event record (livekit's session report) keeps the latest 100 events
  (``recorded_events=``, about the last ten turns) and only the latest usage update:
  livekit records every event forever, each ``session_usage_updated`` is a deep copy of
  the whole usage so far, and each recorded ``speech_created`` keeps its reply's
  ``SpeechHandle`` (tasks, futures, chat items) alive, so a long session grew by about ten
  events and tens of kB per turn;
- with ``OpenAIBrain``, the conversation the model reads is kept to its latest
  ``context_items`` (60) between turns (:class:`~halfcascade.brain.context_window.ContextWindow`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from livekit.agents import AgentSession, APIConnectionError
from livekit.agents import vad as lk_vad
from livekit.agents.voice.events import AgentEvent, CloseEvent, EventTypes
from livekit.agents.voice.turn import TurnHandlingOptions

from ._env import require_all
from .brain import Brain, OpenAIBrain, build_brain, missing_brain_credentials, resolve_brain
from .brain.context_window import ContextWindow
from .errors import ConfigError
from .latency import LatencyTracker, StartupTracker
from .speech.failover import FailoverPolicy, FailoverTTS
from .speech.phrases import Phrasing
from .speech.voices import Voice, build_tts, missing_voice_credentials, resolve_voice

__all__ = ["RecoveredDropFilter", "Session"]

logger = logging.getLogger("halfcascade.session")

_CASCADE_ONLY = {
    "stt": "there is no STT: the realtime model hears the user itself",
    "preemptive_generation": "the realtime model starts replies itself; it only applies to "
    "STT-LLM-TTS cascades",
    "min_endpointing_delay": "endpointing is the realtime model's server VAD; tune "
    "OpenAIBrain(silence_ms=..., eagerness=...) or GoogleBrain(silence_ms=...)",
    "max_endpointing_delay": "endpointing is the realtime model's server VAD; tune "
    "OpenAIBrain(silence_ms=..., eagerness=...) or GoogleBrain(silence_ms=...)",
    "turn_detection": "turn detection belongs to the brain: OpenAIBrain(turn_detection=...) "
    "or GoogleBrain(silence_ms=...)",
    "llm": "pass the realtime model as brain=",
    "tts": "pass the TTS as voice=",
}


class RecoveredDropFilter(logging.Filter):
    """Logs a realtime socket drop that livekit recovers from as WARNINGs without traceback.

    livekit's realtime session logs a dropped socket with ``logger.exception`` twice before
    it reconnects on its own (``livekit/agents/llm/_realtime/openai.py``): ``Error in
    _recv_task`` (``utils.log_exceptions`` around the receive loop, a retryable
    ``APIConnectionError``) and ``failed to send event`` (the send loop writing to the
    closed socket, a ``ConnectionResetError``); then a WARNING ``connection failed,
    retrying`` with the same traceback. Each recovered drop looked like a crash. Only those
    records, with those exceptions, become WARNINGs without traceback; every other record
    passes untouched, and a drop livekit cannot recover from still ends in its own ERROR.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        msg = str(record.msg)
        dropped = isinstance(exc, APIConnectionError) and exc.retryable
        if msg.startswith("Error in _recv_task") and dropped:
            record.msg, record.args = "realtime connection dropped, reconnecting: %s", (exc,)
        elif msg.startswith("failed to send event") and isinstance(exc, ConnectionResetError):
            record.msg, record.args = "realtime event not sent, the connection dropped: %s", (exc,)
        elif not ("connection failed, retrying" in msg and dropped):
            return True
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None
        return True


def _install_drop_filter() -> None:
    lk_logger = logging.getLogger("livekit.agents")
    if not any(isinstance(f, RecoveredDropFilter) for f in lk_logger.filters):
        lk_logger.addFilter(RecoveredDropFilter())


class Session(AgentSession[Any]):
    """An ``AgentSession`` for a half-cascade: ``brain`` listens and writes, ``voice`` speaks.

    Args:
        brain: ``OpenAIBrain()`` (the default, also ``"openai"``), ``GoogleBrain()``
            (``"google"``) or a livekit ``RealtimeModel`` with text output.
        voice: ``ElevenLabsVoice()`` (the default, also ``"elevenlabs"``), ``OpenAIVoice()``
            (``"openai"``), ``GoogleVoice()`` (``"google"``) or a livekit TTS.
        fallback_voices: voices tried in order when the one before fails or is late for its
            first audio (:class:`~halfcascade.speech.FailoverTTS`: the fallback speaks the
            rest of the reply, from the first word not yet heard).
        failover: deadlines, probing and warming for the voices
            (:class:`~halfcascade.speech.FailoverPolicy`, its defaults when ``None``). A
            single voice sits behind the failover too: a reply whose connection dropped
            is resumed from the first unheard word on a fresh request of the same voice.
        phrasing: when text is cut into TTS requests (first phrase early).
        vad: a local VAD, only needed for client-side turns (``turn_detection=None``).
        startup: the job's start-up tracker (create it when the job is received); one is
            made here otherwise.
        turn_handling: livekit turn options other than endpointing and preemption.
        recorded_events: how many of the latest events the session keeps for livekit's
            session report (each turn adds about ten; ``None`` keeps every event, as
            livekit does: a long-lived session then grows by them for good, tens of kB
            per turn). The usage totals and the chat history in the report are complete
            whatever the limit.
        **kwargs: any other ``AgentSession`` argument (``userdata``, ``max_tool_steps``...).

    Raises:
        MissingCredentialsError: listing every environment variable still to set.
        ConfigError: for an option that does not apply to a half-cascade.
        UnsupportedModelError: for a realtime model that cannot output text.
    """

    def __init__(
        self,
        *,
        brain: Brain = "openai",
        voice: Voice = "elevenlabs",
        fallback_voices: Sequence[Voice] = (),
        phrasing: Phrasing | None = None,
        failover: FailoverPolicy | None = None,
        vad: lk_vad.VAD | None = None,
        turn_handling: TurnHandlingOptions | None = None,
        startup: StartupTracker | None = None,
        recorded_events: int | None = 100,
        **kwargs: Any,
    ) -> None:
        if recorded_events is not None and recorded_events < 1:
            raise ConfigError(
                f"Session(recorded_events={recorded_events}) must be >= 1, or None to keep "
                "every event"
            )
        self._record_limit = recorded_events
        for key in kwargs.keys() & _CASCADE_ONLY.keys():
            raise ConfigError(f"Session({key}=...) is not supported: {_CASCADE_ONLY[key]}")
        brain_cfg = resolve_brain(brain)
        voices = [resolve_voice(v) for v in (voice, *fallback_voices)]
        require_all(
            [*missing_brain_credentials(brain_cfg), *missing_voice_credentials(voices)],
            hint="or pass api_key= to the brain/voice; for offline runs see halfcascade.testing",
        )
        model = build_brain(brain_cfg)
        server_turns = _server_turns(model)
        if not server_turns and vad is None:
            raise ConfigError(
                "client-side turns (turn_detection=None) need a local VAD: pass "
                "vad=silero.VAD.load()"
            )
        _install_drop_filter()
        kwargs.setdefault("aec_warmup_duration", None)
        kwargs.setdefault("tts_text_transforms", None)
        super().__init__(
            llm=model,
            # even a single voice sits behind the failover: it never ends a reply's audio
            # before its text (livekit's path does when a socket drops mid-reply, and drops
            # the rest of the reply) and resumes the unheard rest on a fresh request
            tts=build_tts(
                voices[0],
                fallback=voices[1:],
                phrasing=phrasing,
                failover=failover or FailoverPolicy(),
            ),
            vad=vad,
            turn_handling=_turn_handling(turn_handling, server_turns=server_turns),
            **kwargs,
        )
        # a model the caller built is the caller's to close
        self._owns_llm = model is not brain_cfg
        self._released: asyncio.Task[None] | None = None
        self.on("close", self._on_closed)
        self.latency = LatencyTracker(self)
        """Every turn's timeline (``session.latency.on("turn", ...)``, ``.summary()``)."""
        self.startup = startup or StartupTracker()
        """The job's start-up timeline."""
        self.startup.watch(self, self.latency)
        items = brain_cfg.context_items if isinstance(brain_cfg, OpenAIBrain) else None
        self.context_window = ContextWindow(self, items) if items is not None else None
        """Keeps the realtime conversation to ``OpenAIBrain(context_items=...)`` items."""

    def emit(self, event: EventTypes, arg: AgentEvent) -> None:
        """livekit's ``emit``; the session's event record (livekit's session report) keeps
        the latest ``recorded_events`` events, and a usage update replaces the previous one
        (each is cumulative, so the report loses no usage)."""
        super().emit(event, arg)
        recorded = getattr(self, "_recorded_events", None)
        if not isinstance(recorded, list):
            return
        limit = getattr(self, "_record_limit", None)
        if limit is not None and len(recorded) > limit + limit // 4:  # trimmed in batches
            del recorded[: len(recorded) - limit]
        if event != "session_usage_updated":
            return
        previous = getattr(self, "_last_usage_event", None)
        self._last_usage_event = arg
        if previous is None:
            return
        for i in range(len(recorded) - 2, max(-1, len(recorded) - 256), -1):
            if recorded[i] is previous:
                del recorded[i]
                return

    async def aclose(self) -> None:
        """Close the session and release what it built.

        Released (also when livekit closes the session itself: when the participant
        leaves, on an unrecoverable error, on ``shutdown()``): the start-up tracker, the
        voices' failover (its probing and keep-warm loop would outlive the session,
        re-opening provider connections every ``keep_warm_interval``), the voices built from
        a voice config and the model built from a brain config. A livekit TTS or model
        passed in is the caller's and stays open. A closed ``Session`` is not restarted:
        build a new one."""
        try:
            await super().aclose()
        finally:  # a teardown that failed still releases
            await self._release_soon()

    async def start(self, *args: Any, **kwargs: Any) -> Any:
        """livekit's ``start``; a closed ``Session`` refuses (its voices and model are
        closed): build a new one."""
        if self._released is not None:
            raise RuntimeError("a closed halfcascade Session cannot be restarted: build a new one")
        return await super().start(*args, **kwargs)

    def _on_closed(self, _ev: CloseEvent) -> None:
        # livekit closes a session without aclose() too: when the participant leaves, on
        # an unrecoverable error, on shutdown()
        self._release_soon()

    def _release_soon(self) -> asyncio.Task[None]:
        if self._released is None:
            self._released = asyncio.create_task(self._release(), name="halfcascade.release")
            self._released.add_done_callback(_log_release_error)
        return self._released

    async def _release(self) -> None:
        """What :meth:`aclose` releases, each even if the one before failed."""
        async with contextlib.AsyncExitStack() as stack:  # callbacks run last pushed first
            if self._owns_llm and self.llm is not None:
                stack.push_async_callback(self.llm.aclose)
            if isinstance(self.tts, FailoverTTS):
                stack.push_async_callback(self.tts.aclose)
            stack.push_async_callback(self.startup.aclose)


def _log_release_error(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        logger.warning("session resources not all released", extra={"error": repr(exc)[:200]})


def _server_turns(model: Any) -> bool:
    opts = getattr(model, "_opts", None)
    turn = getattr(opts, "turn_detection", "server")
    return turn is not None


def _turn_handling(user: TurnHandlingOptions | None, *, server_turns: bool) -> TurnHandlingOptions:
    opts = TurnHandlingOptions(**(user or {}))
    refused = {
        "endpointing": _CASCADE_ONLY["min_endpointing_delay"],
        "preemptive_generation": _CASCADE_ONLY["preemptive_generation"],
        "turn_detection": _CASCADE_ONLY["turn_detection"],
    }
    for key, why in refused.items():
        if key in opts:
            raise ConfigError(f"turn_handling[{key!r}] is not supported: {why}")
    opts["turn_detection"] = "realtime_llm" if server_turns else "vad"
    opts["preemptive_generation"] = {"enabled": False}
    if server_turns:
        # the server cancels its reply on speech; there is nothing to pause and resume
        opts["interruption"] = {"resume_false_interruption": False, **opts.get("interruption", {})}
    return opts
