"""The ``local`` batch backend: each task runs :func:`~orchestrator.engine.batch.worker.run_task` on a worker thread of
this process, and the work itself happens in the task's child processes (git, ``orchestrate exec``, the check). The
driver bounds how many run at once (``--max-concurrency``)."""

from __future__ import annotations

from orchestrator.engine.batch.results import TaskOutcome
from orchestrator.engine.batch.tasks import BatchTask
from orchestrator.engine.batch.worker import WorkerSpec, run_task

__all__ = ["LocalBackend"]


class LocalBackend:
    """Runs tasks on this machine. A cancelled run waits for its task's children (Ctrl-C reaches them too, and a
    session saves itself before exiting), so nothing is left running in a clone."""

    name = "local"

    async def run(self, task: BatchTask, spec: WorkerSpec) -> TaskOutcome:
        import anyio

        # One thread a running task: the runner already bounds the number; the default limiter (40) must not.
        limiter = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(run_task, task, spec, limiter=limiter)

    async def aclose(self) -> None:
        return None
