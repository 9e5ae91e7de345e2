"""``halfcascade bench``: three pipelines interleaved on one profile, results and chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from halfcascade.bench.profiles import PROFILES, load_profile
from halfcascade.cli import app
from halfcascade.errors import ConfigError

pytestmark = [pytest.mark.contract, pytest.mark.timeout(180)]


def test_bench_runs_every_pipeline_and_writes_results(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["bench", "--profile", "fixed", "--turns", "1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "bench-fixed.json").read_text())
    turns = data["turns"]
    assert sorted(t["pipeline"] for t in turns) == [
        "cascade",
        "halfcascade",
        "livekit-half-cascade",
    ]
    for turn in turns:
        assert turn["ttfa"] > turn["floor"] * 0.9  # nothing beats the injected delays
        assert turn["phrase_floor"] > turn["floor"]  # "Woof," is two tokens
        assert turn["first_text"] is not None and turn["tts_wait"] is not None
    by_name = {t["pipeline"]: t for t in turns}
    assert by_name["halfcascade"]["first_tts_text"].strip() == "Woof,"  # the first phrase
    assert by_name["cascade"]["floor"] > by_name["halfcascade"]["floor"]  # STT + LLM
    png = (tmp_path / "bench-fixed.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_profiles_load_from_toml_with_clear_errors(tmp_path: Path) -> None:
    good = tmp_path / "mine.toml"
    good.write_text(
        'name = "mine"\ndescription = "test"\ntoken_interval = 0.02\n'
        "[first_text]\nlo = 0.3\nhi = 0.5\n[tts_ttfb]\nlo = 0.1\nhi = 0.2\n"
        "[stt_final]\nlo = 1.0\nhi = 1.0\n[llm_ttft]\nlo = 0.4\nhi = 0.6\n"
    )
    profile = load_profile(str(good))
    draws = profile.draws(5, seed=1)
    assert all(0.3 <= d.first_text <= 0.5 for d in draws)
    assert draws == profile.draws(5, seed=1)  # every pipeline gets the same draws
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ndescription = "y"\ntoken_interval = 0.02\nfirst_txt = 1\n')
    with pytest.raises(ConfigError, match="first_txt"):
        load_profile(str(bad))
    with pytest.raises(ConfigError, match="talking-pet"):
        load_profile("no-such-profile")
    assert {"fixed", "talking-pet", "realtime-flash"} <= set(PROFILES)
