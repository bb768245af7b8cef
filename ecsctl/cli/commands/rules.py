"""``ecsctl rules`` and ``ecsctl rules explain ID``."""

from __future__ import annotations

import sys

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import EcsctlTyper, current
from ecsctl.cli.render.machine import emit
from ecsctl.errors import UsageError

app = EcsctlTyper(help="The rule catalogue: every check validate runs.", invoke_without_command=True)


def _catalogue():
    from ecsctl.app.rules import catalogue

    return catalogue()


@app.callback()
@boundary
def list_rules(ctx: typer.Context) -> None:
    """List every rule: ID, severity, kinds and title."""
    if ctx.invoked_subcommand is not None:
        return
    fmt = current().format()
    entries = _catalogue()
    if fmt != "text":
        emit(entries, fmt)
        return
    sys.stdout.write("".join(f"{e['id']:<7} {e['severity']:<8} {','.join(e['kinds']):<28} {e['title']}\n" for e in entries))


@app.command("explain")
@boundary
def explain(rule_id: str = typer.Argument(..., help="A rule ID such as E2001.")) -> None:
    """Print one rule's full explanation and the AWS documentation behind it."""
    from ecsctl.core.manifest.envelope import did_you_mean

    fmt = current().format()
    entries = _catalogue()
    for e in entries:
        if e["id"].lower() == rule_id.strip().lower():
            if fmt != "text":
                emit(e, fmt)
                return
            sys.stdout.write(f"{e['id']} ({e['severity']}, {', '.join(e['kinds'])}): {e['title']}\n\n")
            sys.stdout.write(e["explanation"] + "\n")
            return
    hint = did_you_mean(rule_id.upper(), [e["id"] for e in entries])
    raise UsageError(f"no rule '{rule_id}'{hint}; `ecsctl rules` lists them")
