"""``orchestrate models check [MODEL]``: probe models (chat, JSON-schema output, tool calls, speed), cache the results.

Without MODEL, every model the configuration gives the roles is checked (after defaulting). The results go to the
capability cache (``$ORCHESTRATE_HOME/cache/capabilities.json``), from which the agents choose native tool calls or
structured JSON actions under ``models.tool_mode = "auto"``. An Ollama server answering on 127.0.0.1:11434 is listed
with the model strings to use it.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from orchestrator.cli.context import CliContext, described

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from orchestrator.models.capabilities import ProbeReport
    from orchestrator.settings.schema import Settings

__all__ = ["register", "handle_check", "ollama_models"]

OLLAMA_TAGS = "http://127.0.0.1:11434/api/tags"

Target = tuple[str, str]  # (model string, api_base)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("models", help="check models", **described(
        "Inspect and check models.", "orchestrate models check", "orchestrate models check ollama/qwen2.5-coder:7b"))
    actions = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="probe a model: chat, structured output, tool calls, speed",
        **described("Probe models with a few small requests (chat, JSON-schema output, native tool calls, speed), "
                    "print a table and cache the capabilities the agents use. Without MODEL: every configured role's "
                    "model.", "orchestrate models check", "orchestrate models check -p fast",
                    "orchestrate models check openai/my-model --api-base http://127.0.0.1:8000/v1"),
    )
    check.add_argument("model", nargs="?", metavar="MODEL", help="model string (litellm's, or 'local')")
    check.add_argument("--api-base", help="base URL of an OpenAI-compatible server (with openai/NAME)")
    check.add_argument("-C", "--cd", dest="cd", metavar="DIR",
                       help="check the models configured for DIR (its trusted project config)")
    check.add_argument("-p", "--profile", help="config profile [profiles.NAME]")
    check.add_argument("-c", "--config", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key (repeatable)")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.set_defaults(handler=handle_check)


def ollama_models(url: str = OLLAMA_TAGS, timeout_s: float = 0.5) -> list[str] | None:
    """Model names of an Ollama server answering at ``url``; ``None`` when none answers (quickly)."""
    import urllib.request  # lazily: `orchestrate --help` stays fast

    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # loopback only: a fixed local URL
            data: Any = json.loads(response.read() or b"{}")
    except (OSError, ValueError):
        return None
    models = data.get("models", []) if isinstance(data, dict) else []
    return [str(m.get("name")) for m in models if isinstance(m, dict) and m.get("name")]


def _targets(args: argparse.Namespace, settings: Settings, environ: dict[str, str]) -> dict[Target, list[str]]:
    """(model, api_base) → the roles that use it, in role order (one entry, no roles, for an explicit MODEL)."""
    if args.model:
        return {(args.model, args.api_base or ""): []}
    from orchestrator.core.contracts import ROLES
    from orchestrator.models.routing import default_model

    fallback = default_model(environ)
    targets: dict[Target, list[str]] = {}
    for role in ROLES:
        targets.setdefault((settings.role(role).model or fallback, settings.role(role).api_base), []).append(role)
    return targets


async def _check_all(targets: dict[Target, list[str]], settings: Settings, environ: dict[str, str],
                     progress: Console) -> list[ProbeReport]:
    """Probe each target in turn; ``progress`` gets a line as each check starts and one with its outcome (a check
    takes seconds to minutes: the person sees which model is being asked)."""
    from orchestrator.core.errors import ModelError
    from orchestrator.models.capabilities import CapabilityCache, ProbeReport, probe
    from orchestrator.models.routing import resolve_model
    from orchestrator.settings.schema import RoleConfig

    cache = CapabilityCache.for_environ(environ)
    reports = []
    for (name, api_base), roles in targets.items():
        progress.print(f"checking {name}" + (f" ({', '.join(roles)})" if roles else "") + " ...", markup=False,
                       highlight=False, soft_wrap=True)
        model = None
        try:
            model = resolve_model(name, RoleConfig(model=name, api_base=api_base), settings=settings, environ=environ)
            report = await probe(model, name)
            cache.put(name, report.capabilities)
        except ModelError as exc:
            report = ProbeReport(model=name, error=exc.render(), exit_code=exc.exit_code)
        finally:
            close = getattr(model, "aclose", None)
            if close is not None:
                await close()
        progress.print(f"  {_outcome(report)}", markup=False, highlight=False, soft_wrap=True)
        reports.append(report)
    return reports


def _outcome(report: ProbeReport) -> str:
    """One line: what the check found, or why it failed."""
    if report.error:
        return f"failed: {report.error}"
    caps = report.capabilities
    tools = "native" if caps.native_tools else "as JSON text" if report.text_tools else "no"
    speed = f", {caps.tokens_per_s:.1f} tok/s" if caps.tokens_per_s else ""
    return (f"chat {'yes' if caps.chat else 'no'}, JSON schema {'yes' if caps.json_schema else 'no'}, "
            f"tool calls {tools}{speed}")


def _mark(value: bool | None) -> str:
    return {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[value]


def _table(reports: list[ProbeReport], narrow: bool) -> Table:
    from rich import box
    from rich.table import Table

    # Light rules, and at 80 columns fixed narrow cells so the model string keeps the rest of the width.
    table = Table(title="model check", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("model", overflow="fold", ratio=1 if narrow else None)
    for column, width in (("chat", 6), ("JSON schema", 6), ("tool calls", 7), ("speed", 9), ("first reply", 6),
                          ("agents use", 7)):
        # Narrow terminal: fixed narrow columns (rich would shrink the model column first); wide: natural widths.
        table.add_column(column, width=width if narrow else None)
    for r in reports:
        caps = r.capabilities
        if r.error:  # the reason is printed under the table, on one line: a narrow column would shred it
            table.add_row(r.model, "[red]failed[/]", "-", "-", "-", "-", "-")
            continue
        as_text = "[yellow]as JSON text[/]" if r.text_tools else "[red]no[/]"
        tools = "[green]native[/]" if caps.native_tools else as_text
        speed = f"{caps.tokens_per_s:.1f} tok/s" if caps.tokens_per_s else "-"
        mode = "native tools" if caps.native_tools else "JSON actions"
        table.add_row(r.model, _mark(caps.chat), _mark(caps.json_schema), tools, speed, f"{r.chat_seconds} s", mode)
    return table


def handle_check(args: argparse.Namespace, ctx: CliContext) -> int:
    import anyio

    environ = dict(ctx.environ)
    settings = ctx.load_config(args).settings
    reports = anyio.run(_check_all, _targets(args, settings, environ), settings, environ, ctx.err)
    ollama = ollama_models()
    if args.json:
        payload = {"models": [r.model_dump(mode="json") for r in reports], "ollama": ollama}
        ctx.out.print_json(json.dumps(payload))
    else:
        ctx.out.print(_table(reports, narrow=ctx.out.width < 120))
        for report in reports:
            if report.error:
                ctx.out.print(report.error, markup=False, highlight=False, soft_wrap=True)  # it names the model
        if ollama is not None:
            names = ", ".join(f"ollama/{n}" for n in ollama) or "no models pulled yet"
            ctx.out.print(f"Ollama answers on 127.0.0.1:11434: {names} (use with -m ollama/NAME)")
    return max((r.exit_code for r in reports), default=0)
