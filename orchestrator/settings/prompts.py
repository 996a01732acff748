"""Custom slash-command prompts: a task ``/name args...`` expands a saved Markdown prompt (Codex-compatible).

Prompts are ``*.md`` files in ``$ORCHESTRATE_HOME/prompts/`` and, for a *trusted* project, in
``<project root>/.orchestrate/prompts/`` (the project's file wins on a name clash). The file name without ``.md`` is
the command name. Optional front matter between two ``---`` lines sets ``description:`` and ``argument-hint:``
(also ``argument_hint:``); without a closing ``---`` the whole file is the prompt.

Placeholders, as Codex expands them:

* Named: ``$FILE``, ``$TICKET_ID`` (``$`` + uppercase letter + uppercase letters, digits, ``_``). A prompt that uses any
  takes ``KEY=value`` arguments only (shell quoting: ``TITLE="two words"``); every named placeholder must be given.
* Otherwise positional: ``$1`` … ``$9`` (missing ones expand to nothing) and ``$ARGUMENTS`` (all, joined by a space).
* ``$$`` is kept as is. A prompt with no placeholder at all gets the arguments appended after a blank line.

``/prompts:name`` (Codex's spelling) works too. A task that starts with whitespace is never expanded, so a task that
really starts with ``/`` can be written `` /tmp is full``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from orchestrator.core.errors import InputError, Location
from orchestrator.settings.home import Home

__all__ = ["CustomPrompt", "expand_task", "list_prompts", "load_prompt", "project_prompts_dir"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_NAMED = re.compile(r"\$[A-Z][A-Z0-9_]*")
_NUMERIC = re.compile(r"\$(\$|[1-9]|ARGUMENTS)")
_CODEX_PREFIX = "prompts:"
_HEAD = re.compile(r"(\S*)\s*(.*)", re.DOTALL)  # command word, then everything after the whitespace


class CustomPrompt(BaseModel):
    """One saved prompt: its command ``name``, where it lives, its front matter and its body (front matter removed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    path: Path
    scope: Literal["global", "project"]
    description: str | None = None
    argument_hint: str | None = None
    body: str

    def placeholder_names(self) -> list[str]:
        """Named placeholders in order of first use (``$ARGUMENTS`` and ``$$NAME`` excluded)."""
        names: list[str] = []
        for match in _NAMED.finditer(self.body):
            name = match.group()[1:]
            if _escaped(self.body, match.start()) or name == "ARGUMENTS" or name in names:
                continue
            names.append(name)
        return names

    def expand(self, rest: str) -> str:
        """The prompt with ``rest`` (everything after ``/name``) substituted; InputError for bad arguments."""
        required = self.placeholder_names()
        if required:
            return self._expand_named(rest, required)
        if _NUMERIC.search(self.body):
            return _expand_numeric(self.body, _split(rest))
        return f"{self.body}\n\n{rest}" if rest else self.body

    def _expand_named(self, rest: str, required: list[str]) -> str:
        values: dict[str, str] = {}
        for token in _split(rest):
            key, sep, value = token.partition("=")
            if not sep:
                raise self._error(f"expected KEY=value but found {token!r}",
                                  "wrap values that contain spaces in double quotes")
            if not key:
                raise self._error(f"expected a name before '=' in {token!r}", None)
            values[key] = value
        missing = [name for name in required if name not in values]
        if missing:
            hint = self.argument_hint or " ".join(f"{name}=..." for name in required)
            raise self._error(f"missing required args: {', '.join(missing)}", f"usage: /{self.name} {hint}")

        def substitute(match: re.Match[str]) -> str:
            if _escaped(self.body, match.start()):
                return match.group()
            return values.get(match.group()[1:], match.group())

        return _NAMED.sub(substitute, self.body)

    def _error(self, message: str, hint: str | None) -> InputError:
        return InputError(f"/{self.name}: {message}", location=Location(self.path), hint=hint)


def project_prompts_dir(project_root: Path) -> Path:
    """Where a project keeps its prompts (read only when the project is trusted)."""
    return project_root / ".orchestrate" / "prompts"


def list_prompts(*, home: Home, project_dir: Path | None) -> list[CustomPrompt]:
    """Every readable prompt, sorted by name; ``project_dir`` is the *trusted* project's root (None: home only).

    A file that cannot be read or decoded is left out here (it is reported when it is invoked).
    """
    prompts: list[CustomPrompt] = []
    for name, (path, scope) in sorted(_discover(home, project_dir).items()):
        try:
            prompts.append(load_prompt(path, name=name, scope=scope))
        except InputError:
            continue
    return prompts


def expand_task(task: str, *, home: Home, project_dir: Path | None) -> str:
    """``task`` with a leading ``/name args...`` replaced by the expanded prompt; any other task unchanged.

    ``project_dir``: the project root when the project is trusted, else None. Raises InputError (exit 2, one line)
    for an unknown prompt (listing the available ones), bad arguments or an unreadable prompt file.
    """
    parsed = _parse_invocation(task)
    if parsed is None:
        return task
    name, rest = parsed
    found = _discover(home, project_dir)
    if name not in found:
        raise InputError(f"unknown prompt /{name}", hint=_available(found, home, project_dir))
    path, scope = found[name]
    return load_prompt(path, name=name, scope=scope).expand(rest)


def load_prompt(path: Path, *, name: str | None = None, scope: Literal["global", "project"] = "global") -> CustomPrompt:
    """Read one prompt file (front matter parsed and removed); InputError naming the file if it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"cannot read prompt: {reason}", location=Location(path)) from None
    meta, body = _front_matter(text)
    return CustomPrompt(name=name or path.stem, path=path, scope=scope, description=meta.get("description"),
                        argument_hint=meta.get("argument-hint", meta.get("argument_hint")), body=body.strip("\n"))


# ---------------------------------------------------------------------------------------------------- helpers
def _parse_invocation(task: str) -> tuple[str, str] | None:
    if not task.startswith("/"):
        return None
    match = _HEAD.fullmatch(task[1:])
    if match is None:
        return None
    head, rest = match.groups()
    name = head.removeprefix(_CODEX_PREFIX)
    if not _NAME.fullmatch(name):
        return None  # "/usr/bin/x is broken", "// comment": a task, not a command
    return name, rest.strip()


def _discover(home: Home, project_dir: Path | None) -> dict[str, tuple[Path, Literal["global", "project"]]]:
    found: dict[str, tuple[Path, Literal["global", "project"]]] = {}
    for path in _md_files(home.prompts_dir):
        found[path.stem] = (path, "global")
    if project_dir is not None:
        for path in _md_files(project_prompts_dir(project_dir)):
            found[path.stem] = (path, "project")  # the project's prompt wins
    return found


def _md_files(directory: Path) -> Iterable[Path]:
    try:
        entries = list(directory.iterdir())
    except OSError:
        return []
    return [p for p in entries if p.suffix == ".md" and _NAME.fullmatch(p.stem) and p.is_file()]


def _available(found: Mapping[str, tuple[Path, str]], home: Home, project_dir: Path | None) -> str:
    if found:
        return "available: " + ", ".join(f"/{name}" for name in sorted(found))
    where = str(home.prompts_dir) + (f" or {project_prompts_dir(project_dir)}" if project_dir else "")
    return f"no custom prompts yet: add NAME.md to {where}"


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Codex's minimal front matter: ``key: value`` lines between a first line ``---`` and the next ``---``."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text
    meta: dict[str, str] = {}
    for index, line in enumerate(lines[1:], start=1):
        stripped = line.strip()
        if stripped == "---":
            return meta, "".join(lines[index + 1 :])
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition(":")
        if sep:
            meta[key.strip().lower()] = _unquote(value.strip())
    return {}, text  # no closing delimiter: the whole file is the prompt


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _split(rest: str) -> list[str]:
    if not rest.strip():
        return []
    try:
        return shlex.split(rest)
    except ValueError:  # an unbalanced quote: split on whitespace, as Codex does
        return rest.split()


def _escaped(body: str, start: int) -> bool:
    return start > 0 and body[start - 1] == "$"


def _expand_numeric(body: str, args: list[str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        token = match.group(1)
        if token == "$":
            return "$$"
        if token == "ARGUMENTS":
            return " ".join(args)
        index = int(token) - 1
        return args[index] if index < len(args) else ""

    return _NUMERIC.sub(substitute, body)
