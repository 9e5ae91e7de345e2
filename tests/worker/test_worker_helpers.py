"""The worker helpers without a server: preload plan, load, offline switch, init, checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from livekit.agents import AgentServer, JobProcess
from livekit.agents.job import JobExecutorType

from halfcascade import ConfigError
from halfcascade.worker import (
    load_by_jobs,
    offline_requested,
    preload_modules,
    preloaded,
    room_options,
    worker_server,
)
from halfcascade.worker.init import init_project, list_examples

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PERSONA = ROOT / "examples" / "personas" / "biscuit.toml"


def test_preload_plan_covers_the_openai_types_and_refuses_unknown_providers() -> None:
    mods = preload_modules(["openai", "elevenlabs"])
    assert "openai.types.realtime" in mods and "livekit.plugins.elevenlabs" in mods
    assert "halfcascade.brain._chunked" in mods
    with pytest.raises(ConfigError, match="unknown provider"):
        preload_modules(["openai", "acme"])


def test_worker_server_prepares_each_process_before_its_job() -> None:
    server = worker_server(persona=PERSONA, phrase_cache=False)
    assert isinstance(server, AgentServer) and server.setup_fnc is not None
    proc = JobProcess(executor_type=JobExecutorType.PROCESS, user_arguments=None, http_proxy=None)
    server.setup_fnc(proc)  # what livekit runs in each idle process
    ready = preloaded(proc)
    assert ready.persona is not None and ready.persona.name == "Biscuit"
    assert ready.phrase_cache is None


def test_worker_server_refuses_a_missing_persona_and_no_warm_process(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        worker_server(persona=tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="num_idle_processes"):
        worker_server(num_idle_processes=0)


def test_load_by_jobs_counts_running_jobs() -> None:
    class _Server:
        active_jobs = [object(), object()]

    # in livekit-server's units: full (its default target load, 0.7) at max_jobs
    assert load_by_jobs(4)(_Server()) == pytest.approx(0.35)  # type: ignore[arg-type]
    assert load_by_jobs(2)(_Server()) == pytest.approx(0.7)  # type: ignore[arg-type]
    assert load_by_jobs(1)(_Server()) == pytest.approx(0.7)  # type: ignore[arg-type]
    assert load_by_jobs(4, target_load=0.9)(_Server()) == pytest.approx(0.45)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_jobs"):
        load_by_jobs(0)
    with pytest.raises(ConfigError, match="target_load"):
        load_by_jobs(4, target_load=1.5)


def test_offline_switch_and_room_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALFCASCADE_OFFLINE", raising=False)
    assert offline_requested(["app.py", "console", "--offline"])
    assert not offline_requested(["app.py", "console"])
    monkeypatch.setenv("HALFCASCADE_OFFLINE", "1")
    assert offline_requested(["app.py", "start"])
    audio_in = room_options().audio_input
    assert getattr(audio_in, "frame_size_ms", None) == 20
    with pytest.raises(ConfigError):
        room_options(input_frame_ms=25)


@pytest.mark.parametrize("example", ["companion_worker", "gemini_companion"])
def test_an_example_without_keys_exits_cleanly_naming_them(example: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(ROOT)}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{example}.py"), "start"],
        capture_output=True, text=True, timeout=60, env=env, cwd=str(ROOT),
    )  # fmt: skip
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "missing" in out.stderr and "LIVEKIT_URL" in out.stderr and "--offline" in out.stderr


def test_init_writes_a_starter_project(tmp_path: Path) -> None:
    assert {"companion_worker", "local_avatar", "gemini_companion"} <= set(list_examples())
    written = init_project(tmp_path / "pet", example="local_avatar")
    assert (tmp_path / "pet" / "agent.py").read_text().startswith('"""A companion with a face')
    assert (tmp_path / "pet" / "personas" / "biscuit.toml") in written
    assert "OPENAI_API_KEY=" in (tmp_path / "pet" / ".env.example").read_text()
    with pytest.raises(ConfigError, match="already exist"):
        init_project(tmp_path / "pet")
    init_project(tmp_path / "pet", force=True)
    with pytest.raises(ConfigError, match="unknown example"):
        init_project(tmp_path / "other", example="nope")
