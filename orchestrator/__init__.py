"""orchestrate: a multi-agent coding orchestrator.

The public Python API is this package alone (``orchestrator.Orchestrator``), which the CLI itself uses. Names are
resolved lazily so that importing the package does no work.
"""

from __future__ import annotations

__version__ = "0.1.0"
