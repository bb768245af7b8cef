"""The Typer application: one module per command group under ``commands/``.

Every group and command is built by :class:`ecsctl.cli.options.EcsctlTyper`, so each takes
the global options (``--state``, ``-o/--output``, ``--no-color``) before or after its name.
"""

from __future__ import annotations

from typing import Optional

import typer

from ecsctl import __version__
from ecsctl.cli.commands import describe, ecr, events, get, import_, instances, plan, render, rollout, rules, scale, schema, state, tasks, validate, view
from ecsctl.cli.commands import metrics
from ecsctl.cli.options import EcsctlTyper

app = EcsctlTyper(
    name="ecsctl",
    help="Validate, plan and apply Amazon-ECS-style infrastructure.",
    no_args_is_help=True,
    add_completion=True,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ecsctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Optional[bool] = typer.Option(None, "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """ecsctl: ECS manifests, validated offline, planned and applied."""
    from ecsctl.app.state import reset_connections

    reset_connections()  # each command reaches an s3:// state as it says (one process may run several)


app.command("validate")(validate.validate)
app.command("plan")(plan.plan)
app.command("apply")(plan.apply)
app.command("destroy")(plan.destroy)
app.command("show")(plan.show)
app.command("get")(get.get)
app.command("describe")(describe.describe)
app.command("import")(import_.import_)
app.command("render")(render.render)
app.add_typer(state.app, name="state")
app.add_typer(instances.app, name="instances")
app.add_typer(rollout.app, name="rollout")
app.add_typer(scale.app, name="scale")
app.add_typer(metrics.app, name="metrics")
app.command("run-task")(tasks.run_task)
app.command("stop-task")(tasks.stop_task)
app.command("tick")(tasks.tick)
app.command("view")(view.view)
app.add_typer(rules.app, name="rules")
app.add_typer(schema.app, name="schema")
app.add_typer(ecr.app, name="ecr")
app.add_typer(events.app, name="events")
