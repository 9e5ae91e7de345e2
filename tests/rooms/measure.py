"""Measure a real worker on a local livekit-server: start-up, in-room reply, avatar rate.

    PYTHONPATH=. python tests/rooms/measure.py --rooms 10 [--avatar]

One worker process (``_worker_app.py``, stand-ins in this process); rooms are dispatched
one after another, each user says one sentence. Printed, as p50 / max over the rooms:

- worker-side start-up, from the worker receiving the job: room connected (the agent
  joined: no provider connection on this path), realtime ready / TTS warm (stand-in
  connects), agent listening; event-loop blocks > 100 ms reported in jobs;
- user-side: joining the room -> agent listening (includes LiveKit's dispatch);
- reply: in-agent TTFA (end of speech as sent to the model -> first frame out) and the
  user's own end of speech -> first reply audio heard, with the two network legs;
- with ``--avatar``: the avatar video frame rate the user receives while the agent speaks.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _harness import RATE, User, WorkerProcess, reports

from halfcascade.testing import (
    ElevenLabsServer,
    RealtimeServer,
    ScriptedTranscriber,
    default_voice,
    trim_silence,
)
from halfcascade.testing.livekit_server import LiveKitServer


def _fmt(name: str, values: list[float], unit: str = "ms") -> str:
    if not values:
        return f"{name:44s} n/a"
    p50 = statistics.median(values)
    return f"{name:44s} p50 {p50:7.1f} {unit}   max {max(values):7.1f} {unit}   n={len(values)}"


async def main(rooms: int, avatar: bool) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="hc-measure-"))
    reply = "Hello there, my friend, it is nice to see you today."
    users: list[User] = []
    async with (
        LiveKitServer() as lk,
        RealtimeServer(
            reply=reply, ttft=0.1, transcriber=ScriptedTranscriber(["hi"] * rooms)
        ) as rt,
        ElevenLabsServer(ttfb=0.05) as tts,
    ):
        env = {
            "OPENAI_BASE_URL": rt.base_url,
            "OPENAI_API_KEY": "k",
            "ELEVEN_BASE_URL": tts.base_url,
            "ELEVEN_API_KEY": "k",
            "HC_TEST_REPORT": str(tmp / "jobs.jsonl"),
        }
        worker = WorkerProcess(lk, tmp / "worker.log", env=env)
        await worker.start()
        await asyncio.sleep(2.0)  # idle processes warm
        speech = trim_silence(default_voice()("Hello Biscuit, how are you today?", RATE))
        try:
            for i in range(rooms):
                meta = {"avatar": "local"} if avatar else {}
                user = User(lk, f"m{i}", metadata=meta)
                user.t0 = time.time()  # type: ignore[attr-defined]
                await user.join()
                user.listening = await user.wait_state("listening", within=30)  # type: ignore[attr-defined]
                await asyncio.sleep(0.3)
                user.end = await user.say(speech)  # type: ignore[attr-defined]
                user.first = await user.wait_loud_after(user.end, within=20)  # type: ignore[attr-defined]
                await asyncio.sleep(2.8)
                # the reply's onset (its first 10 ms frames are quiet): a low threshold
                user.first = user.first_loud_after(user.end, rms=30) or user.first  # type: ignore[attr-defined]
                await user.leave()
                users.append(user)
            await asyncio.sleep(1.5)
        finally:
            await worker.stop()
    jobs = {str(j["room"]): j for j in reports(tmp / "jobs.jsonl")}
    rows: dict[str, list[float]] = {}

    def add(key: str, value: float | None) -> None:
        if value is not None:
            rows.setdefault(key, []).append(value)

    blocks: list[int] = []
    for u in users:
        j = jobs.get(u.room_name)
        if j is None:
            continue
        for stage in ("room_connected", "realtime_ready", "tts_warm", "agent_listening"):
            add(f"received -> {stage}", j.get(f"{stage}_ms"))  # type: ignore[arg-type]
        add("user join -> agent listening", (u.listening - u.t0) * 1000)  # type: ignore[attr-defined]
        add("user joined -> worker received job", (j["received_at"] - u.joined_at) * 1000)  # type: ignore[operator]
        blocks += list(j["blocks_ms"])  # type: ignore[call-overload]
        turn = next((t for t in j["turns"] if t["first_audio_out_at"]), None)  # type: ignore[attr-defined]
        if turn and turn["speech_end_at"]:
            user_ttfa = (u.first - u.end) * 1000  # type: ignore[attr-defined]
            add("in-agent TTFA", turn["ttfa"] * 1000)
            add("user end of speech -> reply heard", user_ttfa)
            add("  minus in-agent TTFA", user_ttfa - turn["ttfa"] * 1000)
            add("  uplink (user -> agent sends to model)", (turn["speech_end_at"] - u.end) * 1000)  # type: ignore[attr-defined]
            add(
                "  downlink (agent frame out -> user)",
                (u.first - turn["first_audio_out_at"]) * 1000,
            )  # type: ignore[attr-defined]
        if avatar:
            frames = [f for f in u.video if u.first + 0.5 < f[0] <= u.first + 2.5]  # type: ignore[attr-defined]
            add("avatar video received while speaking", len(frames) / 2.0)
    print(f"{len(users)} rooms, worker log: {tmp / 'worker.log'}")
    for key, values in rows.items():
        print(_fmt(key, values, "fps" if "avatar" in key else "ms"))
    print(f"{'event-loop blocks > 100 ms in jobs':44s} {len(blocks)} {blocks}")
    imports = {m for j in jobs.values() for m in j["imports_in_job"]}  # type: ignore[attr-defined]
    print(f"{'heavy modules imported inside jobs':44s} {sorted(imports) or 'none'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--avatar", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.rooms, args.avatar))
