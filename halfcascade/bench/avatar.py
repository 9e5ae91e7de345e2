"""Local avatar benchmark: render cost per frame, and avatars per core at 25 fps.

``python -m halfcascade.bench.avatar [--size 512] [--seconds 4] [--cpu 0]``

1. **Cost per frame**: the whole per-frame work of :class:`LocalVideoGenerator` (audio
   features of 40 ms of speech, drawing, wrapping the livekit ``VideoFrame``), timed
   frame by frame: p50 and p95 in milliseconds.
2. **Avatars per core**: the process is pinned to one CPU; N local avatars run side by side
   on real-time players fed continuous speech, for ``--seconds``. N is sustained when every
   avatar delivers at least 24.5 frames per second. The largest sustained N is reported
   (found by doubling, then bisecting).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from livekit import rtc
from numpy.typing import NDArray

from ..avatar.lifecycle import AvatarAudioOutput
from ..avatar.local import AvatarPlayer, LocalVideoGenerator, MouthTracker, default_character
from ..avatar.local.render import AvatarRenderer, new_frame_buffer, to_video_frame
from ..testing.voices import synthetic_voice

__all__ = ["FrameCost", "frame_cost", "main", "sustained_fps"]

RATE = 24000
FPS = 25.0
_SPEECH = "Hello there! It is so good to see you again, how was your day today?"


@dataclass(frozen=True, slots=True)
class FrameCost:
    """Per-frame render cost in milliseconds."""

    p50: float
    p95: float
    frames: int


def _speech() -> NDArray[np.int16]:
    return synthetic_voice(_SPEECH, RATE)


def frame_cost(size: int = 512, frames: int = 500) -> FrameCost:
    """Time the generator's per-frame work on speech audio, frame by frame."""
    renderer = AvatarRenderer(default_character(width=size, height=size))
    tracker = MouthTracker(sample_rate=RATE)
    pcm = _speech()
    spf = int(RATE / FPS)
    times = []
    for i in range(frames):
        start = (i * spf) % (len(pcm) - spf)
        chunk = pcm[start : start + spf]
        t0 = time.perf_counter()
        shape = tracker.update(chunk)
        buf, arr = new_frame_buffer(size, size)
        renderer.render_into(arr, shape, i / FPS)
        to_video_frame(buf, size, size)
        times.append((time.perf_counter() - t0) * 1000)
    q = statistics.quantiles(times, n=20)
    return FrameCost(p50=statistics.median(times), p95=q[18], frames=frames)


async def _feed(out: AvatarAudioOutput, pcm: NDArray[np.int16], stop: asyncio.Event) -> None:
    n = RATE // 50
    while not stop.is_set():
        for i in range(0, len(pcm) - n + 1, n):
            await out.capture_frame(rtc.AudioFrame(pcm[i : i + n].tobytes(), RATE, 1, n))
        out.flush()
        await out.wait_for_playout()


async def sustained_fps(n: int, *, size: int, seconds: float) -> list[float]:
    """Run ``n`` avatars on speech for ``seconds``; return each one's delivered fps."""
    counts = [0] * n
    stop = asyncio.Event()
    players, feeders = [], []
    pcm = _speech()
    for i in range(n):

        def count(_: object, i: int = i) -> None:
            counts[i] += 1

        out = AvatarAudioOutput(sample_rate=RATE)
        gen = LocalVideoGenerator(width=size, height=size, seed=i)
        player = AvatarPlayer(audio_recv=out, video_gen=gen, on_video=count)
        await player.start()
        players.append(player)
        feeders.append(asyncio.create_task(_feed(out, pcm, stop)))
    await asyncio.sleep(0.5)  # warm up
    start, before = time.perf_counter(), list(counts)
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - start
    fps = [(c - b) / elapsed for c, b in zip(counts, before, strict=True)]
    stop.set()
    for task in feeders:
        task.cancel()
    for player in players:
        await player.aclose()
    return fps


async def max_sustained(*, size: int, seconds: float, floor: float = 24.5) -> tuple[int, float]:
    """The largest number of avatars that all keep ``floor`` fps, and their minimum fps."""
    best, best_fps, n = 0, 0.0, 1
    hi = None
    while hi is None:
        worst = min(await sustained_fps(n, size=size, seconds=seconds))
        if worst >= floor:
            best, best_fps, n = n, worst, n * 2
        else:
            hi = n
    lo = best
    while hi - lo > 1:
        mid = (lo + hi) // 2
        worst = min(await sustained_fps(mid, size=size, seconds=seconds))
        if worst >= floor:
            lo, best, best_fps = mid, mid, worst
        else:
            hi = mid
    return best, best_fps


def main(argv: Sequence[str] | None = None) -> None:
    """Print the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m halfcascade.bench.avatar")
    parser.add_argument("--size", type=int, default=512, help="frame width and height")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each load trial")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: first)")
    args = parser.parse_args(argv)
    cpu = args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    cost = frame_cost(args.size)
    print(f"local avatar {args.size}x{args.size} @ {FPS:g} fps, pinned to CPU {cpu}")
    print(f"render cost per frame: p50 {cost.p50:.2f} ms, p95 {cost.p95:.2f} ms")
    print(f"  (one core's budget: {1000 / FPS / cost.p50:.0f} avatars by p50 alone)")
    n, worst = asyncio.run(max_sustained(size=args.size, seconds=args.seconds))
    print(f"concurrent avatars sustained on one core at 25 fps: {n} (slowest {worst:.1f} fps)")


if __name__ == "__main__":
    main()
