"""A watchdog for a realtime socket that stalls without closing.

livekit reconnects a realtime session when its websocket *closes*; one that stays open but
goes silent (a half-open TCP connection after a NAT or load-balancer drop, a stalled
server) is not noticed: livekit opens it without a heartbeat, so the user's words go into
it and the agent never answers again, for as long as the OS keeps the socket (hours).

:class:`SocketWatchdog` suspects silence where the service always answers: a response in
progress that sends nothing for half of ``stall_timeout``, or, with server-side turn
detection, that long of the user's voiced audio sent with no event back (the service
reports ``speech_started`` within a fraction of a second). It then probes: an empty
``session.update``, which the service always answers with ``session.updated``. Only if
nothing at all comes back in the other half does it shut the socket down, so livekit's
receive loop sees it close and reconnects as for a drop (livekit restores the
conversation on the new socket). A slow response or a noise the service ignores is
answered by the probe and left alone; an idle session is never touched. What the user
said into the dead socket is lost with it: the next words are answered.

The socket is captured by wrapping the session's ``_create_ws_conn`` (listed in
:data:`halfcascade._livekit.INTERNALS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import Any

__all__ = ["SocketWatchdog"]

logger = logging.getLogger("halfcascade.brain")

_CHECK_EVERY = 0.25
_VOICED_DBFS = -40.0  # a chunk this loud counts as the user's voice
# an update that changes nothing: the service always answers it with session.updated
_PROBE = {"type": "session.update", "session": {"type": "realtime"}}


class SocketWatchdog:
    """Shuts a realtime session's socket down when it goes silent where it must not."""

    def __init__(self, sess: Any, *, stall_timeout: float, server_turns: bool) -> None:
        self._sess = sess
        self._timeout = stall_timeout
        self._server_turns = server_turns
        self._ws: Any = None
        self._last_event = time.monotonic()
        self._voiced_since: float | None = None  # first voiced chunk after the last event
        self._responding = False
        self._probed_at: float | None = None
        self.stalls = 0
        """Stalled sockets shut down so far."""
        create = sess._create_ws_conn

        async def create_ws_conn() -> Any:
            ws = await create()
            self._ws, self._last_event = ws, time.monotonic()
            self._voiced_since, self._responding, self._probed_at = None, False, None
            return ws

        sess._create_ws_conn = create_ws_conn
        sess.on("openai_server_event_received", self._on_event)
        self._task = asyncio.create_task(self._watch(), name="halfcascade.realtime_watchdog")

    def sent(self, dbfs: float) -> None:
        """A chunk of user audio went out at ``dbfs``."""
        if self._server_turns and dbfs >= _VOICED_DBFS and self._voiced_since is None:
            self._voiced_since = time.monotonic()

    def _on_event(self, event: dict[str, Any]) -> None:
        self._last_event = time.monotonic()
        self._voiced_since, self._probed_at = None, None
        kind = event.get("type")
        if kind == "response.created":
            self._responding = True
        elif kind == "response.done":
            self._responding = False

    def suspect(self, now: float) -> str | None:
        """Why the service should have said something by ``now`` (``None``: no reason)."""
        half = self._timeout / 2
        if self._responding and now - self._last_event > half:
            return "a response stopped mid-way"
        if self._voiced_since is not None and now - self._voiced_since > half:
            return "the user's speech got no answer"
        return None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(_CHECK_EVERY)
            ws, now = self._ws, time.monotonic()
            if ws is None or ws.closed or (why := self.suspect(now)) is None:
                continue
            if self._probed_at is None:
                self._probed_at = now
                with contextlib.suppress(Exception):  # a send on a dying socket
                    self._sess.send_event(_PROBE)
                continue
            if now - self._probed_at < self._timeout / 2:
                continue
            self.stalls += 1
            logger.warning(
                "realtime connection stalled, reconnecting",
                extra={"reason": why, "silent_s": round(now - self._last_event, 1)},
            )
            self._ws, self._voiced_since, self._responding = None, None, False
            self._probed_at = None
            _shut_down(ws)

    async def aclose(self) -> None:
        """Stop watching."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def _shut_down(ws: Any) -> None:
    """End the socket at once (a close handshake would wait on the stalled peer)."""
    sock = ws.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
