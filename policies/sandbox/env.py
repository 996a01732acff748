"""Environment scrubbing: credentials never reach a command an agent runs.

A variable is removed when its name matches ``env_deny`` (config), or matches a built-in secret pattern and not
``env_allow`` (config). Patterns are ``fnmatch`` globs compared case-insensitively. Precedence: ``env_deny`` beats
``env_allow`` beats the built-in list, so a user can pass one token on purpose (``env_allow = ["GH_TOKEN"]``) and
can always remove more (``env_deny = ["CORP_*"]``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

__all__ = ["SECRET_PATTERNS", "is_secret", "scrub_env"]

SECRET_PATTERNS: tuple[str, ...] = (
    "*_API_KEY",
    "*_APIKEY",
    "API_KEY",
    "*_TOKEN",
    "TOKEN",
    "*_SECRET",
    "*_SECRET_*",
    "*_SECRET_KEY",
    "*_PASSWORD",
    "*_PASSWD",
    "PASSWORD",
    "*_ACCESS_KEY",
    "*_ACCESS_KEY_ID",
    "*_PRIVATE_KEY",
    "*_CREDENTIALS",
    "*_AUTH",
    "AWS_*",
    "AZURE_*",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_*",
    "GCLOUD_*",
    "CLOUDSDK_*",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITLAB_TOKEN",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "NPM_TOKEN",
    "NODE_AUTH_TOKEN",
    "PYPI_TOKEN",
    "TWINE_PASSWORD",
    "DOCKER_AUTH_CONFIG",
    "DATABASE_URL",
    "SSH_AUTH_SOCK",
    "GPG_AGENT_INFO",
    "KUBECONFIG",
)


def _matches(name: str, patterns: Iterable[str]) -> bool:
    upper = name.upper()
    return any(fnmatchcase(upper, pattern.upper()) for pattern in patterns)


def is_secret(name: str, *, allow: Iterable[str] = (), deny: Iterable[str] = ()) -> bool:
    """Whether ``name`` must be removed from a sandboxed command's environment."""
    if _matches(name, deny):
        return True
    if _matches(name, allow):
        return False
    return _matches(name, SECRET_PATTERNS)


def scrub_env(environ: Mapping[str, str], *, allow: Iterable[str] = (), deny: Iterable[str] = ()) -> dict[str, str]:
    """A copy of ``environ`` without the variables :func:`is_secret` names."""
    allow, deny = tuple(allow), tuple(deny)
    return {name: value for name, value in environ.items() if not is_secret(name, allow=allow, deny=deny)}
