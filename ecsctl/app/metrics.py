"""Use case: ``ecsctl metrics put``, open-loop metric datapoints for the simulation's auto scaling.

A datapoint is ``(time, metric, value)`` for one service; ``time`` defaults to the
simulation's clock.  The points are kept in the state (history kind ``MetricDatum``) and read
by ``tick`` (``backends.local.scaling``): a value put at ``T`` is the service's metric from
the minute of ``T`` on, until the next value of that metric.  ``--file`` reads
``timestamp,metric,value`` rows, as ``scale simulate --metrics`` does.
"""

from __future__ import annotations

import math

from ecsctl.app.state import open_simulation
from ecsctl.errors import UsageError


def put(state_path: str, service: str, *, cluster: str | None = None, metric: str | None = None,
        value: str | float | None = None, time: str | None = None, file: str | None = None) -> dict:
    """Record datapoints; ``{"service", "points", "from", "to", "metrics", "warnings"}``."""
    from ecsctl.app.lookup import one
    from ecsctl.app.scaling import read_metric_rows
    from ecsctl.backends.local import LocalBackend
    from ecsctl.backends.local.scaling import metrics_read, put_metrics
    from ecsctl.core.state.clock import parse_clock
    from ecsctl.core.scaling.activities import minute_iso
    from ecsctl.core.scaling.schedules import epoch_minute

    if file is not None and (metric is not None or value is not None or time is not None):
        raise UsageError("give --file, or --metric with --value (and --time), not both")
    if file is None and (metric is None or value is None):
        raise UsageError("give --metric NAME and --value V (or --file series.csv)")
    if file is None:
        name = metric.strip()
        if not name:
            raise UsageError("--metric must not be empty")
        value = _option_value(value)
    with open_simulation(state_path, "metrics put") as store:
        svc = one(store, "services", service, cluster=cluster)
        with store.locked(f"ecsctl metrics put --service {svc.cluster}/{svc.name}"):
            backend = LocalBackend(store)
            world = backend.world
            if file is not None:
                rows = read_metric_rows(file)
            else:
                minute = (_option_time(time) if time is not None else epoch_minute(parse_clock(world.now())))
                rows = [(minute, name, float(value))]
            put_metrics(world, svc.cluster, svc.name, rows)
            backend.commit()
    read = metrics_read(svc)
    given = sorted({m for _, m, _ in rows})
    warnings = [f"no scaling policy of service/{svc.cluster}/{svc.name} reads {m}"
                + (f" (they read {', '.join(read)})" if read else " (it has no autoScaling policies)")
                for m in given if m not in read]
    warnings += [f"{m} is never negative in CloudWatch, but {len(values)} datapoint(s) are (lowest {min(values):g}); "
                 "the policies read them as given"
                 for m in given if m in NEVER_NEGATIVE
                 for values in [[v for _, name, v in rows if name == m and v < 0]] if values]
    return {"service": f"service/{svc.cluster}/{svc.name}", "points": len(rows),
            "from": minute_iso(min(r[0] for r in rows)), "to": minute_iso(max(r[0] for r in rows)),
            "metrics": given, "warnings": warnings}


# the predefined metrics of ECS service auto scaling: utilizations and a request count
NEVER_NEGATIVE = frozenset({"ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization",
                            "ALBRequestCountPerTarget"})


def _option_value(value: str | float) -> float:
    """``--value`` as given on the command line: ``1e400`` is refused quoting what was typed."""
    from ecsctl.app.scaling import parse_number
    from ecsctl.errors import InputError

    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise UsageError(f"--value {value} is not a finite number")
        return float(value)
    try:
        return parse_number(str(value), "--value")
    except InputError as exc:
        raise UsageError(str(exc)) from None


def _option_time(text: str) -> int:
    """``--time``: a bad value is a usage error (exit 2), as a bad ``--value`` is."""
    from ecsctl.app.scaling import _parse_timestamp
    from ecsctl.errors import InputError

    try:
        return _parse_timestamp(text, "--time")
    except InputError as exc:
        raise UsageError(str(exc)) from None
