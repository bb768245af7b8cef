"""``ecsctl events put --source SRC --detail-type TYPE --detail JSON``"""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import EcsctlTyper, current
from ecsctl.cli.render.machine import emit

app = EcsctlTyper(help="EventBridge events in the simulation: deliver one, matching rules run their tasks.",
                  no_args_is_help=True)


@app.command("put")
@boundary
def put(
    source: str = typer.Option(..., "--source", help="The event's source, e.g. aws.s3."),
    detail_type: str = typer.Option(..., "--detail-type", help="The event's detail-type, e.g. 'Object Created'."),
    detail: str = typer.Option("{}", "--detail", help="The event's detail, a JSON object."),
    resources: Optional[List[str]] = typer.Option(None, "--resource", help="An ARN the event is about; repeat for several."),
) -> None:
    """Deliver an event (as PutEvents): each ENABLED ScheduledTask whose eventPattern matches
    runs its target, the input transformer turning the event into container overrides."""
    from ecsctl.app.events import put_event

    opts = current()
    fmt = opts.format()
    result = put_event(opts.state_path, source=source, detail_type=detail_type, detail=detail,
                       resources=tuple(resources or ()))
    if fmt != "text":
        emit(result, fmt)
        return
    lines = [f"event {result['event']['id']}  {source}  {detail_type}  at {result['event']['time']}"]
    if not result["matched"]:
        lines.append("no rule matched")
    lines += [f"rule  {f['message']}" for f in result["firings"]]
    sys.stdout.write("".join(line + "\n" for line in lines))
