"""The command line. ``orchestrator.cli.main.cli(argv) -> int`` is the entry point."""
