"""Durable session state (diskcache): the sessions catalogue, one session's records, locks."""
