"""``halfcascade demo`` offline: the MP4 a person watches and the memory a person hears.

One run of the demo (both visits, real livekit plugins against the local stand-ins) is
checked from its outputs: the MP4 is decoded with PyAV, the mouth's opening is measured in
the decoded pixels and compared with the decoded audio.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import numpy as np
import pytest

from halfcascade.avatar.local import puppy_character
from halfcascade.demo import SESSIONS, DemoConfig, DemoResult, Interval, run_demo
from halfcascade.demo.show import result_json

pytestmark = [pytest.mark.contract, pytest.mark.speech, pytest.mark.timeout(240)]

_MOUTH_INSIDE = np.array([74, 22, 34])  # the drawn mouth's dark inside (avatar.local.render)
_FPS = 25


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    out = tmp_path_factory.mktemp("demo")
    return asyncio.run(run_demo(DemoConfig(out_dir=out)))


def _mouth_opening(video: Path) -> np.ndarray:
    """Per decoded frame: the share of the mouth region showing the mouth's inside."""
    box = puppy_character().mouth.region(pad=8)  # Biscuit, the demo's puppy
    opening = []
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24")[box.y0 : box.y1, box.x0 : box.x1]
            distance = np.abs(rgb.astype(np.int32) - _MOUTH_INSIDE).sum(axis=-1)
            opening.append(float((distance < 60).mean()))
    return np.array(opening)


def _audio(video: Path) -> tuple[np.ndarray, int]:
    with av.open(str(video)) as container:
        rate = container.streams.audio[0].rate
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    return pcm, rate


def _mask(intervals: list[Interval], n: int) -> np.ndarray:
    t = np.arange(n) / _FPS
    mask = np.zeros(n, dtype=bool)
    for span in intervals:
        mask |= (t >= span.start) & (t < span.end)
    return mask


def test_the_mp4_has_video_and_audio_of_the_whole_conversation(demo: DemoResult) -> None:
    assert demo.video is not None and demo.video.is_file()
    with av.open(str(demo.video)) as container:
        (video,) = container.streams.video
        (audio,) = container.streams.audio
        assert video.codec_context.name == "h264" and video.average_rate == _FPS
        assert (video.width, video.height) == (512, 512)
        assert audio.codec_context.name == "aac" and audio.rate == 24000
        frames = sum(1 for _ in container.decode(video=0))
    pcm, rate = _audio(demo.video)
    assert frames == pytest.approx(demo.video_duration * _FPS, abs=1)
    assert pcm.size / rate == pytest.approx(demo.video_duration, abs=0.2)
    # every greeting and reply, every user line, all inside the file
    replies = sum(len(v.lines) for v in SESSIONS)
    assert len(demo.user_speech) == replies
    assert len(demo.agent_speech) >= replies + len(SESSIONS)
    assert max(s.end for s in demo.agent_speech + demo.user_speech) <= demo.video_duration + 0.1
    spoken = sum(s.end - s.start for s in demo.agent_speech + demo.user_speech)
    assert spoken > 0.5 * demo.video_duration  # a conversation, not mostly idle video


def test_the_mouth_moves_with_the_agents_words_only(demo: DemoResult) -> None:
    assert demo.video is not None
    opening = _mouth_opening(demo.video)
    agent = _mask(demo.agent_speech, opening.size)
    user = _mask(demo.user_speech, opening.size)
    # open through most of the agent's speech (closed between syllables and words)
    assert (opening[agent] > 0.01).mean() > 0.5
    # shut while the user speaks and while nobody does
    assert (opening[~agent] > 0.01).mean() < 0.02
    assert (opening[user] > 0.01).mean() < 0.02


def test_the_mouth_is_in_sync_with_the_audio(demo: DemoResult) -> None:
    assert demo.video is not None
    opening = _mouth_opening(demo.video)
    pcm, rate = _audio(demo.video)
    spf = rate // _FPS
    n = min(opening.size, pcm.size // spf)
    level = np.sqrt((pcm[: n * spf].reshape(n, spf).astype(np.float64) ** 2).mean(axis=1))
    frames = np.flatnonzero(_mask(demo.agent_speech, n))
    frames = frames[(frames >= 8) & (frames < n - 8)]

    def corr(lag: int) -> float:
        return float(np.corrcoef(level[frames], opening[frames + lag])[0, 1])

    by_lag = {lag: corr(lag) for lag in range(-6, 7)}
    best = max(by_lag, key=lambda lag: by_lag[lag])
    assert by_lag[best] > 0.5, by_lag  # the mouth follows the loudness of the words
    assert abs(best) <= 2, by_lag  # within two frames (80 ms) of its audio


def test_the_second_visit_remembers_the_first(demo: DemoResult) -> None:
    first = [t for t in demo.turns if t.visit == 1]
    second = [t for t in demo.turns if t.visit == 2]
    assert [t.said for t in first] == list(SESSIONS[0].lines)
    assert [t.said for t in second] == list(SESSIONS[1].lines)
    # the facts were extracted in visit 1 and refreshed into its instructions mid-session:
    # the goodbye names the user although nobody said the name in that turn
    assert "The user's name is Sam." in first[-1].memories
    assert "Sam" in first[-1].reply and "Sam" not in first[-1].said
    # visit 2 is a new session on the same SQLite file: the memories were recalled
    assert "Sam" not in " ".join(t.said for t in second)
    assert "Sam" in second[0].reply
    assert "peanut butter" in second[1].reply.lower()
    assert "The user's favorite treat is peanut butter." in second[0].memories


def test_every_turn_has_a_stage_breakdown_against_its_floor(demo: DemoResult) -> None:
    assert demo.report_png is not None and demo.report_png.stat().st_size > 10_000
    assert demo.report_html is not None and "<table>" in demo.report_html.read_text()
    data = result_json(demo)
    assert len(data["turns"]) == sum(len(v.lines) for v in SESSIONS)
    for row in data["turns"]:
        assert row["ttfa_ms"] is not None and row["floor_ms"] is not None
        assert all(v is not None for v in row["stages_ms"].values()), row
    cache = [row["phrase_cache"] for row in data["turns"]]
    # replies that open with a signature opener play it from the phrase cache
    assert cache.count("hit") >= 3 and "miss" in cache


def test_the_demo_runs_on_gemini_with_the_same_memory(tmp_path: Path) -> None:
    result = asyncio.run(run_demo(DemoConfig(out_dir=tmp_path, brain="google", video=False)))
    assert "Gemini Live" in result.mode
    second = [t for t in result.turns if t.visit == 2]
    # on Gemini, the mid-session refresh arrives as a context turn, not new instructions:
    # the recall in visit 2 still names the user and the treat
    assert "Sam" in second[0].reply
    assert "peanut butter" in second[1].reply.lower()
    for row in result_json(result)["turns"]:
        assert all(v is not None for v in row["stages_ms"].values()), row
