"""The roles: the shared agent loop, the planner, the coder, the reviewer and the validator, and their prompts.

What the engine calls: :func:`agents.planner.make_plan` (task → validated plan) and :func:`agents.pipeline.run_step`
(one plan step in its staging area → :class:`agents.pipeline.StepOutcome`). Every agent command goes through
:class:`orchestrator.engine.commands.CommandRunner`. The public Python API of orchestrate is the ``orchestrator``
package; ``agents`` is an internal package (its name is also taken by another popular SDK).
"""
