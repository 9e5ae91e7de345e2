"""``halfcascade bench``: four pipelines interleaved on one profile, results and chart."""

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
    args = ["bench", "--profile", "fixed", "--turns", "1", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--opener-rate", "1", "--remote-avatar-delay", "0.6"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "bench-fixed.json").read_text())
    turns = data["turns"]
    assert sorted(t["pipeline"] for t in turns) == [
        "cascade",
        "halfcascade",
        "halfcascade+cache",
        "livekit-half-cascade",
    ]
    for turn in turns:
        assert turn["phrase_floor"] > turn["floor"]  # "Woof!" is two tokens
        assert turn["first_text"] is not None and turn["tts_wait"] is not None
        assert turn["opener"] == "Woof!" and turn["gap"] is not None
        assert (turn["mouth"] is None) == (turn["pipeline"] == "cascade")  # avatar: half-cascades
        if turn["pipeline"] != "halfcascade+cache":
            assert turn["ttfa"] > turn["floor"] * 0.9  # nothing beats the injected delays
    by_name = {t["pipeline"]: t for t in turns}
    assert by_name["halfcascade"]["first_tts_text"].strip() == "Woof!"  # the first phrase
    assert by_name["halfcascade"]["cache"] is None
    cached = by_name["halfcascade+cache"]
    # the opener came from the cache: the TTS only heard the rest, and sooner than any floor
    assert cached["cache"] == "hit" and cached["first_tts_text"].strip() == "I'm up!"
    assert cached["ttfa"] < cached["floor"] and cached["tts_wait"] == 0.0
    assert by_name["cascade"]["floor"] > by_name["halfcascade"]["floor"]  # STT + LLM
    assert "phrase cache" in result.output  # the second table
    png = (tmp_path / "bench-fixed.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_bench_on_gemini_compares_the_half_cascades_on_the_gemini_stand_in(
    tmp_path: Path,
) -> None:
    args = ["bench", "--profile", "fixed", "--turns", "1", "--out", str(tmp_path)]
    args += ["--brain", "google", "--pipelines", "livekit-half-cascade,halfcascade+cache"]
    result = CliRunner().invoke(app, [*args, "--opener-rate", "1", "--no-mouth"])
    assert result.exit_code == 0, result.output
    assert "brain: google" in result.output
    turns = json.loads((tmp_path / "bench-fixed-google.json").read_text())["turns"]
    by_name = {t["pipeline"]: t for t in turns}
    livekit, cached = by_name["livekit-half-cascade"], by_name["halfcascade+cache"]
    assert livekit["first_text"] is not None and livekit["ttfa"] > livekit["floor"] * 0.9
    # GoogleBrain's text reached the cache: the opener played, the TTS heard only the rest
    assert cached["cache"] == "hit" and cached["first_tts_text"].strip() == "I'm up!"
    assert cached["ttfa"] < cached["floor"]


def test_an_unknown_brain_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "--brain", "claude", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "openai" in result.output + (result.stderr or "")


def test_a_reply_without_an_opener_is_a_miss_at_the_floor(tmp_path: Path) -> None:
    args = ["bench", "--profile", "fixed", "--turns", "1", "--out", str(tmp_path)]
    args += ["--pipelines", "halfcascade+cache", "--opener-rate", "0", "--no-mouth"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (turn,) = json.loads((tmp_path / "bench-fixed.json").read_text())["turns"]
    assert turn["opener"] is None and turn["cache"] == "miss" and turn["mouth"] is None
    assert turn["ttfa"] > turn["floor"] * 0.9 and turn["first_tts_text"].strip() == "I'm up!"


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
    assert PROFILES["talking-pet"].remote_avatar_delay == 0.6
    avatar = tmp_path / "avatar.toml"
    avatar.write_text("remote_avatar_delay = -1\n" + good.read_text())
    with pytest.raises(ConfigError, match="remote_avatar_delay"):
        load_profile(str(avatar))


def test_concurrency_runs_each_level_in_its_own_worker_and_reports_drift(tmp_path: Path) -> None:
    args = ["bench", "concurrency", "--sessions", "2", "--turns", "3", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    one, two = json.loads((tmp_path / "bench-concurrency.json").read_text())
    assert (one["sessions"], two["sessions"]) == (1, 2)  # one session is always the baseline
    for level in (one, two):
        assert level["failed_turns"] == 0
        assert len(level["ttfa"]) == level["sessions"] * 3  # every turn of every session timed
        assert 0 < level["ttfa_p50"] < 5 and level["cpu_per_session"] > 0
        assert sorted(level["rss_by_turn_mib"], key=int) == ["1", "2", "3"]  # RSS every turn
        assert level["rss_growth_per_session_mib"] is not None
        assert level["standins_cpu"] > 0  # the stand-ins' own load is reported, to tell apart
    assert "N simultaneous sessions" in result.output and "p50 drift" in result.output
