"""The terminal front end's widgets and prompts (rich): the live DAG view, plan/diff review, approval and trust
questions. The CLI uses them, and so does :meth:`orchestrator.Orchestrator.from_config` with ``interactive=True``
(through compose), which is why they sit below the API rather than inside ``cli/``. Only ``cli/`` and this package
prompt or import rich (objects elsewhere may render themselves with ``__rich__``)."""
