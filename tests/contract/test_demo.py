"""The README's main job: ``halfcascade demo`` offline, on the local servers."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from typer.testing import CliRunner

from halfcascade.cli import app
from halfcascade.demo import USER_LINES, run_demo

pytestmark = [pytest.mark.contract, pytest.mark.timeout(180)]


async def test_offline_demo_holds_a_spoken_conversation(tmp_path: Path) -> None:
    wav_path = tmp_path / "demo.wav"
    turns = await run_demo(wav_path=wav_path, live=False)

    assert len(turns) == len(USER_LINES)
    # whisper heard the spoken lines well enough for the rule book to pick the right answer
    assert "leash" in turns[1].reply and "treats" in turns[2].reply.lower()
    assert "walk" in turns[1].heard.lower() and "treat" in turns[2].heard.lower()
    assert all(0 < t.ttfa < 10 for t in turns)
    with wave.open(str(wav_path)) as f:
        assert f.getframerate() == 24000 and f.getnframes() > 24000 * 8


def test_cli_refuses_an_unknown_bench_pipeline() -> None:
    result = CliRunner().invoke(app, ["bench", "--pipelines", "cascade-9000", "--turns", "1"])
    assert result.exit_code != 0
    assert "livekit-half-cascade" in str(result.exception)
