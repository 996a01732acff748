"""Fleet runs: ``orchestrate batch TASKS.jsonl`` runs one full non-interactive session per task, each in its own fresh
clone, on a local pool of worker processes or on a Ray cluster, with identical results either way.

- :mod:`~orchestrator.engine.batch.tasks`: the tasks file (one JSON object a line), validated up front.
- :mod:`~orchestrator.engine.batch.worker`: runs ONE task (clone, setup, ``orchestrate exec --json``, patch, check)
  and returns a :class:`~orchestrator.engine.batch.results.TaskOutcome`; it never writes outside its work directory.
- :mod:`~orchestrator.engine.batch.results`: ``results.jsonl`` (appended and fsynced a line a task), ``patches/``.
- :mod:`~orchestrator.engine.batch.local` and :mod:`~orchestrator.engine.batch.ray_backend` (the only module that
  imports ray): the backends; :mod:`~orchestrator.engine.batch.runner`: the driver loop and its events.

Nothing is imported at package import (no work at import time; ray stays unloaded unless chosen).
"""
