"""Layered configuration loading (DESIGN.md "Home and config").

Layers, low to high: built-in ``config/default.toml`` → ``$ORCHESTRATE_HOME/config.toml`` → a *trusted* project's
``.orchestrate/config.toml`` files (root → cwd) → the selected ``[profiles.NAME]`` → environment → CLI flags and
``-c dotted.key=value``. The merged tree is validated once by :class:`~orchestrator.settings.schema.Settings`; an error
names the file and line of the layer that set the offending key.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orchestrator.core.contracts import ROLES, CommittedFiles
from orchestrator.core.errors import ConfigError, Location, UsageError
from orchestrator.settings.config_errors import KeyPath, Origin, located_error
from orchestrator.settings.home import Home, resource_path
from orchestrator.settings.schema import Settings
from orchestrator.settings.toml_lines import find_key_line

__all__ = ["CliOverrides", "LoadedConfig", "load_config", "find_project_root", "marked_ancestor", "parse_override",
           "project_chain", "nested_notice"]

_ENV_KEYS: dict[str, str] = {
    "ORCHESTRATE_MODEL": "model",
    "ORCHESTRATE_SANDBOX_MODE": "sandbox_mode",
    "ORCHESTRATE_APPROVAL_POLICY": "approval_policy",
    "ORCHESTRATE_MAX_PARALLEL": "max_parallel",
}


@dataclass(frozen=True)
class CliOverrides:
    """What the command line says about configuration (the common OPTIONS of DESIGN.md)."""

    profile: str | None = None
    model: str | None = None
    role_models: tuple[str, ...] = ()  # ROLE=MODEL
    sandbox_mode: str | None = None
    approval_policy: str | None = None
    full_auto: bool = False
    yolo: bool = False
    max_parallel: int | None = None
    budget_usd: float | None = None
    overrides: tuple[str, ...] = ()  # -c dotted.key=value


@dataclass(frozen=True)
class LoadedConfig:
    settings: Settings
    project_root: Path
    trust_level: str | None  # "trusted" | "untrusted" | None (never asked)
    files: tuple[Path, ...]  # config files that were read, in layer order
    notices: tuple[str, ...] = ()  # things to tell the user once (e.g. an untrusted project's config was skipped)


@dataclass
class _Merged:
    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[KeyPath, Origin] = field(default_factory=dict)

    def apply(self, layer: Mapping[str, Any], origin: Origin, base: KeyPath = ()) -> None:
        _deep_merge(self.data, layer, base, origin, self.origins)


def _deep_merge(
    into: dict[str, Any], layer: Mapping[str, Any], base: KeyPath, origin: Origin, origins: dict[KeyPath, Origin]
) -> None:
    for key, value in layer.items():
        path = (*base, key)
        origins[path] = origin
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value, path, origin, origins)
        else:
            into[key] = _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", location=Location(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python < 3.14 only has the position inside the message: "... (at line 3, column 7)".
        msg, _, where = str(exc).partition(" (at line ")
        line = int(where.split(",")[0]) if where[:1].isdigit() else None
        raise ConfigError(f"malformed TOML: {msg}", location=Location(path, line), hint="fix the syntax") from None


def find_project_root(cwd: Path, markers: Sequence[str] = (".git",)) -> Path:
    """The nearest ancestor of ``cwd`` (itself included) holding one of ``markers``; ``cwd`` if none does."""
    return marked_ancestor(cwd, markers) or cwd


def marked_ancestor(cwd: Path, markers: Sequence[str]) -> Path | None:
    """The nearest ancestor of ``cwd`` (``cwd`` included) that holds one of ``markers``, or None (also when there are
    no markers). ``cwd`` must be absolute."""
    if not markers:
        return None
    for directory in (cwd, *cwd.parents):
        base = str(directory)
        if any(_exists(os.path.join(base, marker)) for marker in markers):
            return directory
    return None


def _exists(path: str) -> bool:
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        # Unreadable (EACCES, ELOOP, ...): we cannot tell it is a marker, so it is not one.
        return False
    return True


def parse_override(text: str) -> dict[str, Any]:
    """``dotted.key=value`` → nested dict. The value is parsed as TOML, else taken as a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"-c expects dotted.key=value, got {text!r}")
    for candidate in (raw.strip(), json.dumps(raw.strip())):
        try:
            return tomllib.loads(f"{key} = {candidate}")
        except tomllib.TOMLDecodeError:
            continue
    raise UsageError(f"-c {text!r}: {key!r} is not a valid dotted key")


def _cli_layer(cli: CliOverrides) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    if cli.full_auto:
        layer.update(approval_policy="on-request", sandbox_mode="workspace-write")
    if cli.yolo:
        layer.update(approval_policy="never", sandbox_mode="danger-full-access")
    if cli.model:
        layer["model"] = cli.model
    if cli.sandbox_mode:
        layer["sandbox_mode"] = cli.sandbox_mode
    if cli.approval_policy:
        layer["approval_policy"] = cli.approval_policy
    if cli.max_parallel is not None:
        layer["max_parallel"] = cli.max_parallel
    if cli.budget_usd is not None:
        layer["budget_usd"] = cli.budget_usd
    for item in cli.role_models:
        role, sep, model = item.partition("=")
        if not sep or not model.strip():
            raise UsageError(f"--role-model expects ROLE=MODEL, got {item!r}")
        if role not in ROLES:
            raise UsageError(f"unknown role {role!r} in --role-model (roles: {', '.join(ROLES)})")
        layer.setdefault("roles", {}).setdefault(role, {})["model"] = model.strip()
    return layer


def _env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for name, key in _ENV_KEYS.items():
        if environ.get(name):
            layer.update(parse_override(f"{key}={environ[name]}"))
    return layer


def _trust_level(projects: Mapping[str, Any], root: Path) -> str | None:
    from orchestrator.settings.trust import trust_level_for

    return trust_level_for(projects, root)


def load_config(
    *, cwd: Path, committed: CommittedFiles, cli: CliOverrides | None = None, home: Home | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """Build the effective :class:`Settings` for a run in ``cwd``. Raises :class:`ConfigError` naming file:line.

    ``committed`` answers which nested project config files git tracks unmodified (only those load); the public
    :func:`orchestrator.load_config` (:func:`orchestrator.compose.load_config`) passes the git-backed one."""
    cli = cli or CliOverrides()
    env = os.environ if environ is None else environ
    home = home or Home.from_env(env)
    merged = _Merged()
    files: list[Path] = []
    notices: list[str] = []

    default = resource_path("default.toml")
    merged.apply(_read_toml(default), Origin("built-in defaults", default))
    files.append(default)
    if home.config_file.is_file():
        merged.apply(_read_toml(home.config_file), Origin("user config", home.config_file))
        files.append(home.config_file)

    root = find_project_root(cwd)
    trust = _trust_level(merged.data.get("projects", {}), root)
    project_files = [d / ".orchestrate" / "config.toml" for d in project_chain(root, cwd)]
    project_files = [p for p in project_files if p.is_file()]
    if project_files and trust != "trusted":
        notices.append(
            f"{root} is not trusted: its .orchestrate/config.toml was not loaded (run `orchestrate trust {root}`)"
        )
    elif project_files:
        project_files, skipped = _committed_nested(root, project_files, committed)
        if skipped:
            notices.append(nested_notice(skipped))
        for path in project_files:
            data = _read_toml(path)
            if "projects" in data:
                raise ConfigError(
                    "`projects` (trust) can only be set in the user config",
                    location=Location(path, find_key_line(path.read_text(encoding="utf-8"), ("projects",))),
                )
            merged.apply(data, Origin("project config", path))
            files.append(path)

    profile = cli.profile or env.get("ORCHESTRATE_PROFILE") or merged.data.get("profile") or ""
    if profile:
        _apply_profile(merged, str(profile))
    merged.apply(_env_layer(env), Origin("environment"))
    merged.apply(_cli_layer(cli), Origin("command line"))
    for item in cli.overrides:
        merged.apply(parse_override(item), Origin(f"-c {item}"))

    settings = _validate(merged)
    return LoadedConfig(settings, root, trust, tuple(files), tuple(notices))


def _committed_nested(root: Path, files: list[Path], committed: CommittedFiles) -> tuple[list[Path], list[Path]]:
    """(files to load, skipped): a ``.orchestrate/config.toml`` below the project root counts only when git tracks it
    unmodified, since an agent can create one anywhere in the workspace (:mod:`policies.loading`)."""
    nested = [p for p in files if p.parent.parent != root]
    tracked = committed(root, nested) if nested else set()
    return [p for p in files if p not in nested or p in tracked], [p for p in nested if p not in tracked]


def project_chain(project_root: Path, cwd: Path) -> list[Path]:
    """The directories from ``project_root`` down to ``cwd`` (just ``[cwd]`` when cwd is outside the root): where a
    project's ``.orchestrate/`` files (config, rules, prompts) are looked for, root first."""
    if cwd != project_root and project_root not in cwd.parents:
        return [cwd]
    rel = cwd.relative_to(project_root).parts
    return [project_root.joinpath(*rel[:i]) for i in range(len(rel) + 1)]


def nested_notice(skipped: Sequence[Path]) -> str:
    """The one-line notice for nested ``.orchestrate`` files that were not loaded."""
    shown = ", ".join(str(p) for p in skipped[:3]) + (f" and {len(skipped) - 3} more" if len(skipped) > 3 else "")
    return (f"skipped {shown}: a .orchestrate/ below the project root is loaded only when git tracks it unmodified "
            "(commit it to use it)")


def _apply_profile(merged: _Merged, name: str) -> None:
    profiles = merged.data.get("profiles", {})
    if not isinstance(profiles, dict) or name not in profiles:
        known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) and profiles else "none defined"
        raise ConfigError(f"unknown profile {name!r} (profiles: {known})", hint="define [profiles.NAME] in config.toml")
    table = profiles[name]
    if not isinstance(table, dict):
        raise ConfigError(f"profile {name!r} must be a table")
    origin = merged.origins.get(("profiles", name), Origin("profile"))
    for key, value in table.items():
        inner = merged.origins.get(("profiles", name, key), origin)
        merged.apply({key: value}, Origin(inner.label, inner.path, ("profiles", name)))
    merged.data["profile"] = name


def _validate(merged: _Merged) -> Settings:
    try:
        return Settings.model_validate(merged.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(str(part) for part in err["loc"])
        raise located_error(merged.origins, loc, err) from None
