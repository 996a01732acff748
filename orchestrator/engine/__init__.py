"""The engine: what runs sessions (DESIGN.md "engine/"). ``engine.batch`` runs many sessions as a fleet.

Nothing is imported here: ``orchestrate --help`` and the other commands never load the engine's batch backends.
"""
