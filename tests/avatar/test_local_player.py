"""The local avatar room-less: frames, timing, A/V sync, segment ends, barge-in, reports."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np
import pytest
from _frames import eye_luma, mouth_dark, pixels
from livekit import rtc
from livekit.agents.voice.avatar import AudioSegmentEnd, QueueAudioOutput

from halfcascade.avatar import AvatarAudioOutput, LocalAvatar
from halfcascade.avatar.local import (
    AvatarPlayer,
    LocalAvatarLink,
    LocalVideoGenerator,
    PlayedAudio,
    PlayedVideo,
    default_character,
)
from halfcascade.testing.voices import espeak_available, speak, synthetic_voice

RATE = 24000
PERIOD = 0.04
CHARACTER = default_character()


@dataclass
class Recorder:
    """Frames as played, with their mouth and eye statistics."""

    video: list[tuple[PlayedVideo, float, float]] = field(default_factory=list)
    audio: list[PlayedAudio] = field(default_factory=list)
    handed: list[float] = field(default_factory=list)  # when each audio frame was queued

    def on_video(self, v: PlayedVideo) -> None:
        img = pixels(v.frame)
        self.video.append((v, mouth_dark(img, CHARACTER), eye_luma(img, CHARACTER.eyes[0])))

    def on_audio(self, a: PlayedAudio) -> None:
        self.audio.append(a)
        self.handed.append(time.perf_counter())


@dataclass
class Reports:
    started: list[float] = field(default_factory=list)
    finished: list[tuple[float, float, bool]] = field(default_factory=list)

    def watch(self, out: AvatarAudioOutput | QueueAudioOutput) -> None:
        out.on("playback_started", lambda ev: self.started.append(time.perf_counter()))
        out.on(
            "playback_finished",
            lambda ev: self.finished.append(
                (time.perf_counter(), ev.playback_position, ev.interrupted)
            ),
        )


@pytest.fixture
async def avatar() -> AsyncIterator[tuple[LocalAvatarLink, Recorder, Reports]]:
    rec, rep = Recorder(), Reports()
    link = await LocalAvatar(on_video=rec.on_video, on_audio=rec.on_audio).connect(None, None)  # type: ignore[arg-type]
    rep.watch(link.output)
    yield link, rec, rep
    await link.aclose()


def _speech(text: str) -> np.ndarray:
    return speak(text, sample_rate=RATE) if espeak_available() else synthetic_voice(text, RATE)


async def _say(out: AvatarAudioOutput, pcm: np.ndarray, *, flush: bool = True) -> None:
    """Hand audio over faster than real time, as a TTS does, in 20 ms frames."""
    n = RATE // 50
    pcm = np.concatenate([pcm, np.zeros(-len(pcm) % n, np.int16)])
    for i in range(0, len(pcm), n):
        await out.capture_frame(rtc.AudioFrame(pcm[i : i + n].tobytes(), RATE, 1, n))
    if flush:
        out.flush()


async def test_mouth_moves_with_speech_and_rests_in_silence(avatar) -> None:  # type: ignore[no-untyped-def]
    link, rec, rep = avatar
    await asyncio.sleep(0.5)
    speech = _speech("Hello! It is lovely to see you again today.")
    t0 = time.perf_counter()
    await _say(link.output, speech)
    await asyncio.wait_for(link.output.wait_for_playout(), 10)
    await asyncio.sleep(0.5)
    end = t0 + len(speech) / RATE
    before = [d for v, d, _ in rec.video if v.pts < t0]
    during = [d for v, d, _ in rec.video if t0 + 0.1 < v.pts < end - 0.1]
    after = [d for v, d, _ in rec.video if v.pts > end + 0.3]
    assert len(before) >= 10 and all(d == 0.0 for d in before)
    assert sum(d > 0.01 for d in during) > 0.4 * len(during)
    assert np.std(during) > 0.005  # it moves, not a fixed open mouth
    assert len(after) >= 3 and all(d == 0.0 for d in after)
    assert len(rep.started) == 1 and len(rep.finished) == 1


async def test_eyes_blink_while_idle(avatar) -> None:  # type: ignore[no-untyped-def]
    _, rec, _ = avatar
    await asyncio.sleep(4.0)
    eyes = [e for _, _, e in rec.video]
    assert max(eyes) - min(eyes) > 2.0, "no blink in 4 s"


async def test_frames_come_at_25_fps(avatar) -> None:  # type: ignore[no-untyped-def]
    link, rec, _ = avatar
    await asyncio.sleep(2.0)
    idle = [v.pts for v, _, _ in rec.video]
    gaps = np.diff(idle[5:])
    assert 45 <= len(idle) <= 55
    assert abs(float(np.median(gaps)) - PERIOD) < 0.005 and np.percentile(gaps, 95) < 0.1
    start = len(rec.video)
    await _say(link.output, synthetic_voice("One two three four five.", RATE))
    await asyncio.wait_for(link.output.wait_for_playout(), 10)
    speaking = [v.pts for v, _, _ in rec.video[start:] if v.speaking]
    assert len(speaking) > 20
    assert np.allclose(np.diff(speaking), PERIOD, atol=0.002)


async def test_video_is_in_sync_with_audio(avatar) -> None:  # type: ignore[no-untyped-def]
    link, rec, _ = avatar
    await asyncio.sleep(0.3)
    t = np.arange(int(RATE * 0.2)) / RATE
    burst = (8000 * np.sin(2 * np.pi * 160 * t)).astype(np.int16)
    gap = np.zeros(int(RATE * 0.6), np.int16)
    onsets = [0.4, 1.2, 2.0]  # seconds into the segment
    pcm = np.concatenate([np.zeros(int(RATE * 0.4), np.int16), burst, gap, burst, gap, burst, gap])
    await _say(link.output, pcm)
    await asyncio.wait_for(link.output.wait_for_playout(), 10)
    seg_start = rec.audio[0].pts
    assert all(abs(a.pts - seg_start - i * PERIOD) < 1e-6 for i, a in enumerate(rec.audio))
    # each speaking video frame is shown when its own 40 ms of audio starts playing
    starts = {round(a.pts, 6) for a in rec.audio}
    assert all(round(v.pts, 6) in starts for v, _, _ in rec.video if v.speaking)
    opened = [
        v.pts
        for (v, d, _), (_, d0, _) in zip(rec.video[1:], rec.video, strict=False)
        if d > 0.0 and d0 == 0.0
    ]
    assert len(opened) == 3
    for onset, seen in zip(onsets, opened, strict=True):
        assert abs(seen - (seg_start + onset)) <= PERIOD + 1e-6


async def test_segment_end_reports_when_the_audio_has_played(avatar) -> None:  # type: ignore[no-untyped-def]
    link, _rec, rep = avatar
    out = link.output
    out.flush()  # nothing captured: nothing to report
    await link.generator.push_audio(AudioSegmentEnd())  # an end without audio is dropped
    pcm = synthetic_voice("Good morning.", RATE)
    t0 = time.perf_counter()
    await _say(out, pcm)
    handed_over = time.perf_counter()
    ev = await asyncio.wait_for(out.wait_for_playout(), 10)
    dur = len(pcm) / RATE
    assert not ev.interrupted and abs(ev.playback_position - dur) < PERIOD + 0.001
    assert len(rep.started) == 1 and rep.started[0] - t0 < 0.3
    assert rep.finished[0][0] - handed_over > dur - 0.15  # finished when played, not handed over
    assert len(rep.finished) == 1


async def test_barge_in_stops_video_and_audio_promptly(avatar) -> None:  # type: ignore[no-untyped-def]
    link, rec, rep = avatar
    await _say(link.output, synthetic_voice("This is a rather long sentence to cut off.", RATE))
    await asyncio.sleep(0.6)
    cleared_at = time.perf_counter()
    link.output.clear_buffer()
    ev = await asyncio.wait_for(link.output.wait_for_playout(), 1.0)
    assert time.perf_counter() - cleared_at < 0.3
    assert ev.interrupted and 0.45 < ev.playback_position < 0.8
    await asyncio.sleep(0.8)
    # nothing is queued after the barge-in; what was queued (<= 100 ms) is dropped with it
    late_audio = [h for h in rec.handed if h > cleared_at]
    assert max(a.pts for a in rec.audio) < cleared_at + 0.1
    late_talk = [d for v, d, _ in rec.video if v.pts > cleared_at + 0.5 and d > 0]
    assert not late_audio and not late_talk
    assert len(rep.finished) == 1


async def test_barge_in_before_the_avatar_took_any_audio_still_ends_the_turn() -> None:
    """livekit's QueueAudioOutput never reports a segment cleared before the runner read
    it, so the session would wait for it forever; AvatarAudioOutput settles it."""
    for out, settles in ((QueueAudioOutput(sample_rate=RATE), False), (AvatarAudioOutput(), True)):
        player = AvatarPlayer(audio_recv=out, video_gen=LocalVideoGenerator(width=128, height=128))
        await player.start()
        pcm = synthetic_voice("Hi.", RATE)
        await out.capture_frame(rtc.AudioFrame(pcm.tobytes(), RATE, 1, len(pcm)))
        out.flush()
        out.clear_buffer()  # same loop iteration: the runner has not read the audio yet
        try:
            await asyncio.wait_for(out.wait_for_playout(), 1.0)
            settled = True
        except TimeoutError:
            settled = False
        await player.aclose()
        assert settled is settles, type(out).__name__


async def test_exactly_one_start_per_segment() -> None:
    out = AvatarAudioOutput(start_timeout=0.2)
    rep = Reports()
    rep.watch(out)
    out.notify_playback_started()  # nothing playing: ignored
    frames = aiter(out)
    pcm = np.zeros(480, np.int16)
    await out.capture_frame(rtc.AudioFrame(pcm.tobytes(), RATE, 1, 480))
    await anext(frames)
    out.notify_playback_started()
    out.notify_playback_started()
    out.flush()
    out.notify_playback_finished(0.02, False)
    out.notify_playback_finished(0.02, False)  # a second report for the same segment: ignored
    assert len(rep.started) == 1 and len(rep.finished) == 1
    await out.capture_frame(rtc.AudioFrame(pcm.tobytes(), RATE, 1, 480))
    await anext(frames)  # taken, never reported started: assumed at hand-over
    await asyncio.sleep(0.3)
    assert len(rep.started) == 2
    await out.aclose()


async def test_generator_resamples_and_downmixes() -> None:
    gen = LocalVideoGenerator(width=128, height=128)
    stereo_48k = np.zeros((4800, 2), np.int16)
    stereo_48k[:, 0] = 1000
    await gen.push_audio(rtc.AudioFrame(stereo_48k.tobytes(), 48000, 2, 4800))
    await gen.push_audio(AudioSegmentEnd())
    got: list[rtc.AudioFrame] = []
    async with asyncio.timeout(2):
        async for item in gen:
            if isinstance(item, rtc.AudioFrame):
                got.append(item)
            elif isinstance(item, AudioSegmentEnd):
                break
    assert all(f.sample_rate == RATE and f.num_channels == 1 for f in got)
    assert abs(sum(f.duration for f in got) - 0.1) <= PERIOD
