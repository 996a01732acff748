"""A tiny real OpenAI-compatible HTTP server on 127.0.0.1 for adapter tests: serves canned chat completions."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Canned:
    """One reply: an HTTP status and a JSON body."""

    status: int
    body: dict[str, Any]


@dataclass
class StubServer:
    url: str
    replies: list[Canned] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def completion(content: str | None, tool_calls: list[dict[str, Any]] | None = None, *, prompt_tokens: int = 7,
               completion_tokens: int = 3) -> Canned:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return Canned(200, {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "x",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    })


def error(status: int, message: str) -> Canned:
    return Canned(status, {"error": {"message": message, "type": "error", "code": status}})


@contextmanager
def stub_server() -> Iterator[StubServer]:
    """Serve ``/v1/chat/completions`` from ``server.replies`` (in order) until the block ends."""
    state = StubServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.requests.append(json.loads(self.rfile.read(length) or b"{}"))
            state.headers.append({k.lower(): v for k, v in self.headers.items()})
            if self.path.rstrip("/") != "/v1/chat/completions" or not state.replies:
                reply = error(404, f"no canned reply for {self.path}")
            else:
                reply = state.replies.pop(0)
            data = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
