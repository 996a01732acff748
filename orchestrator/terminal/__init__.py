"""The terminal front end's widgets and prompts (rich): the live DAG view, plan/diff review, approval and trust
questions. The CLI passes them to the run as its UI ports (:mod:`orchestrator.terminal.ports`), and so does
:meth:`orchestrator.Orchestrator.from_config` with ``interactive=True`` and no ports, which is why they sit below the
API rather than inside ``cli/``; compose never imports them. Only ``cli/`` and this package
prompt or import rich (objects elsewhere may render themselves with ``__rich__``)."""
