"""The local provider stand-ins in a process of their own, for the concurrency benchmark.

``python -m halfcascade.bench.standins [--ttft 0.4] [--token-interval 0.03] [--tts-ttfb 0.25]``

starts one OpenAI Realtime and one ElevenLabs stand-in, prints one JSON line with their
URLs and serves until its standard input closes. Running them apart keeps their CPU out of
the worker process being measured (and lets each be pinned to its own core). Every
connection plays the scripted conversation from its first line: the reply to the user's
n-th turn is the n-th scripted reply, whatever was said.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from ..testing.elevenlabs import ElevenLabsServer
from ..testing.openai_realtime import RealtimeServer, ReplyContext
from ..testing.vad import VadConfig
from .script import TURNS, script

__all__ = ["main", "serve"]


def _replier(opener_rate: float) -> object:
    replies = [t.reply for t in script(len(TURNS), opener_rate=opener_rate)]

    def reply(ctx: ReplyContext) -> str:
        heard = sum(1 for item in ctx.items if item.get("role") == "user")
        return replies[max(0, heard - 1) % len(replies)]

    return reply


async def serve(
    *, ttft: float, token_interval: float, tts_ttfb: float, opener_rate: float = 0.7
) -> None:
    """Serve until standard input closes; the URLs go to standard output first."""
    vad = VadConfig(silence_duration_ms=300, semantic_silence_duration_ms=300)
    reply = _replier(opener_rate)
    async with (
        RealtimeServer(
            reply=reply,  # type: ignore[arg-type]
            ttft=ttft,
            token_interval=token_interval,
            vad=vad,
        ) as realtime,
        ElevenLabsServer(ttfb=tts_ttfb) as tts,
    ):
        print(json.dumps({"realtime": realtime.base_url, "tts": tts.base_url}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and serve."""
    parser = argparse.ArgumentParser(prog="python -m halfcascade.bench.standins")
    parser.add_argument("--ttft", type=float, default=0.4, help="first text after speech end")
    parser.add_argument("--token-interval", type=float, default=0.03, help="seconds per token")
    parser.add_argument("--tts-ttfb", type=float, default=0.25, help="TTS first byte")
    parser.add_argument("--opener-rate", type=float, default=0.7, help="replies with an opener")
    args = parser.parse_args(argv)
    asyncio.run(
        serve(
            ttft=args.ttft,
            token_interval=args.token_interval,
            tts_ttfb=args.tts_ttfb,
            opener_rate=args.opener_rate,
        )
    )


if __name__ == "__main__":
    main()
