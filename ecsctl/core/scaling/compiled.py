"""A service's policy set compiled into one specialised per-minute walk: the fast what-if.

:func:`ecsctl.core.scaling.whatif.replay` steps :func:`ecsctl.core.scaling.engine.step`
once a minute: general, and the reference.  For a week of minutes for hundreds of
services (issue 10's benchmark) most of its cost is generality: a dict of metrics built
and read every minute, a call per minute, loops over tuples of policies, attribute reads
on the state.  :func:`replay` here gives the same :class:`~whatif.Timeline` (the same
activities, counts and per-minute samples, compared by ``tests/scaling/test_compiled.py``
on random policy sets and series) from a walk written for the service's *shape*: each
policy's counters are local variables, each metric is computed once a minute straight
from demand ÷ running tasks (or read once from the given series), and only the code of
the policies the service has is there.  What happens rarely stays in the engine's own
functions: scheduled actions fire through ``engine._fire`` (same iterators, same wording),
activities are worded by ``engine._record``, and the running count follows through
``whatif._Fleet``.  Two things are restated rather than called: the target-tracking
capacities (``target_tracking.proportional``'s expression, with its ε, inlined) and a step
alarm's breach flags (recomputed from the datapoints the alarm keeps, which decide them).
Like the reference replay, the walk has no deployment in progress.

Code generation, and what reaches it: the walk's source is assembled only from the fixed
template fragments in this module, chosen by the shape, which is made of small integers,
booleans and keys of fixed tables (how each metric is derived, which metric each policy
reads by position, whether a target-tracking policy votes on scale-in, which of the four
CloudWatch comparison operators an alarm uses, open or closed loop, whether samples are
recorded).  No text from a manifest, a CSV or the command line reaches ``compile`` or
``exec``: names, thresholds, targets, cooldowns and step bounds are handed to the
generated function as arguments.  One function per shape, cached.

Where it does not apply (:func:`applies` is False: a step alarm with a period longer
than a minute, an unknown comparison operator, fewer than one evaluation period),
:func:`replay_best` falls back to the reference.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Mapping, Sequence

from ecsctl.core.scaling import engine, target_tracking
from ecsctl.core.scaling.adjustments import aggregate, find_step, new_capacity
from ecsctl.core.scaling.demand import ALB, CPU, MEMORY, DemandModel
from ecsctl.core.scaling.model import HIGH_DATAPOINTS, LOW_DATAPOINTS, ScalingConfig
from ecsctl.core.scaling.schedules import FireTimesFn, fire_times
from ecsctl.core.scaling.whatif import DEFAULT_STARTUP_MINUTES, Timeline, _Fleet, primary_metric, replay as reference

NEVER = engine.NEVER
# The comparison operators an alarm may use, as fixed code fragments.
OPERATORS = {"GreaterThanOrEqualToThreshold": ">=", "GreaterThanThreshold": ">",
             "LessThanThreshold": "<", "LessThanOrEqualToThreshold": "<="}
# How a metric is derived from demand while tasks run (closed loop), as fixed fragments;
# "share" is load × factor ÷ running (factor 60 for ALBRequestCountPerTarget, 1 per task).
RUNNING = {"none": "None", "total": "load", "cpu": "u", "memory": "idle + span * u", "share": "load * f{j} / running"}


def applies(config: ScalingConfig) -> bool:
    """True when the compiled walk covers every policy of ``config``."""
    for pol in config.step_scaling:
        alarm = pol.alarm
        if alarm.period_minutes != 1 or alarm.comparison not in OPERATORS or alarm.evaluation_periods < 1:
            return False
    return True


def replay_best(config: ScalingConfig, **kw) -> Timeline:
    """:func:`replay` where it applies, else the reference engine's replay (same arguments)."""
    return replay(config, **kw) if applies(config) else reference(config, **kw)


# --- the closed loop's metrics, as the reference's deriver computes them ---------


def _derivations(model: DemandModel, wanted: Sequence[str]) -> list[tuple[str, bool, float]]:
    """Per wanted metric: (how it is derived while tasks run, kept at zero tasks, factor).

    Mirrors :meth:`DemandModel.deriver`, whose writes happen in the order totals, CPU,
    memory, shares: the last writer of a name is its value.
    """
    published = model.published()
    custom = dict(model.custom)
    out = []
    for name in wanted:
        if name not in published:
            out.append(("none", False, 0.0))
            continue
        kind, factor = "none", 0.0
        total = custom.get(name) == "total"
        if total:
            kind = "total"
        if name == CPU or custom.get(name) == "utilization":
            kind = "cpu"
        if name == MEMORY:
            kind = "memory"
        if name == ALB:  # published by the unit, or as a custom metric: the deriver shares it either way
            kind, factor = "share", 60.0
        if custom.get(name) == "perTask":
            kind, factor = "share", 1.0
        out.append((kind, total, factor))
    return out


# --- the generator -----------------------------------------------------------------


def _source(shape: tuple) -> str:
    """The walk's source for ``shape`` (see :func:`_shape`), from fixed fragments only."""
    closed, record, metrics, tracking, steps, primary = shape
    n_tt = len(tracking)
    lines = [
        "def walk(ctx, feed, T, S, F, k, idle, span, OUT, INS):",
        "    state = ctx.state",
        "    fire = ctx.fire",
        "    emit = ctx.emit",
        "    arrive = ctx.arrive",
        "    desired = state.desired",
        "    minimum = state.minimum",
        "    maximum = state.maximum",
        "    out_until = state.out_until",
        "    out_anchor = state.out_anchor",
        "    in_until = state.in_until",
        "    hold_out = state.hold_out",
        "    hold_in = state.hold_in",
        "    next_fire = state.next_fire",
        "    next_arrival = ctx.next_arrival()",
        "    wake = next_fire if next_fire < next_arrival else next_arrival",
        "    running = ctx.fleet.running",
        "    fired = None",
        "    ow = iw = tw = 0",
        "    ov = iv = tv = None",
    ]
    if record:
        lines += ["    rm = ctx.rec_metric.append", "    rd = ctx.rec_desired.append", "    rr = ctx.rec_running.append"]
    for j, (kind, _) in enumerate(metrics):
        if closed and kind == "share":
            lines.append(f"    f{j} = F[{j}]")
        if not closed:
            lines.append(f"    n{j} = F[{j}]")
    for i, _ in enumerate(tracking):
        lines += [f"    t{i}, l{i} = T[{i}]", f"    hi{i} = lo{i} = 0", f"    last{i} = -NEVER",
                  f"    w{i} = deque(maxlen=LOW)"]
    for s, _ in enumerate(steps):
        lines += [f"    th{s}, ep{s}, dta{s}, er{s}, agg{s}, st{s}, ab{s}, adj{s}, mag{s} = S[{s}]",
                  f"    sv{s} = deque(maxlen=ep{s})",
                  f"    sc{s} = 0", f"    sa{s} = False", f"    sl{s} = -NEVER"]
    if closed:
        lines.append("    for minute, load in feed:")
    else:
        lines += ["    empty = {}", "    get = ctx.get", "    for minute in feed:", "        given = get(minute, empty)"]
    lines += [
        "        if minute >= wake:",
        "            if minute >= next_arrival:",
        "                running, next_arrival = arrive(minute)",
        "            if minute >= next_fire:",
        "                fired, desired, minimum, maximum, next_fire = fire(minute, desired, minimum, maximum)",
        "            wake = next_fire if next_fire < next_arrival else next_arrival",
    ]
    if closed:
        for j, (kind, total) in enumerate(metrics):
            if total:
                lines.append(f"        m{j} = load")
        lines += ["        if running:", "            u = load * k / running", "            if u > 100.0:",
                  "                u = 100.0"]
        for j, (kind, _) in enumerate(metrics):
            lines.append(f"            m{j} = " + RUNNING[kind].format(j=j))
        lines.append("        else:")
        lines.append("            pass")
        for j, (kind, total) in enumerate(metrics):
            if not total:
                lines.append(f"            m{j} = None")
    else:
        for j, _ in enumerate(metrics):
            lines.append(f"        m{j} = given.get(n{j})")
    lines += ["        oc = ic = tb = None", "        ready = True"]
    for i, (j, voter) in enumerate(tracking):
        lines += [
            f"        if m{j} is None:",
            f"            if minute - last{i} >= HIGH:",
            f"                hi{i} = 0",
            f"            if minute - last{i} >= LOW:",
            f"                lo{i} = 0",
            f"                w{i}.clear()",
        ]
        if voter:
            lines.append("            ready = False")
        lines += [
            "        else:",
            f"            last{i} = minute",
            f"            if m{j} > t{i}:",
            f"                hi{i} += 1",
            f"                if hi{i} >= HIGH and desired < maximum and not hold_out:",
            # scale_out_capacity, inlined: max(base + 1, ceil(base × metric ÷ target − ε))
            "                    base = out_anchor if minute * 60 < out_until else desired",
            f"                    cap = ceil(base * m{j} / t{i} - EPS)",
            "                    if cap <= base:",
            "                        cap = base + 1",
            "                    if oc is None or cap > oc:",
            f"                        oc, ow, ov = cap, {i}, m{j}",
            f"            elif hi{i}:",
            f"                hi{i} = 0",
        ]
        if voter:
            lines += [
                f"            if m{j} < l{i}:",
                f"                w{i}.append(m{j})",
                f"                lo{i} += 1",
                f"                if lo{i} >= LOW and ready and desired > minimum and minute * 60 >= in_until and not hold_in:",
                f"                    peak = max(w{i})",
                # scale_in_capacity, inlined: min(desired, ceil(desired × peak ÷ target − ε))
                f"                    cap = ceil(desired * peak / t{i} - EPS)",
                "                    if cap < desired:",
                "                        if tb is None or cap > tb:",
                f"                            tb, tw, tv = cap, {i}, peak",
                "                    else:",
                "                        ready = False",
                "                else:",
                "                    ready = False",
                "            else:",
                f"                if lo{i}:",
                f"                    lo{i} = 0",
                f"                    w{i}.clear()",
                "                ready = False",
            ]
    if any(voter for _, voter in tracking):
        lines += ["        if ready and tb is not None:", "            ic, iw, iv = tb, tw, tv"]
    for s, (j, op) in enumerate(steps):
        c = n_tt + s
        lines += [
            f"        if m{j} is not None:",
            # the datapoint leaving the window breached if its value did (the engine keeps flags)
            f"            if len(sv{s}) == ep{s} and sv{s}[0] {OPERATORS[op]} th{s}:",
            f"                sc{s} -= 1",
            f"            sv{s}.append(m{j})",
            f"            if m{j} {OPERATORS[op]} th{s}:",
            f"                sc{s} += 1",
            f"            sa{s} = sc{s} >= dta{s}",
            f"            sl{s} = minute",
            f"        elif sa{s} and minute - sl{s} >= er{s}:",
            f"            sv{s}.clear()",
            f"            sc{s} = 0",
            f"            sa{s} = False",
            f"        if sa{s}:",
            f"            measured = aggregate(sv{s}, agg{s})",
            f"            adjustment = find_step(st{s}, measured - th{s}, above=ab{s})",
            "            if adjustment is not None:",
            f"                wanted = new_capacity(adj{s}, desired, adjustment, mag{s})",
            "                if wanted > desired and desired < maximum and not hold_out:",
            "                    if minute * 60 < out_until:",
            f"                        wanted = new_capacity(adj{s}, out_anchor, adjustment, mag{s})",
            "                    if oc is None or wanted > oc:",
            f"                        oc, ow, ov = wanted, {c}, measured",
            "                elif (wanted < desired and desired > minimum and minute * 60 >= in_until and not hold_in",
            "                      and (ic is None or wanted > ic)):",
            f"                    ic, iw, iv = wanted, {c}, measured",
        ]
    mp = f"m{primary}" if primary >= 0 else "None"
    lines += [
        "        if oc is not None:",
        "            new = oc if oc > minimum else minimum",
        "            if new > maximum:",
        "                new = maximum",
        "            if new > desired:",
        "                now = minute * 60",
        "                if now >= out_until:",
        "                    out_anchor = desired",
        "                why = OUT[ow]",
        "                out_until = now + why[5]",
        "                in_until = 0",
        f"                running, next_arrival = emit(minute, desired, new, why, ov, fired, {mp})",
        "                desired = new",
        "                fired = None",
        "                wake = next_fire if next_fire < next_arrival else next_arrival",
        "        elif ic is not None:",
        "            new = ic if ic > minimum else minimum",
        "            if new > maximum:",
        "                new = maximum",
        "            if new < desired:",
        "                why = INS[iw]",
        "                in_until = minute * 60 + why[5]",
        f"                running, next_arrival = emit(minute, desired, new, why, iv, fired, {mp})",
        "                desired = new",
        "                fired = None",
        "                wake = next_fire if next_fire < next_arrival else next_arrival",
        "        if fired is not None:",
        "            if fired:",
        f"                running, next_arrival = emit(minute, desired, desired, None, None, fired, {mp})",
        "                wake = next_fire if next_fire < next_arrival else next_arrival",
        "            fired = None",
    ]
    if record:
        lines += [f"        rm({mp})", "        rd(desired)", "        rr(running)"]
    lines += [
        "    state.desired, state.minimum, state.maximum = desired, minimum, maximum",
        "    state.out_until, state.out_anchor, state.in_until = out_until, out_anchor, in_until",
    ]
    return "\n".join(lines) + "\n"


_NAMESPACE = {"deque": deque, "NEVER": NEVER, "HIGH": HIGH_DATAPOINTS, "LOW": LOW_DATAPOINTS,
              "aggregate": aggregate, "find_step": find_step, "new_capacity": new_capacity,
              "ceil": math.ceil, "EPS": target_tracking._EPS}
_CACHE: dict[tuple, object] = {}


def _compiled(shape: tuple):
    fn = _CACHE.get(shape)
    if fn is None:
        namespace = dict(_NAMESPACE)
        exec(compile(_source(shape), "<ecsctl.core.scaling.compiled walk>", "exec"), namespace)  # noqa: S102 - fixed templates
        fn = _CACHE[shape] = namespace["walk"]
    return fn


# --- the rare events, through the engine's own functions ------------------------


class _Context:
    """What the walk hands back to ordinary code: schedules, activities, the running count."""

    __slots__ = ("state", "fleet", "timeline", "get", "rec_metric", "rec_desired", "rec_running")

    def __init__(self, state, fleet: _Fleet, timeline: Timeline, get=None) -> None:
        self.state = state
        self.get = get  # the open loop's series: minute → {metric: value}
        self.fleet = fleet
        self.timeline = timeline
        self.rec_metric: list = []
        self.rec_desired: list = []
        self.rec_running: list = []

    def next_arrival(self) -> int:
        starting = self.fleet.starting
        return starting[0][0] if starting else NEVER

    def arrive(self, minute: int) -> tuple[int, int]:
        self.fleet.arrive(minute)
        return self.fleet.running, self.next_arrival()

    def fire(self, minute: int, desired: int, minimum: int, maximum: int):
        state = self.state
        state.desired, state.minimum, state.maximum = desired, minimum, maximum
        acts = engine._fire(state, minute)
        return acts, state.desired, state.minimum, state.maximum, state.next_fire

    def emit(self, minute: int, previous: int, new: int, why, value, fired, shown) -> tuple[int, int]:
        """Record this minute's activities (scheduled ones first) and let the running count follow."""
        state = self.state
        if why is None:
            acts = fired
        else:
            acts = engine._record(state, fired, minute, previous, new, (new, why[1], why[2], why[3], value, why[5]))
        state.desired = new
        timeline = self.timeline
        running = self.fleet.running
        for act in acts:
            timeline.activities.append(act)
            timeline.running_at.append(running)
            timeline.metric_at.append(shown)
        self.fleet.follow(new, minute)
        return self.fleet.running, self.next_arrival()


def _shape(config: ScalingConfig, metric_names: tuple[str, ...], kinds: list, closed: bool, record: bool,
           primary: str | None) -> tuple:
    index = {name: j for j, name in enumerate(metric_names)}
    tracking = tuple((index[p.metric], not p.disable_scale_in) for p in config.target_tracking)
    steps = tuple((index[p.alarm.metric], p.alarm.comparison) for p in config.step_scaling)
    metrics = tuple((kind, total) for kind, total, _ in kinds)
    return (closed, record, metrics, tracking, steps, index[primary] if primary is not None else -1)


def replay(config: ScalingConfig, *, start: int, end: int, desired: int,
           metrics: Mapping[int, Mapping[str, float]] | None = None,
           demand: DemandModel | None = None, demand_series: Sequence[float] | None = None,
           startup_minutes: int = DEFAULT_STARTUP_MINUTES, capacity: int | None = None,
           record: bool = False, fire_times_fn: FireTimesFn = fire_times) -> Timeline:
    """:func:`ecsctl.core.scaling.whatif.replay`, compiled; the same arguments and result.

    Raises ValueError where :func:`applies` is False (use :func:`replay_best`).
    """
    if (metrics is None) == (demand is None):
        raise ValueError("give metrics (open loop) or a demand (closed loop), not both")
    if not applies(config):
        raise ValueError("this policy set needs the reference engine (see compiled.applies)")
    name, target = primary_metric(config)
    timeline = Timeline(config, start, end, name, target)
    state = engine.start(config, desired=desired, minute=start, until=end, fire_times_fn=fire_times_fn)
    fleet = _Fleet(desired, startup_minutes, capacity)
    fleet.follow(desired, start)
    closed = demand is not None
    metric_names = config.metrics
    if closed:
        kinds = _derivations(demand, metric_names)
        F = tuple(factor for _, _, factor in kinds)
        k = 100.0 / demand.per_task
        idle, busy = demand.memory or (0.0, 100.0)
        span = (busy - idle) / 100.0
        feed = zip(range(start, end), demand_series)
    else:
        kinds = [("none", False, 0.0) for _ in metric_names]
        F = metric_names
        k = idle = span = 0.0
        feed = range(start, end)
    T = tuple((p.target, p.low_threshold) for p in config.target_tracking)
    S = tuple((p.alarm.threshold, p.alarm.evaluation_periods, p.alarm.datapoints_to_alarm,
               p.alarm.evaluation_periods * p.alarm.period_minutes, p.aggregation, p.steps, p.alarm.above,
               p.adjustment_type, p.min_adjustment_magnitude) for p in config.step_scaling)
    OUT = tuple((None, p.name, p.high_alarm, "TargetTrackingScaling", None, p.scale_out_cooldown)
                for p in config.target_tracking) + tuple(
        (None, p.name, p.alarm.name, "StepScaling", None, p.cooldown) for p in config.step_scaling)
    INS = tuple((None, p.name, p.low_alarm, "TargetTrackingScaling", None, p.scale_in_cooldown)
                for p in config.target_tracking) + tuple(
        (None, p.name, p.alarm.name, "StepScaling", None, p.cooldown) for p in config.step_scaling)
    shape = _shape(config, metric_names, kinds, closed, record, name)
    ctx = _Context(state, fleet, timeline, None if closed else metrics.get)
    _compiled(shape)(ctx, feed, T, S, F, k, idle, span, OUT, INS)
    timeline.minutes = max(0, end - start)
    if record:
        timeline.metric, timeline.desired, timeline.running = ctx.rec_metric, ctx.rec_desired, ctx.rec_running
    return timeline
