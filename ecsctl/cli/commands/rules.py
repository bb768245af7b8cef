"""``ecsctl rules`` and ``ecsctl rules explain ID``."""

from __future__ import annotations

import json

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.errors import UsageError

app = typer.Typer(help="The rule catalogue: every check validate runs.", invoke_without_command=True)


def _catalogue():
    from ecsctl.app.rules import catalogue

    return catalogue()


@app.callback()
@boundary
def list_rules(
    ctx: typer.Context,
    output: str = typer.Option("text", "-o", "--output", help="text or json."),
) -> None:
    """List every rule: ID, severity, kinds and title."""
    if ctx.invoked_subcommand is not None:
        return
    entries = _catalogue()
    if output == "json":
        typer.echo(json.dumps(entries, indent=2))
        return
    if output != "text":
        raise UsageError(f"unknown output format '{output}' (text or json)")
    for e in entries:
        typer.echo(f"{e['id']:<7} {e['severity']:<8} {','.join(e['kinds']):<28} {e['title']}")


@app.command("explain")
@boundary
def explain(rule_id: str = typer.Argument(..., help="A rule ID such as E2001.")) -> None:
    """Print one rule's full explanation."""
    for e in _catalogue():
        if e["id"].lower() == rule_id.lower():
            typer.echo(f"{e['id']} ({e['severity']}, {', '.join(e['kinds'])}): {e['title']}\n")
            typer.echo(e["explanation"])
            return
    raise UsageError(f"no rule '{rule_id}'; `ecsctl rules` lists them")
