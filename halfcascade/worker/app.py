"""``run_app``: livekit's ``cli.run_app`` with an offline switch and a clean credentials check.

::

    if __name__ == "__main__":
        run_app(server, required=["OPENAI_API_KEY", "ELEVEN_API_KEY"])

- ``--offline`` (anywhere on the command line) or ``HALFCASCADE_OFFLINE=1`` starts the
  provider stand-ins in-process (:mod:`halfcascade.worker.offline`), plus a local
  livekit-server for ``dev``/``start`` when ``LIVEKIT_URL`` is not set.
- Live, a missing variable ends the program before anything starts, with one message
  naming every variable to set (no traceback, no process left behind).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from livekit.agents import AgentServer, cli

from .offline import OfflineStandIns

__all__ = ["OFFLINE_ENV", "offline_requested", "run_app"]

OFFLINE_ENV = "HALFCASCADE_OFFLINE"
_ROOM_COMMANDS = ("dev", "start", "connect")
_LIVEKIT_VARS = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


def offline_requested(argv: Sequence[str] | None = None) -> bool:
    """Whether ``--offline`` is on the command line or ``HALFCASCADE_OFFLINE`` is set."""
    args = sys.argv if argv is None else argv
    flag = os.environ.get(OFFLINE_ENV, "").strip().lower()
    return "--offline" in args or flag not in ("", "0", "false", "no", "off")


def _command(argv: Sequence[str]) -> str | None:
    return next((a for a in argv[1:] if not a.startswith("-")), None)


def run_app(
    server: AgentServer,
    *,
    required: Sequence[str] = (),
    offline: Sequence[str] = ("openai", "elevenlabs"),
) -> None:
    """Run ``server`` with livekit's CLI (``console``, ``dev``, ``start``...).

    Args:
        required: provider variables the worker needs live (e.g. ``OPENAI_API_KEY``).
        offline: the stand-ins to start offline (see :class:`OfflineStandIns`).
    """
    is_offline = offline_requested()
    sys.argv = [a for a in sys.argv if a != "--offline"]
    command = _command(sys.argv)
    program = os.path.basename(sys.argv[0]) if sys.argv else "worker"
    stand_ins: OfflineStandIns | None = None
    if is_offline:
        providers = list(offline)
        if command in _ROOM_COMMANDS and not os.environ.get("LIVEKIT_URL"):
            providers.append("livekit")
        stand_ins = OfflineStandIns(providers)
        try:
            env = stand_ins.start()
        except Exception as exc:
            stand_ins.stop()
            _exit(f"{program}: cannot start the offline stand-ins: {exc}")
        os.environ.update(env)
        _say(f"{program}: offline, providers on loopback ({', '.join(providers)})")
        if "livekit" in providers:
            _say(f"  local livekit-server: LIVEKIT_URL={env['LIVEKIT_URL']}")
    elif command not in (None, "download-files", "--help"):
        missing = [v for v in required if not os.environ.get(v)]
        if command in _ROOM_COMMANDS:
            missing += [v for v in _LIVEKIT_VARS if not os.environ.get(v)]
        if missing:
            _exit(
                f"{program}: missing {', '.join(dict.fromkeys(missing))}. Set them, or run "
                f"offline on local stand-ins: python {program} {command} --offline "
                f"(or {OFFLINE_ENV}=1)."
            )
    try:
        cli.run_app(server)
    finally:
        if stand_ins is not None:
            stand_ins.stop()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _exit(message: str) -> None:
    _say(message)
    raise SystemExit(2)
