"""The fault runs' stand-ins in their own process: reachable, switchable, and loud on failure."""

from __future__ import annotations

import os
import signal

import aiohttp
import pytest

from halfcascade.testing.faults_host import StandInError, StandInHost

pytestmark = pytest.mark.contract


async def test_a_hosted_rig_serves_and_injects_faults_from_another_process() -> None:
    async with StandInHost() as host, host.rig(seed=1) as rig:
        child = await host.call("ping")
        assert child != os.getpid()
        async with aiohttp.ClientSession() as http:
            # the OpenAI TTS stand-in answers from the child (400: no input)
            auth = {"Authorization": "Bearer test"}
            async with http.post(f"{rig.backup_url}/audio/speech", json={}, headers=auth) as resp:
                assert resp.status == 400
            # the primary voice's proxy refuses connections once told to
            await rig.call("before_reply", kind="tts_refuse")
            url = rig.elevenlabs_url.replace("ws://", "http://").replace("wss://", "https://")
            with pytest.raises(aiohttp.ClientError):
                async with http.get(f"{url}/voices", headers={"xi-api-key": "k"}) as resp:
                    await resp.read()
            await rig.call("restore")
            async with http.get(f"{url}/voices", headers={"xi-api-key": "k"}) as resp:
                assert resp.status == 200
        assert await rig.call("first_delta_at") is None  # no turn yet
        stats = await host.stats()
        assert stats["rigs"] == 1 and stats["rss"] > 10 * 2**20 and stats["errors"] == 0


async def test_bad_requests_and_a_dead_child_raise_naming_what_failed() -> None:
    async with StandInHost() as host, host.rig(seed=2) as rig:
        with pytest.raises(StandInError, match="unknown operation 'explode'"):
            await rig.call("explode")
        os.kill(await host.call("ping"), signal.SIGKILL)
        with pytest.raises(StandInError, match=r"exited|not running"):
            await rig.call("restore")
