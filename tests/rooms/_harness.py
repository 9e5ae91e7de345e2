"""Room-test harness: real worker processes and a user that speaks and listens in a room."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from livekit import rtc

from halfcascade.testing import espeak_available
from halfcascade.testing.livekit_server import API_KEY, API_SECRET, LiveKitServer
from halfcascade.worker import dispatch_token

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).with_name("_worker_app.py")
RATE = 24000
_FRAME = RATE // 50  # 20 ms


class WorkerProcess:
    """``python <app> start`` against ``lk``, its output kept in a log file."""

    def __init__(
        self,
        lk: LiveKitServer,
        log: Path,
        *,
        app: Path = APP,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> None:
        self._lk, self._log, self._app, self._cwd = lk, log, app, cwd
        self._env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "LIVEKIT_URL": lk.url,
            "LIVEKIT_API_KEY": API_KEY,
            "LIVEKIT_API_SECRET": API_SECRET,
            "LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE": "0",
            **(env or {}),
        }
        self.proc: asyncio.subprocess.Process | None = None
        self._draining = False

    async def start(self, *, within: float = 60.0) -> None:
        """Start and wait until the worker registered with the server."""
        out = self._log.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(self._app), "start", "--log-level", "info",
            stdout=out, stderr=asyncio.subprocess.STDOUT, env=self._env, cwd=str(self._cwd),
            start_new_session=True,
        )  # fmt: skip
        out.close()
        async with asyncio.timeout(within):
            while "registered worker" not in self.log():
                if self.proc.returncode is not None:
                    raise RuntimeError(f"worker exited at start:\n{self.log()[-3000:]}")
                await asyncio.sleep(0.1)

    @property
    def worker_id(self) -> str | None:
        """The id LiveKit gave this worker when it registered."""
        for line in self.log().splitlines():
            if '"registered worker"' in line:
                return str(json.loads(line).get("id"))
        return None

    def log(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    async def drain(self) -> None:
        """SIGTERM: livekit stops taking jobs and waits for the running ones."""
        if self.proc is not None and self.proc.returncode is None and not self._draining:
            self._draining = True
            self.proc.send_signal(signal.SIGTERM)

    async def stop(self, *, within: float = 30.0) -> int | None:
        """Terminate (drain), then kill the process group if it does not exit in time."""
        proc = self.proc
        if proc is None:
            return None
        if proc.returncode is None:
            await self.drain()  # a second SIGTERM would make livekit exit at once
            try:
                async with asyncio.timeout(within):
                    await proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        return proc.returncode


class User:
    """An end user in a room: joins with a dispatch token, speaks, hears the agent."""

    def __init__(
        self,
        lk: LiveKitServer,
        room: str,
        *,
        metadata: dict[str, str] | None = None,
        agent_name: str = "tester",
    ) -> None:
        self.room_name = room
        self.token = dispatch_token(
            room=room, identity=f"user-{room}", agent_name=agent_name, metadata=metadata or {},
            api_key=API_KEY, api_secret=API_SECRET,
        )  # fmt: skip
        self._url = lk.url
        self.room = rtc.Room()
        self.source = rtc.AudioSource(RATE, 1)
        self.heard: list[tuple[float, np.ndarray]] = []  # (arrival, 20 ms-ish pcm)
        self.video: list[tuple[float, int, int]] = []
        self.agent_states: list[tuple[float, str]] = []
        self.joined_at: float | None = None
        self.speech_ended_at: float | None = None
        self._speech = np.zeros(0, np.int16)
        self._tasks: list[asyncio.Task[None]] = []
        self.room.on("track_subscribed", self._on_track)
        self.room.on("participant_attributes_changed", self._on_attrs)
        self.room.on("participant_connected", self._on_join)

    def _on_join(self, p: rtc.RemoteParticipant) -> None:
        self._on_attrs({}, p)

    def _on_attrs(self, _: dict[str, str], p: rtc.Participant) -> None:
        state = p.attributes.get("lk.agent.state")
        if state and (not self.agent_states or self.agent_states[-1][1] != state):
            self.agent_states.append((time.time(), state))

    def _on_track(self, track: rtc.Track, *_: object) -> None:
        reader = self._video if track.kind == rtc.TrackKind.KIND_VIDEO else self._audio
        self._tasks.append(asyncio.create_task(reader(track)))

    async def _audio(self, track: rtc.Track) -> None:
        with contextlib.suppress(Exception):
            async for ev in rtc.AudioStream(track, sample_rate=RATE, num_channels=1):
                self.heard.append((time.time(), np.frombuffer(ev.frame.data, np.int16)))

    async def _video(self, track: rtc.Track) -> None:
        with contextlib.suppress(Exception):
            async for ev in rtc.VideoStream(track):
                self.video.append((time.time(), ev.frame.width, ev.frame.height))

    async def join(self) -> None:
        """Join (LiveKit creates the room and dispatches the agent) and open the mic."""
        await self.room.connect(self._url, self.token)
        self.joined_at = time.time()
        track = rtc.LocalAudioTrack.create_audio_track("mic", self.source)
        opts = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, opts)
        self._tasks.append(asyncio.create_task(self._mic()))

    async def _mic(self) -> None:
        """Real-time paced microphone: queued speech, silence otherwise."""
        next_at = time.time()
        while True:
            chunk, self._speech = self._speech[:_FRAME], self._speech[_FRAME:]
            if len(chunk) and not len(self._speech):
                self.speech_ended_at = next_at + len(chunk) / RATE
            pcm = np.zeros(_FRAME, np.int16)
            pcm[: len(chunk)] = chunk
            await self.source.capture_frame(rtc.AudioFrame(pcm.tobytes(), RATE, 1, _FRAME))
            next_at += _FRAME / RATE
            await asyncio.sleep(max(0.0, next_at - time.time()))

    async def say(self, pcm: np.ndarray) -> float:
        """Speak ``pcm``; returns when its last sample went out (``speech_ended_at``)."""
        self.speech_ended_at = None
        self._speech = np.asarray(pcm, np.int16)
        while self.speech_ended_at is None:  # noqa: ASYNC110 (set by the mic task)
            await asyncio.sleep(0.01)
        await asyncio.sleep(max(0.0, self.speech_ended_at - time.time()))
        return self.speech_ended_at

    async def wait_state(self, state: str, *, within: float = 15.0) -> float:
        """When the agent's ``lk.agent.state`` first became ``state``."""
        async with asyncio.timeout(within):
            while True:
                for at, s in self.agent_states:
                    if s == state:
                        return at
                await asyncio.sleep(0.01)

    def first_loud_after(self, t: float, *, rms: float = 300.0) -> float | None:
        """Arrival of the first agent audio frame louder than ``rms`` after ``t``."""
        for at, pcm in self.heard:
            if at > t and np.sqrt(np.mean(pcm.astype(np.float32) ** 2)) > rms:
                return at - len(pcm) / RATE  # the frame's first sample
        return None

    async def wait_loud_after(self, t: float, *, within: float = 15.0) -> float:
        async with asyncio.timeout(within):
            while (at := self.first_loud_after(t)) is None:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            return at

    async def wait_loud_after_gap(
        self, t: float, *, gap: float = 0.4, within: float = 15.0
    ) -> float:
        """The start of the first agent audio after ``t`` that follows ``gap`` s of quiet
        (the next reply, not the tail of the current one)."""
        async with asyncio.timeout(within):
            while True:
                quiet_from = t
                for at, pcm in self.heard:
                    if at <= t:
                        continue
                    if _rms(pcm) > 300:
                        if at - len(pcm) / RATE - quiet_from >= gap:
                            return at - len(pcm) / RATE
                        quiet_from = at
                await asyncio.sleep(0.02)

    def audio_between(self, t0: float, t1: float) -> np.ndarray:
        parts = [pcm for at, pcm in self.heard if t0 < at <= t1]
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)

    def quiet_since(self, t: float, *, rms: float = 300.0) -> float | None:
        """When the agent audio last was loud after ``t`` (None: never loud)."""
        loud = [at for at, pcm in self.heard if at > t and _rms(pcm) > rms]
        return loud[-1] if loud else None

    async def leave(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.room.disconnect()


def _rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(pcm.astype(np.float32) ** 2))) if len(pcm) else 0.0


def reports(path: Path) -> list[dict[str, object]]:
    """The JSON lines the worker jobs wrote."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where every room test must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: room tests must run)", pytrace=False)
    pytest.skip(reason)


def needs_speech() -> None:
    """espeak-ng for the user's voice and faster-whisper to hear the agent."""
    if not espeak_available():
        unavailable("espeak-ng is not installed (apt-get install espeak-ng)")
    if importlib.util.find_spec("faster_whisper") is None:
        unavailable("faster-whisper is not installed (pip install 'halfcascade[whisper]')")
