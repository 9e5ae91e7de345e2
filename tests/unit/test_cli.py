"""The halfcascade command: help texts, exit codes, JSON output, forwarded subcommands."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from halfcascade.bench.profiles import PROFILES
from halfcascade.cli import EXIT_CONFIG, app

pytestmark = pytest.mark.unit

COMMANDS = [
    [],
    ["demo"],
    ["bench"],
    ["bench", "concurrency"],
    ["cache"],
    ["cache", "warm"],
    ["init"],
]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "halfcascade")
def test_help_is_clean_text(command: list[str]) -> None:
    code, out, _ = run(*command, "--help")
    assert code == 0
    assert "``" not in out and ":class:" not in out and ":func:" not in out
    assert "Usage:" in out


def test_bench_help_names_every_profile() -> None:
    _, out, _ = run("bench", "--help")
    for name, profile in PROFILES.items():
        assert f"{name}: {profile.description}" in out
    for sub in ("memory", "concurrency", "soak"):
        assert sub in out


def test_top_level_help_states_the_exit_codes() -> None:
    _, out, _ = run("--help")
    assert "0 success, 1 the run failed, 2 bad options or configuration" in out


def test_shared_options_are_spelled_alike() -> None:
    demo = run("demo", "--help")[1]
    bench = run("bench", "--help")[1]
    for option in ("--profile", "--seed", "--out", "--json"):
        assert option in demo and option in bench


def test_an_unknown_pipeline_exits_2_naming_the_choices() -> None:
    code, out, err = run("bench", "--pipelines", "cascade-9000", "--turns", "1")
    assert code == EXIT_CONFIG
    assert "cascade-9000" in err and "livekit-half-cascade" in err
    assert "Traceback" not in out + err


def test_an_unknown_profile_exits_2_naming_the_profiles() -> None:
    code, _, err = run("bench", "--profile", "warp-speed", "--turns", "1")
    assert code == EXIT_CONFIG
    assert all(name in err for name in PROFILES)


def test_a_bad_session_list_exits_2() -> None:
    code, _, err = run("bench", "concurrency", "--sessions", "1,ten")
    assert code == EXIT_CONFIG and "--sessions" in err


def test_demo_live_without_keys_exits_2_naming_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("ELEVEN_API_KEY", "set")
    code, _, err = run("demo", "--live", "--out", str(tmp_path))
    assert code == EXIT_CONFIG
    assert "OPENAI_API_KEY" in err and "ELEVEN_API_KEY" not in err
    assert not (tmp_path / "biscuit.mp4").exists()  # nothing started


def test_demo_refuses_a_broken_persona_file(tmp_path: Path) -> None:
    bad = tmp_path / "pet.toml"
    bad.write_text('name = "Rex"\nreply_length = { min_words = 9, max_words = 2 }\n')
    code, _, err = run("demo", "--persona", str(bad), "--out", str(tmp_path))
    assert code == EXIT_CONFIG and str(bad) in err


def test_cache_warm_refuses_a_missing_persona_file(tmp_path: Path) -> None:
    code, _, err = run("cache", "warm", "--persona", str(tmp_path / "nope.toml"))
    assert code == EXIT_CONFIG and "nope.toml" in err


def test_bench_soak_forwards_its_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def main(argv: list[str]) -> int:
        seen.append(argv)
        return 3

    module = types.ModuleType("halfcascade.bench.soak")
    module.main = main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "halfcascade.bench.soak", module)
    code, _, _ = run("bench", "soak", "--hours", "0.1", "--help", "extra")
    assert seen == [["--hours", "0.1", "--help", "extra"]]
    assert code == 3  # the soak's own exit code


def test_bench_memory_forwards_its_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    import halfcascade.bench.memory as memory

    seen: list[list[str]] = []
    monkeypatch.setattr(memory, "main", lambda argv: seen.append(list(argv)))
    code, _, _ = run("bench", "memory", "--sizes", "1000", "--help")
    assert code == 0 and seen == [["--sizes", "1000", "--help"]]


def test_demo_json_is_the_result_on_stdout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import halfcascade.demo.show as show
    from halfcascade.demo import DemoResult

    def fake_run(config: object, console: object) -> DemoResult:
        print("a table for people")  # human output must not reach stdout with --json
        return DemoResult(mode="offline", turns=[], video=tmp_path / "biscuit.mp4")

    monkeypatch.setattr(show, "run_with_progress", fake_run)
    code, out, _ = run("demo", "--json", "--out", str(tmp_path))
    assert code == 0
    data = json.loads(out)
    assert data["mode"] == "offline" and data["video"].endswith("biscuit.mp4")


def test_init_writes_a_starter_project_once(tmp_path: Path) -> None:
    code, out, _ = run("init", str(tmp_path), "--example", "companion_worker")
    assert code == 0, out
    assert (tmp_path / "agent.py").is_file() and (tmp_path / "personas" / "biscuit.toml").is_file()
    compile((tmp_path / "agent.py").read_text(), "agent.py", "exec")
    code, _, err = run("init", str(tmp_path))
    assert code == EXIT_CONFIG and "--force" in err
    code, out, _ = run("init", "--example", "list")
    assert code == 0 and "local_avatar" in out.split()


def test_demo_refuses_an_unknown_brain(tmp_path: Path) -> None:
    code, _, err = run("demo", "--brain", "claude", "--out", str(tmp_path), "--no-video")
    assert code == EXIT_CONFIG and "openai, google" in err


def test_bench_soak_count_mode_deals_every_count_out_whole() -> None:
    """Count mode gives each session a deck, not random draws: a count is met exactly
    (random draws left 185 of 200 ``realtime_5xx`` turns in a 1,000-barge-in run)."""
    from collections import Counter

    from halfcascade.bench.soak import _parser, _plans
    from halfcascade.testing.faults_run import FAULTS

    args = _parser().parse_args(
        ["--sessions", "3", "--minutes", "0", "--barge-ins", "10", "--faults-per-kind", "4"]
    )
    plans = _plans(args)
    dealt = Counter(k for p in plans for k in p.deck or ())
    assert dealt == Counter({"barge_in": 10, "plain": 4} | dict.fromkeys(FAULTS, 4))
    sizes = [len(p.deck or ()) for p in plans]
    assert max(sizes) - min(sizes) <= 1
    assert [p.avatar for p in plans] == [False, True, False]  # --avatar both: half


def test_bench_soak_rss_baseline_waits_for_every_sessions_window_to_fill() -> None:
    """RSS growth is measured from when every session's bounded state is full (its context
    window trimmed once), not before the first minute and not after half the run; a run
    whose windows never fill, or whose sessions come and go, uses the first minute;
    ``--warmup`` overrides all of them."""
    from halfcascade.bench.soak import _parser, _warmup
    from halfcascade.testing.faults_report import FaultReport as R

    args = _parser().parse_args(["--sessions", "2", "--minutes", "10"])
    t = 1000.0  # when the run began

    def warmup(reports: list[R], elapsed: float = 600.0, a: object = args) -> tuple[object, ...]:
        w = _warmup(a, reports, t, elapsed)  # type: ignore[arg-type]
        return w.seconds, w.until, w.windows_full_s

    both = [R(windows_full_at=[t + 250.0]), R(windows_full_at=[t + 180.0])]
    assert warmup(both) == (250.0, "context windows full", 250.0)
    # a slot's later sessions do not count: its first fill does
    refilled = [R(windows_full_at=[t + 250.0, t + 500.0]), R(windows_full_at=[t + 180.0])]
    assert warmup(refilled) == (250.0, "context windows full", 250.0)
    # one session never filled (two fills in the other slot do not stand in for it)
    one = [R(windows_full_at=[t + 180.0, t + 200.0]), R()]
    assert warmup(one) == (60.0, "first minute", None)
    early = [R(windows_full_at=[t + 20.0]), R(windows_full_at=[t + 30.0])]
    assert warmup(early) == (60.0, "first minute", 30.0)
    assert warmup([R(), R()], elapsed=100.0)[0] == 20.0  # 20 % of a short run
    late = [R(windows_full_at=[t + 400.0]), R(windows_full_at=[t + 180.0])]
    assert warmup(late) == (300.0, "half the run", 400.0)  # half the run is measured

    churn = _parser().parse_args(["--sessions", "2", "--session-turns", "5"])
    assert warmup(both, a=churn) == (60.0, "first minute", 250.0)  # new sessions start empty
    given = _parser().parse_args(["--sessions", "2", "--warmup", "30"])
    assert warmup(both, a=given) == (30.0, "--warmup", 250.0)


def test_bench_soak_rss_growth_runs_from_the_baseline_to_the_end() -> None:
    from halfcascade.bench.soak import _rss_growth, _Samples

    mb = 2**20
    # the run began at t=10: 200 MB when the windows fill 240 s into it (the warm-up's
    # growth is not counted), then 2 MB over the last 6 minutes
    rss = [(20.0, 150 * mb), (130.0, 190 * mb), (250.0, 200 * mb), (610.0, 202 * mb)]
    samples = _Samples(rss=rss, began=10.0)
    growth, rate = _rss_growth(samples, 240.0)
    assert growth == pytest.approx(0.01) and rate == pytest.approx(2 / 6)
    assert _rss_growth(samples, 601.0) == (None, None)  # the warm-up outlasted the run


def test_bench_soak_judges_the_ttfa_drift_of_the_halves_after_the_first_minute() -> None:
    """A timed run misses on a later half whose p95 is over 5 % slower, and on too few
    plain turns to say; the interval and the old thirds figure are reported beside it."""
    import random

    from halfcascade.bench.soak import _parser, _result, _Samples, _Warmup
    from halfcascade.testing.faults_report import FaultReport, WarningLog

    args = _parser().parse_args(["--sessions", "2", "--minutes", "10"])
    mb = 2**20
    began = 1000.0  # perf_counter() when the run began: turns are timed on the same clock
    rss = [(began + t, 200 * mb) for t in (0.0, 100.0, 300.0, 600.0)]
    samples = _Samples(rss=rss, began=began)
    warmup = _Warmup(300.0, "context windows full", 300.0)

    def judge(n: int, late: float, first_minute: int = 0) -> dict[str, Any]:
        rng = random.Random(5)
        at = [began + 60.0 + 540.0 * i / n for i in range(n)]
        slow = [late if t >= began + 330.0 else 1.0 for t in at]
        ttfa = [rng.lognormvariate(-1.3, 0.25) * k for k in slow]
        # turns in the first minute (first connections), 5 s each
        at += [began + 60.0 * i / first_minute for i in range(first_minute)]
        ttfa += [5.0] * first_minute
        report = FaultReport(ttfa=ttfa, ttfa_at=at)
        return _result(args, report, WarningLog(), samples, 600.0, warmup)

    steady = judge(1000, 1.0)
    assert steady["regressions"] == []
    low, high = steady["ttfa"]["p95_drift_interval"]
    assert low < steady["ttfa"]["p95_drift"] < high
    assert steady["ttfa"]["p95_drift_n"] == [500, 500]
    assert steady["ttfa"]["p95_drift_thirds"] is not None
    slower = judge(1000, 1.15)
    assert any("TTFA p95 drift" in m for m in slower["regressions"])
    few = judge(60, 1.0)["regressions"]
    assert "TTFA drift not measured: 60 plain turns after the first minute, 80 needed" in few[0]
    # the first minute is left out: slow first turns do not make a drift
    first = judge(1000, 1.0, first_minute=100)
    assert first["regressions"] == []
    assert first["ttfa"]["p95_drift"] == steady["ttfa"]["p95_drift"]
    assert first["ttfa"]["p95"] > steady["ttfa"]["p95"]  # they are in the run's p95


def test_bench_soak_refuses_bad_counts_and_runs_avatar_drops_alone() -> None:
    from halfcascade.bench.soak import _check, _parser

    def check(*argv: str) -> str:
        with pytest.raises(SystemExit) as e:
            _check(_parser().parse_args(list(argv)))
        return str(e.value)

    assert check("--avatar-drops", "-1") == "--avatar-drops must be >= 0"
    zero = ("--minutes", "0", "--barge-ins", "0", "--faults-per-kind", "0")
    assert "needs --barge-ins, --faults-per-kind or --avatar-drops > 0" in check(*zero)
    _check(_parser().parse_args([*zero, "--avatar-drops", "2"]))  # avatar drops alone


async def test_bench_soak_counts_avatar_drops_it_could_not_run_as_missed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No livekit-server: the avatar part is a miss that says how to get one, not a pass."""
    import halfcascade.testing.livekit_server as server
    from halfcascade.bench.soak_avatar import run_avatar_part

    monkeypatch.setattr(server, "find_server_binary", lambda: None)
    part, missed = await run_avatar_part(3, seed=4)
    assert "go install github.com/livekit/livekit-server" in part["skipped"]
    assert missed == [f"avatar drops not run: {part['skipped']}"]


def test_bench_soak_judges_avatar_drops_as_strictly_as_the_avatar_tests() -> None:
    """Every drop must fall back, every next reply be heard, every avatar join, and a
    before-start drop must come before the start report; warnings by message."""
    from collections import Counter

    from halfcascade.bench.soak_avatar import _missed
    from halfcascade.testing.avatar_drops import AvatarDropReport

    clean = AvatarDropReport("tavus", trials=2, heard=2, switch_times=[0.03, 0.04])
    assert _missed({"tavus": clean}, {"tavus": (2, False)}) == []
    bad = AvatarDropReport(
        "runway",
        trials=2,
        stuck=1,
        heard=1,
        silent=1,
        not_joined=1,
        switch_times=[0.03],
        drops=Counter({"before_start": 1, "kick": 2}),
        lifecycle=Counter({"playback_finished called before text/audio input is done": 2}),
    )
    assert _missed({"r": bad}, {"r": (3, True)}) == [
        "avatar drops (r): lifecycle warning x2: playback_finished called before text/audio "
        "input is done",
        "avatar drops (r): 1 stuck turns",
        "avatar drops (r): 1 silent turns",
        "avatar drops (r): 1 of 3 avatars never joined",
        "avatar drops (r): 1 drops never fell back",
        "avatar drops (r): 1 next replies not heard",
        "avatar drops (r): 1 drops came after the start report",
    ]


def test_bench_soak_judges_the_primary_down_extra_only_on_enough_turns() -> None:
    """Median first text -> audio with the primary already down, over that with it up: a
    miss above 50 ms from 30 such turns on; below that it is reported, not judged."""
    from halfcascade.bench.soak import _parser, _result, _Samples, _Warmup
    from halfcascade.testing.faults_report import FaultReport, WarningLog

    args = _parser().parse_args(["--minutes", "0", "--barge-ins", "0", "--faults-per-kind", "0"])

    def judge(down_turns: int) -> dict[str, Any]:
        report = FaultReport(text_to_audio=[0.20] * 50, down_delays=[0.28] * down_turns)
        return _result(args, report, WarningLog(), _Samples(), 600.0, _Warmup(60.0, "", None))

    few, enough = judge(10), judge(30)
    assert few["primary_down_extra"] == enough["primary_down_extra"] == pytest.approx(0.08)
    assert few["primary_down_turns"] == 10 and few["regressions"] == []
    assert enough["regressions"] == ["extra delay with the primary down 80 ms > 50 ms"]
