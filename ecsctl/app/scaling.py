"""Use case: ``ecsctl scale simulate``, a what-if of one service's scaling policies.

It reads the manifests (validated as ``plan`` reads them), picks the service, reads the
series (a metrics CSV for the open loop, each row a level held until the next row of its
metric, ``core.scaling.levels``, as ``tick`` reads ``metrics put``; demand for the closed
loop) and replays it
minute by minute through ``ecsctl.core.scaling``: the compiled walk
(``compiled.replay_best``) where it covers the policies, else the engine; both give the
same result.  Nothing touches the state file.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from ecsctl.core.scaling.compiled import replay_best as replay
from ecsctl.core.scaling.demand import DemandModel, demand_values, series_points
from ecsctl.core.scaling.engine import within
from ecsctl.core.scaling.levels import MetricLevels
from ecsctl.core.scaling.model import ScalingConfig, compile_scaling, parse_time
from ecsctl.core.scaling.schedules import epoch_minute
from ecsctl.core.scaling.whatif import DEFAULT_STARTUP_MINUTES, Timeline
from ecsctl.errors import InputError, UsageError

MAX_MINUTES = 366 * 1440  # a year of minutes: beyond that a what-if is a typo


@dataclass
class Simulation:
    service: str
    cluster: str
    mode: str  # "open" (metrics) or "closed" (demand)
    timeline: Timeline
    warnings: tuple[str, ...] = ()

    def points(self) -> list[dict]:
        return self.timeline.points()


def simulate(paths: list[str], service: str, *, cluster: str | None = None, metrics_file: str | None = None,
             demand_file: str | None = None, start: str | None = None, end: str | None = None,
             startup: str | None = None, capacity: int | None = None, record: bool = False,
             today: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> Simulation:
    """Replay ``service``'s policies over a series; raise InputError/UsageError with one line."""
    if metrics_file and demand_file:
        raise UsageError("give --metrics (open loop) or --demand (closed loop), not both")
    doc = _find_service(paths, service, cluster)
    spec = doc.spec
    scaling = spec.get("autoScaling")
    if not isinstance(scaling, dict):
        raise InputError(f"{doc.file}: service '{doc.name}' has no autoScaling to simulate")
    cluster_name = _cluster(spec)
    config = compile_scaling(scaling, cluster=cluster_name, service=doc.name)
    desired = within(int(spec.get("desiredCount", config.min_capacity)), config.min_capacity, config.max_capacity)
    startup_minutes = _minutes(startup) if startup else DEFAULT_STARTUP_MINUTES
    if capacity is not None and capacity < 0:
        raise UsageError("--capacity must be 0 or more")
    demand_spec = scaling.get("demand") if isinstance(scaling.get("demand"), dict) else None
    if metrics_file:
        rows = read_metric_rows(metrics_file)
        first, last = _window(start, end, rows[0][0], rows[-1][0] + 1, today)
        timeline = replay(config, start=first, end=last, desired=desired, metrics=MetricLevels(rows),
                          startup_minutes=startup_minutes, capacity=capacity, record=record)
        given = {metric for _, metric, _ in rows}
        missing = [m for m in config.metrics if m not in given]
        unread = sorted(given - set(config.metrics))
        warnings = (tuple(f"{metrics_file}: no rows for {m}, which a policy of '{doc.name}' reads" for m in missing)
                    + tuple(f"{metrics_file}: no policy of '{doc.name}' reads {m}" for m in unread))
        return Simulation(doc.name, cluster_name, "open", timeline, warnings)
    if demand_spec is None and not demand_file and config.scheduled and not config.metrics:
        # scheduled actions alone need no series: the what-if of a day of them (or --from/--to)
        midnight = _midnight(today)
        first, last = _window(start, end, midnight, midnight + 1440, today)
        timeline = replay(config, start=first, end=last, desired=desired, metrics=MetricLevels(),
                          startup_minutes=startup_minutes, capacity=capacity, record=record)
        return Simulation(doc.name, cluster_name, "open", timeline)
    if demand_spec is None:
        hint = "with --demand, " if demand_file else ""
        raise InputError(f"{doc.file}: {hint}service '{doc.name}' needs autoScaling.demand (at least perTask) for the "
                         "closed loop; or give --metrics FILE.csv for the open loop")
    model = DemandModel.from_spec(demand_spec)
    points = None
    source_file = demand_file or (os.path.join(os.path.dirname(doc.file), demand_spec["file"]) if "file" in demand_spec else None)
    if source_file:
        points = read_demand_points(source_file)
        first, last = _window(start, end, points[0][0], points[-1][0] + 1, today)
    elif "series" in demand_spec:
        pts = series_points(demand_spec["series"])
        first, last = _window(start, end, pts[0][0], pts[-1][0] + 1, today)
    else:
        midnight = _midnight(today)
        first, last = _window(start, end, midnight, midnight + 1440, today)
    values = demand_values(model.source, first, last, points=points)
    timeline = replay(config, start=first, end=last, desired=desired, demand=model, demand_series=values,
                      startup_minutes=startup_minutes, capacity=capacity, record=record)
    return Simulation(doc.name, cluster_name, "closed", timeline)


def _midnight(today: Callable[[], datetime]) -> int:
    """The epoch minute today began (UTC): a what-if without a series covers today."""
    return epoch_minute(today().astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0))


def _cluster(spec: dict) -> str:
    ref = spec.get("cluster")
    if isinstance(ref, str) and ref:
        return ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref
    return "default"


def _find_service(paths: list[str], service: str, cluster: str | None):
    from ecsctl.app.plan import ManifestErrors
    from ecsctl.app.validate import Validator, discover

    validator = Validator()
    loaded = validator.load(discover(paths))
    report = validator.check(loaded)
    if report.errors:
        raise ManifestErrors(report)
    found = [d for d in loaded.documents if d.kind == "Service" and d.name == service
             and (cluster is None or _cluster(d.spec) == cluster)]
    if not found:
        names = sorted({d.name for d in loaded.documents if d.kind == "Service"})
        known = f" (services: {', '.join(names)})" if names else " (no Service documents found)"
        raise InputError(f"no service '{service}' in {', '.join(paths)}{known}")
    if len(found) > 1:
        raise UsageError(f"service '{service}' is in several clusters ({', '.join(sorted(_cluster(d.spec) for d in found))}); "
                         "give --cluster")
    return found[0]


# --- input files ----------------------------------------------------------------


LAST_MINUTE = 253_402_300_799 // 60  # 9999-12-31T23:59:00Z, the last minute a datetime holds


def _parse_timestamp(text: str, where: str) -> int:
    value = text.strip()
    try:
        if value.replace(".", "", 1).isdigit():
            minute = int(float(value)) // 60
        else:
            minute = epoch_minute(parse_time(value))
        if not 0 <= minute <= LAST_MINUTE:
            raise ValueError(value)
        return minute
    except (ValueError, OverflowError):
        raise InputError(f"{where}: '{value}' is not a timestamp (ISO 8601 such as 2024-05-01T09:00:00Z, or epoch "
                         f"seconds, from 1970 on)") from None


def parse_number(text: str, where: str) -> float:
    try:
        if "_" in text:  # float() takes 1_000; a metric datapoint is written plainly
            raise ValueError(text)
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: value '{text.strip()}' is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"{where}: value '{text.strip()}' is not a finite number")
    return value


def _rows(path: str) -> list[tuple[int, list[str]]]:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            text = fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None
    out = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if number == 1 and row[0].strip().lower() in ("timestamp", "time"):
            continue
        out.append((number, row))
    if not out:
        raise InputError(f"{path}: no data rows")
    return out


def read_metric_rows(path: str) -> list[tuple[int, str, float]]:
    """``timestamp,metric,value`` rows as (epoch minute, metric, value), sorted by time."""
    rows = []
    for number, row in _rows(path):
        where = f"{path}:{number}"
        if len(row) != 3:
            raise InputError(f"{where}: expected 3 columns timestamp,metric,value, got {len(row)}")
        metric = row[1].strip()
        if not metric:
            raise InputError(f"{where}: the metric name is empty")
        rows.append((_parse_timestamp(row[0], where), metric, parse_number(row[2], where)))
    rows.sort(key=lambda r: r[0])
    return rows


def read_demand_points(path: str) -> list[tuple[int, float]]:
    """``timestamp,value`` (or ``timestamp,metric,value``) rows as sorted (epoch minute, value) points."""
    points = []
    for number, row in _rows(path):
        where = f"{path}:{number}"
        if len(row) not in (2, 3):
            raise InputError(f"{where}: expected timestamp,value (or timestamp,metric,value), got {len(row)} columns")
        value = parse_number(row[-1], where)
        if value < 0:
            raise InputError(f"{where}: demand cannot be negative ({value})")
        points.append((_parse_timestamp(row[0], where), value))
    points.sort()
    return points


def _window(start: str | None, end: str | None, default_start: int, default_end: int,
            today: Callable[[], datetime]) -> tuple[int, int]:
    first = _parse_timestamp(start, "--from") if start else default_start
    last = _parse_timestamp(end, "--to") if end else (default_end if not start or default_end > first else first + 1440)
    if last <= first:
        raise UsageError(f"--to must be after --from ({_iso(first)} .. {_iso(last)})")
    if last - first > MAX_MINUTES:
        raise UsageError(f"the window is {(last - first) // 1440} days long; a what-if covers at most 366 days")
    return first, last


def _iso(minute: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%MZ")


def _minutes(text: str) -> int:
    """``90s``, ``2m``, ``1h`` or a bare number of seconds as whole minutes (rounded up)."""
    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    factor = units.get(value[-1:], None)
    number = value[:-1] if factor else value
    try:
        seconds = float(number) * (factor or 1)
    except ValueError:
        raise UsageError(f"--task-startup '{text}' is not a duration (e.g. 90s, 2m)") from None
    if seconds < 0:
        raise UsageError("--task-startup cannot be negative")
    return -int(-seconds // 60)


def config_of(paths: list[str], service: str, cluster: str | None = None) -> ScalingConfig:
    """The compiled scaling configuration of a service (for tests and tooling)."""
    doc = _find_service(paths, service, cluster)
    return compile_scaling(doc.spec["autoScaling"], cluster=_cluster(doc.spec), service=doc.name)
