"""orchestrate: a multi-agent coding orchestrator.

The public Python API is this package alone (``orchestrator.Orchestrator``), which the CLI itself uses. Names are
resolved lazily (module ``__getattr__``) so that ``import orchestrator`` does no work and imports nothing heavy.

>>> import anyio, orchestrator
>>> from pathlib import Path
>>> from orchestrator import load_config
>>> orch = orchestrator.Orchestrator.from_config(load_config(cwd=Path.cwd()), interactive=False, events=None)
>>> result = anyio.run(orch.run, "add input validation to bank.py")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from orchestrator.api import Orchestrator
    from orchestrator.compose import load_config
    from orchestrator.core import errors, events
    from orchestrator.core.errors import (
        ConfigError,
        InputError,
        InterruptedRunError,
        ModelError,
        OrchestrateError,
        SessionNotFoundError,
        TaskFailedError,
        UsageError,
    )
    from orchestrator.core.events import Event, EventSink, JsonlSink, ListSink
    from orchestrator.core.plan import Plan, Step
    from orchestrator.core.ports import UiPorts
    from orchestrator.engine.session import SessionResult
    from orchestrator.settings.config import LoadedConfig

__all__ = [
    "__version__",
    "Orchestrator",
    "SessionResult",
    "Plan",
    "Step",
    "load_config",
    "LoadedConfig",
    "UiPorts",
    "events",
    "Event",
    "EventSink",
    "JsonlSink",
    "ListSink",
    "errors",
    "OrchestrateError",
    "UsageError",
    "ConfigError",
    "InputError",
    "ModelError",
    "TaskFailedError",
    "InterruptedRunError",
    "SessionNotFoundError",
]

# public name → the module that defines it (a module itself when the name is a module)
_WHERE: dict[str, str] = {
    "Orchestrator": "orchestrator.api",
    "SessionResult": "orchestrator.engine.session",
    "Plan": "orchestrator.core.plan",
    "Step": "orchestrator.core.plan",
    "load_config": "orchestrator.compose",
    "LoadedConfig": "orchestrator.settings.config",
    "UiPorts": "orchestrator.core.ports",
    "Event": "orchestrator.core.events",
    "EventSink": "orchestrator.core.events",
    "JsonlSink": "orchestrator.core.events",
    "ListSink": "orchestrator.core.events",
    **{name: "orchestrator.core.errors" for name in __all__ if name.endswith("Error")},
}


def __getattr__(name: str) -> Any:
    if name in ("events", "errors"):
        return importlib.import_module(f"orchestrator.{name}")
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'orchestrator' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
