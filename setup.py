"""Package list for setuptools: every first-party package, plus ``orchestrator._config``.

The design card keeps the shipped defaults in the top-level ``config/`` folder; the wheel carries them as the
``orchestrator._config`` package (see ``[tool.setuptools.package-dir]`` in pyproject.toml). Package discovery only
finds folders below ``orchestrator/``, so that mapped package must be named here, or a non-editable install ships
without its default config and rules (tests/test_packaging.py builds the wheel and checks).
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["orchestrator*", "agents*", "policies*", "memory*"]), "orchestrator._config"])
