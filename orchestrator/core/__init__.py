"""Contracts (Protocols), the one error tree, events, the plan and its DAG. Imports no first-party code."""
