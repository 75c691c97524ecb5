"""A local HTTP server on 127.0.0.1 that speaks the parts of the OpenAI API we use.

The real ``openai`` client talks to it over real HTTP (through Home Assistant's shared
httpx client), so retries, status codes, timeouts and JSON mode are exercised exactly as
against api.openai.com or Ollama. Each test scripts the replies: a queue of ``Reply``
objects, then ``default`` for every further request.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Tokens estimated as OpenAI's rule of thumb for English: ~4 characters per token.
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """~4 characters per token."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    body: Any = None  # JSON-serialisable; None: a completion of ``content``
    content: str | None = None  # the assistant's message text
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    raw: str | None = None  # sent as is (not JSON)


def error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    """The error object OpenAI returns."""
    kinds = {401: "invalid_request_error", 429: "rate_limit_exceeded", 400: "invalid_request_error"}
    return {"error": {"message": message, "type": kinds.get(status, "server_error"), "code": code}}


def request_items(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The suggestion summaries in a chat request's user message."""
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    return list(json.loads(user)["suggestions"])


def good_wording(request: dict[str, Any]) -> str:
    """What a well-behaved model answers: one valid title and description per id."""
    out = []
    for item in request_items(request):
        device, state = item["device"], item["to_state"]
        if item["kind"] == "co_occurrence":
            title = f"{device} {state} after {item['trigger_device']}"
            when = f"right after {item['trigger_device']} goes {item['trigger_to_state']}"
        elif item["kind"] == "duration":
            title = f"{device} {state} after {item['typical_after_s']} s {item['from_state']}"
            when = f"{item['typical_after_s']} seconds after it goes {item['from_state']}"
        elif item["kind"] == "sun":
            title = f"{device} {state} near {item['sun_event']}"
            when = f"{item['offset_min']} minutes after {item['sun_event']}"
        else:
            title = f"{device} {state} at {item['time']}"
            when = f"at {item['time']}"
        description = (
            f"You set {device} to {state} {when} on {item['occurrences']} of {item['out_of']} "
            f"occasions. Replayed over your history this automation would have fired "
            f"{item['backtest']['would_have_fired']} times and matched you "
            f"{item['backtest']['matched']} times; it does nothing when {device} is already {state}."
        )
        out.append({"id": item["id"], "title": title[:60], "description": description})
    return json.dumps({"suggestions": out}, ensure_ascii=False)


def completion(request: dict[str, Any], content: str) -> dict[str, Any]:
    """A chat.completion object with usage estimated from the request and the content."""
    prompt_text = "".join(m["content"] for m in request["messages"])
    prompt_tokens = estimate_tokens(prompt_text) + 7 * len(request["messages"])  # per-message overhead
    completion_tokens = estimate_tokens(content)
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_750_000_000,
        "model": request.get("model", "gpt-4o-mini"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class FakeOpenAI:
    """The server; ``url`` is its ``/v1`` base URL once started."""

    def __init__(self) -> None:
        """Nothing scripted: every chat request gets ``good_wording``."""
        self.replies: list[Reply] = []
        self.default: Callable[[dict[str, Any]], Reply] = lambda r: Reply(content=good_wording(r))
        self.chat_requests: list[dict[str, Any]] = []
        self.auth_headers: list[str | None] = []
        self.models: list[str] = ["gpt-4o-mini", "gpt-4.1-nano", "llama3.2:latest"]
        self.models_reply: Reply | None = None
        self.reject_json_mode = False  # answer 400 to response_format, like LM Studio
        self.valid_key: str | None = None  # when set, any other bearer token gets 401
        self.prefix = "/v1"
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The base URL to configure."""
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_post(f"{self.prefix}/chat/completions", self._chat)
        app.router.add_get(f"{self.prefix}/models", self._models)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        """Close the listener and open connections."""
        if self._runner is not None:
            await self._runner.cleanup()

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization")
        self.auth_headers.append(header)
        if self.valid_key is not None and header != f"Bearer {self.valid_key}":
            return web.json_response(
                error_body(401, "Incorrect API key provided", "invalid_api_key"), status=401
            )
        return None

    async def _send(self, reply: Reply, request: dict[str, Any]) -> web.Response:
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.raw is not None:
            return web.Response(text=reply.raw, status=reply.status, headers=reply.headers)
        body = reply.body
        if body is None:
            body = completion(request, reply.content or "")
        return web.json_response(body, status=reply.status, headers=reply.headers)

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.chat_requests.append(body)
        if (denied := self._unauthorized(request)) is not None:
            return denied
        if self.reject_json_mode and "response_format" in body:
            return web.json_response(
                error_body(400, "'response_format.type' must be 'json_schema'"), status=400
            )
        reply = self.replies.pop(0) if self.replies else self.default(body)
        return await self._send(reply, body)

    async def _models(self, request: web.Request) -> web.Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        if self.models_reply is not None:
            return await self._send(self.models_reply, {})
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in self.models]
        return web.json_response({"object": "list", "data": data})


def strip_ids(text: str) -> list[str]:
    """Entity-id-like tokens in ``text`` (what the writer must never let through)."""
    return re.findall(r"\b[a-z_]{2,}\.[a-z0-9_]+\b", text)
