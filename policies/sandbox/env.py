"""The environment of a sandboxed command: an allow-list, so credentials never reach a command an agent runs.

A variable passes when it is not in ``env_deny`` and either matches ``env_allow`` (config) or is in the small
:data:`CORE_VARS` set (what shells and build tools need: ``PATH``, ``HOME``, locale, terminal, temp dirs, toolchain
locations) *and* does not look like a secret (:data:`SECRET_PATTERNS`, or a value that is a URL with a password,
``https://user:token@host``). Patterns are ``fnmatch`` globs compared case-insensitively. Precedence: ``env_deny``
beats ``env_allow`` beats the built-in lists, so a user can pass one token on purpose (``env_allow = ["GH_TOKEN"]``)
and can always remove more (``env_deny = ["CORP_*"]``). Like Codex's ``shell_environment_policy`` with
``inherit = "core"``: everything else (``PGPASSWORD``, ``MYSQL_PWD``, ``SECRET_KEY``, ``GITHUB_PAT``, a project's
own variables) is dropped unless allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

__all__ = ["CORE_VARS", "SECRET_PATTERNS", "is_secret", "passes", "scrub_env"]

CORE_VARS: tuple[str, ...] = (
    # shell and session
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD", "SHLVL", "HOSTNAME", "TMPDIR", "TMP", "TEMP", "TZ",
    "LANG", "LANGUAGE", "LC_*", "TERM", "TERMINFO", "TERMINFO_DIRS", "COLORTERM", "COLUMNS", "LINES", "NO_COLOR",
    "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "PAGER", "EDITOR", "VISUAL", "CI", "SOURCE_DATE_EPOCH",
    "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_DIRS", "XDG_DATA_DIRS",
    # Python
    "VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED", "PYTHONIOENCODING", "PYTHONUTF8", "PYTHONHASHSEED", "PYTHONWARNINGS", "PYTEST_ADDOPTS",
    "PIP_*", "UV_*", "POETRY_*",
    # JavaScript
    "NODE_PATH", "NODE_OPTIONS", "NODE_ENV", "NVM_DIR", "NVM_BIN", "NPM_CONFIG_*", "YARN_*", "PNPM_HOME", "COREPACK_*",
    # other toolchains and build tools
    "GOPATH", "GOROOT", "GOCACHE", "GOMODCACHE", "GOFLAGS", "GOPROXY", "GO111MODULE", "CGO_ENABLED", "CARGO_HOME",
    "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "RUSTFLAGS", "JAVA_HOME", "GRADLE_USER_HOME", "MAVEN_OPTS", "DOTNET_ROOT",
    "CC", "CXX", "CPP", "LD", "AR", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "PKG_CONFIG_PATH", "LD_LIBRARY_PATH",
    "LIBRARY_PATH", "CPATH", "MAKEFLAGS", "CMAKE_*",
    # git (identity and config; credentials are caught by the secret patterns)
    "GIT_*",
)

SECRET_PATTERNS: tuple[str, ...] = (
    "*_API_KEY", "*_APIKEY", "API_KEY", "*_KEY", "*_TOKEN", "TOKEN", "*_TOKEN_*", "*AUTHTOKEN*", "*_AUTH_*",
    "*SECRET*", "*PASSWORD*", "*PASSWD*", "*_PWD", "*_PASS", "*_PAT", "*CREDENTIAL*", "*_AUTH", "*_ACCESS_KEY*",
    "*_PRIVATE_KEY", "*COOKIE*", "*SESSION_KEY*",
    "AWS_*", "AZURE_*", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_*", "GCLOUD_*", "CLOUDSDK_*",
    "GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITLAB_TOKEN", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
    "NPM_TOKEN", "NODE_AUTH_TOKEN", "PYPI_TOKEN", "TWINE_*", "DOCKER_AUTH_CONFIG", "DATABASE_URL", "SSH_AUTH_SOCK",
    "GPG_AGENT_INFO", "KUBECONFIG", "VAULT_*", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_SSH_COMMAND",
)

# scheme://user:password@host (a password may be empty only as "user:@"; a bare "user@" carries no secret)
_CREDENTIAL_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:[^/@\s]*@")


def _matches(name: str, patterns: Iterable[str]) -> bool:
    upper = name.upper()
    return any(fnmatchcase(upper, pattern.upper()) for pattern in patterns)


def is_secret(name: str, value: str = "", *, allow: Iterable[str] = (), deny: Iterable[str] = ()) -> bool:
    """Whether ``name`` (with ``value``) looks like a credential that must be removed: ``deny`` always, ``allow``
    never, else the built-in name patterns and credential-bearing URLs."""
    if _matches(name, deny):
        return True
    if _matches(name, allow):
        return False
    return _matches(name, SECRET_PATTERNS) or bool(_CREDENTIAL_URL.search(value))


def passes(name: str, value: str, *, allow: Iterable[str] = (), deny: Iterable[str] = ()) -> bool:
    """Whether a sandboxed command gets ``name=value`` (the allow-list above)."""
    if _matches(name, deny):
        return False
    if _matches(name, allow):
        return True
    return _matches(name, CORE_VARS) and not is_secret(name, value)


def scrub_env(environ: Mapping[str, str], *, allow: Iterable[str] = (), deny: Iterable[str] = ()) -> dict[str, str]:
    """The part of ``environ`` a sandboxed command gets (see the module docstring)."""
    allow, deny = tuple(allow), tuple(deny)
    return {name: value for name, value in environ.items() if passes(name, value, allow=allow, deny=deny)}
