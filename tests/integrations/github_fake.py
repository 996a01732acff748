"""A local stand-in for the GitHub REST API, for the real ``gh`` CLI: the fake sits only at the HTTP boundary.

``gh`` talks to a GitHub Enterprise host at ``https://HOST/api/v3/`` (``GH_HOST`` + ``GH_ENTERPRISE_TOKEN``); this
server answers there over TLS with a throw-away self-signed certificate that ``gh`` (Go) trusts through
``SSL_CERT_FILE``. Each route replays recorded responses in order (the shapes of GitHub's documented replies: a
created pull request, a created review, a 422 validation error) and records every request for the test to inspect.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["FakeGitHub", "Recorded", "fake_github"]

TOKEN = "test-token"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    """Routes ``(METHOD, /api/v3/PATH)`` → responses ``(status, json)`` replayed in order (the last one repeats)."""

    cert: Path
    host: str = ""
    routes: dict[tuple[str, str], list[tuple[int, Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def reply(self, method: str, path: str, *responses: tuple[int, Any]) -> None:
        self.routes[(method, f"/api/v3/{path}")] = list(responses)

    def env(self, config_dir: Path) -> dict[str, str]:
        """What ``gh`` needs to talk to this server, as the workflow's token would be given to the Action."""
        return {"GH_HOST": self.host, "GITHUB_TOKEN": TOKEN, "SSL_CERT_FILE": str(self.cert),
                "GH_CONFIG_DIR": str(config_dir), "GITHUB_SERVER_URL": f"https://{self.host}"}

    def answer(self, method: str, path: str) -> tuple[int, Any]:
        queue = self.routes.get((method, path))
        if not queue:
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
        return queue.pop(0) if len(queue) > 1 else queue[0]


def _certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return cert, key


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw) if raw else None
            fake.requests.append(Recorded(self.command, self.path, dict(self.headers), body))
            status, reply = fake.answer(self.command, self.path)
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def fake_github(directory: Path) -> Iterator[FakeGitHub]:
    """A running fake on 127.0.0.1 (a free port), stopped on exit."""
    cert, key = _certificate(directory)
    fake = FakeGitHub(cert=cert)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake.host = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
