"""The local livekit-server harness: loopback here, or a namespace with a veth pair."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from halfcascade.testing.livekit_server import (
    LiveKitServer,
    client_can_connect,
    find_server_binary,
    loopback_namespace,
)

pytestmark = pytest.mark.room

_PROBE = """
import asyncio
from halfcascade.testing.livekit_server import LiveKitServer, client_can_connect
async def main():
    async with LiveKitServer() as lk:
        print("connect", await client_can_connect(lk, within=8))
asyncio.run(main())
"""


async def test_tokens_and_loopback_clients(lk: LiveKitServer) -> None:
    assert lk.url.startswith("ws://127.0.0.1:")
    assert "enable_loopback_candidate: true" in lk.config()
    assert await client_can_connect(lk)


def test_clients_connect_inside_a_namespace_with_a_veth_pair() -> None:
    """With only ``lo`` libwebrtc gathers no candidate; a veth pair is enough.

    Needs root and iproute2 (a CI runner may lack them: this one alone is an optional
    environment check, so it skips rather than fails there)."""
    if find_server_binary() is None or shutil.which("ip") is None or os.geteuid() != 0:
        pytest.skip("needs livekit-server, iproute2 and root")
    try:
        ns_cm = loopback_namespace("halfcascade-lk-test")
        name = ns_cm.__enter__()
    except subprocess.CalledProcessError as e:
        pytest.skip(f"cannot create a network namespace here: {e.stderr!r}")
    try:
        out = subprocess.run(
            ["ip", "netns", "exec", name, sys.executable, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
    finally:
        ns_cm.__exit__(None, None, None)
    assert "connect True" in out.stdout, out.stderr[-2000:]
