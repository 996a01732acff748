"""The ``ray`` batch backend: each task is one Ray task (``num_cpus`` declared) running
:func:`~orchestrator.engine.batch.worker.run_task` on some node of the cluster; its outcome (result, patch, log)
travels back through Ray's object store, so the driver writes every file and no shared filesystem is assumed.

The only module that imports ray, and only when this backend is chosen: ``pip install 'orchestrate[ray]'``.
"""

from __future__ import annotations

from typing import Any

from orchestrator.core.errors import UsageError
from orchestrator.engine.batch.results import TaskOutcome, TaskResult
from orchestrator.engine.batch.tasks import BatchTask
from orchestrator.engine.batch.worker import WorkerSpec, run_task

__all__ = ["RayBackend"]

_INSTALL_HINT = "pip install 'orchestrate[ray]'"


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError("--backend ray needs Ray, which is not installed", hint=_INSTALL_HINT) from None
    return ray


class RayBackend:
    """Submits tasks to ``ray.init(address=...)``: a running cluster, or a local one when ``address`` is empty. A Ray
    connection this process already has is used as it is (and left open)."""

    name = "ray"

    def __init__(self, *, address: str = "", num_cpus: float = 1.0) -> None:
        ray = _import_ray()
        self._ray = ray
        self._owns_connection = not ray.is_initialized()
        if self._owns_connection:
            ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        # No retries: a task that died half way is resumed by the next batch run, not re-run blindly by Ray.
        self._remote = ray.remote(num_cpus=num_cpus, max_retries=0)(run_task)

    async def run(self, task: BatchTask, spec: WorkerSpec) -> TaskOutcome:
        import anyio

        ref = self._remote.remote(task, spec)
        try:
            outcome: TaskOutcome = await anyio.to_thread.run_sync(self._ray.get, ref, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            self._ray.cancel(ref)  # KeyboardInterrupt in the worker: its session saves itself and exits
            raise
        except self._ray.exceptions.RayError as exc:
            message = str(exc).strip().splitlines()
            error = f"ray: {type(exc).__name__}: {message[-1] if message else ''}".rstrip(": ")
            return TaskOutcome(result=TaskResult(id=task.id, status="error", error=error), log=str(exc))
        return outcome

    async def aclose(self) -> None:
        if self._owns_connection:
            self._ray.shutdown()
