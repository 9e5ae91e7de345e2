"""A local OpenAI Chat Completions server (streaming) for the LLM of a cascade.

``livekit.plugins.openai.LLM(base_url=server.base_url, api_key="test")`` streams from it
unchanged: ``POST /v1/chat/completions`` with ``stream: true`` answers server-sent
``chat.completion.chunk`` events, the first ``ttft`` after the request, then one token per
``token_interval``, a usage chunk and ``[DONE]``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, Self

from aiohttp import web

from .._service import Service
from .openai_realtime._types import split_tokens

__all__ = ["ChatCompletionsServer"]


class ChatCompletionsServer(Service):
    """Answers each request with ``reply(last user message)``, streamed token by token."""

    def __init__(
        self,
        *,
        reply: Callable[[str], str],
        ttft: float = 0.5,
        token_interval: float = 0.03,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._reply = reply
        self.ttft = ttft
        self.token_interval = token_interval
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self.requests: list[float] = []
        """Arrival times (``perf_counter``) of the completion requests."""
        self.first_tokens: list[float] = []
        """When each response's first token was sent (``perf_counter``)."""

    @property
    def base_url(self) -> str:
        """The URL to pass as the client's ``base_url``."""
        return f"http://{self._host}:{self._port}/v1"

    async def start(self) -> Self:
        """Bind and serve."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def aclose(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        self.requests.append(arrived)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.json_response({"error": {"message": "missing API key"}}, status=401)
        body = await request.json()
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        text = self._reply(_content(users[-1]) if users else "")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        model = str(body.get("model", "gpt-4o-mini"))
        await _sleep_until(arrived + self.ttft)
        for i, token in enumerate(split_tokens(text)):
            await _sleep_until(arrived + self.ttft + i * self.token_interval)
            delta: dict[str, Any] = {"content": token}
            if i == 0:
                delta["role"] = "assistant"
                self.first_tokens.append(time.perf_counter())
            await _send(resp, _chunk(model, [{"index": 0, "delta": delta}]))
        await _send(resp, _chunk(model, [{"index": 0, "delta": {}, "finish_reason": "stop"}]))
        usage = {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
        await _send(resp, {**_chunk(model, []), "usage": usage})
        await resp.write(b"data: [DONE]\n\n")
        return resp


def _content(message: dict[str, Any]) -> str:
    content = message.get("content", "")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


def _chunk(model: str, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
    }


async def _send(resp: web.StreamResponse, payload: dict[str, Any]) -> None:
    await resp.write(f"data: {json.dumps(payload)}\n\n".encode())


async def _sleep_until(deadline: float) -> None:
    await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
