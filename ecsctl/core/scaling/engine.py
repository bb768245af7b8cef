"""One simulated minute of one service's Service Auto Scaling: ``step(state, minute_inputs)``.

Each minute, in this order (issue 10: "due scheduled actions fire, scaling policies
evaluate"):

1. scheduled actions due at or before this minute fire, in time order: they set the
   scalable target's min and/or max and pull the desired count into the new range
   (they ignore cooldowns, as AWS documents);
2. every policy's alarms take this minute's datapoint; policies whose alarm is in ALARM
   propose a capacity (Auto Scaling alarm actions repeat every minute in ALARM:
   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html);
3. scale out if any proposal is above the desired count, to the largest proposal;
   otherwise scale in if scale-in is allowed, to the largest scale-in proposal, where
   target-tracking policies propose only if all of them with scale-in enabled agree
   (step policies are not held back by them, as AWS warns);
4. ``minCapacity``/``maxCapacity`` bound the result.

Cooldowns (Application Auto Scaling User Guide, "Cooldown period"), kept per scalable
target (DERIVED: AWS does not say whether they are per policy):

* after a scale-out, the scale-out cooldown of the policy that did it runs; during it,
  proposals are computed from the capacity *before* that scale-out ("the capacity added …
  is calculated as part of the desired capacity for the next scale-out") and act only if
  larger than the desired count; another scale-out restarts the clock, same anchor;
* after a scale-in, scale-in is blocked for that policy's scale-in cooldown; a scale-out
  cancels it ("the scale-in cooldown period stops and doesn't complete");
* no scale-in while a deployment is in progress (``MinuteInputs.deploying``): "Application
  Auto Scaling turns off scale-in processes while Amazon ECS deployments are in progress"
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html);
  scheduled actions still apply;
* ``suspendedState`` switches off dynamic scale-in, dynamic scale-out or scheduled scaling.

Missing data: a minute without a datapoint changes no alarm; an alarm that has had no
datapoint for its whole evaluation range goes INSUFFICIENT_DATA (counts reset) and a
target-tracking policy without a fresh datapoint never votes to scale in.
"""

from __future__ import annotations

import operator
from collections import deque
from datetime import datetime
from typing import Mapping

from ecsctl.core.scaling.activities import ScalingActivity, failed_schedule, policy_activity, scheduled_activities
from ecsctl.core.scaling.adjustments import aggregate, find_step, new_capacity
from ecsctl.core.scaling.model import HIGH_DATAPOINTS, LOW_DATAPOINTS, LOW_THRESHOLD_FACTOR, ScalingConfig
from ecsctl.core.scaling.schedules import FireTimesFn, epoch_minute, fire_times, firings_start, minute_datetime
from ecsctl.core.scaling.target_tracking import scale_in_capacity, scale_out_capacity

NEVER = 1 << 62  # a minute no schedule reaches
COMPARE = {"GreaterThanOrEqualToThreshold": operator.ge, "GreaterThanThreshold": operator.gt,
           "LessThanThreshold": operator.lt, "LessThanOrEqualToThreshold": operator.le}
NO_ACTIVITIES: tuple = ()


class MinuteInputs:
    """What the world says about one service in one minute.

    ``minute``: minutes since the Unix epoch (UTC); ``metrics``: metric name → the
    minute's datapoint (a predefined metric type such as ECSServiceAverageCPUUtilization,
    or a custom metricName), absent when CloudWatch would have none; ``deploying``: an
    ECS deployment of the service is in progress.  :func:`step` keeps no reference to
    it, so a caller stepping many minutes may reuse one instance.
    """

    __slots__ = ("minute", "metrics", "deploying")

    def __init__(self, minute: int, metrics: Mapping[str, float], deploying: bool = False) -> None:
        self.minute = minute
        self.metrics = metrics
        self.deploying = deploying

    def __repr__(self) -> str:
        return f"MinuteInputs({self.minute}, {dict(self.metrics)!r}, deploying={self.deploying})"


class _Tracking:
    __slots__ = ("hi", "lo", "last", "window")

    def __init__(self) -> None:
        self.hi = 0  # consecutive datapoints above the target (AlarmHigh)
        self.lo = 0  # consecutive datapoints below 90 % of it (AlarmLow)
        self.last = -NEVER  # minute of the last datapoint
        self.window: deque = deque(maxlen=LOW_DATAPOINTS)


class _Step:
    __slots__ = ("values", "flags", "count", "alarm", "last", "acc")

    def __init__(self, periods: int) -> None:
        self.values: deque = deque(maxlen=periods)  # the alarm's latest datapoints
        self.flags: deque = deque(maxlen=periods)  # whether each breached
        self.count = 0  # how many of them breached
        self.alarm = False
        self.last = -NEVER
        self.acc: list = []  # minute values of a period longer than a minute


class _Schedule:
    __slots__ = ("action", "times", "next")

    def __init__(self, action, times) -> None:
        self.action = action
        self.times = times
        self.next = _advance(times)


def _advance(times) -> int:
    moment = next(times, None)
    return NEVER if moment is None else epoch_minute(moment)


class ScalingState:
    """Everything the engine remembers about one service between minutes (mutable)."""

    __slots__ = ("config", "desired", "minimum", "maximum", "out_until", "out_anchor", "in_until",
                 "tracking", "steps", "schedules", "next_fire", "minute", "seq", "created", "hold_in", "hold_out")

    def __init__(self, config: ScalingConfig, desired: int, minute: int, created: int | None = None) -> None:
        self.config = config
        self.desired = desired
        self.minimum = config.min_capacity
        self.maximum = config.max_capacity
        self.out_until = 0  # epoch seconds; scale-out cooldown runs while now < out_until
        self.out_anchor = desired
        self.in_until = 0
        self.tracking = [(p, _Tracking(), p.metric, p.target, p.target * LOW_THRESHOLD_FACTOR, not p.disable_scale_in)
                         for p in config.target_tracking]
        self.steps = [(p, _Step(p.alarm.evaluation_periods), p.alarm, COMPARE[p.alarm.comparison])
                      for p in config.step_scaling]
        self.schedules: list[_Schedule] = []
        self.next_fire = NEVER
        self.minute = minute - 1  # the last minute stepped
        self.seq = 0
        # the epoch minute the scalable target was registered: rate() without a start time
        # first fires one period after it (recurrence.firings_start)
        self.created = minute if created is None else created
        self.hold_in = config.suspended.scale_in  # dynamicScalingInSuspended
        self.hold_out = config.suspended.scale_out


def start(config: ScalingConfig, *, desired: int, minute: int, until: int,
          fire_times_fn: FireTimesFn = fire_times, created: int | None = None) -> ScalingState:
    """A fresh state at ``minute`` (nothing stepped yet), the schedules read up to ``until``.

    ``desired`` is the service's desired count now; ``created`` the epoch minute the
    scalable target was registered (default ``minute``).  ``fire_times_fn`` has the
    signature of :func:`ecsctl.core.scaling.schedules.fire_times`.
    """
    state = ScalingState(config, desired, minute, created)
    read_schedules(state, fire_times_fn, minute, until)
    return state


def read_schedules(state: ScalingState, fire_times_fn: FireTimesFn, minute: int, until: int) -> None:
    """(Re)read every scheduled action's firings from ``minute`` (included) to ``until``."""
    after, horizon = minute_datetime(minute) - _SECOND, minute_datetime(until)
    state.schedules = []
    for action in state.config.scheduled:
        # rate() without a start time counts from when the scalable target exists (state.created)
        begin = firings_start(action.schedule, created=minute_datetime(state.created), start=action.start)
        times = iter(fire_times_fn(action.schedule, timezone=action.timezone, after=after, until=horizon,
                                   start=begin, end=action.end))
        state.schedules.append(_Schedule(action, times))
    state.next_fire = min((s.next for s in state.schedules), default=NEVER)


def step(state: ScalingState, inputs: MinuteInputs) -> tuple[ScalingState, tuple[ScalingActivity, ...]]:
    """Advance ``state`` by one minute (mutated in place and returned) and say what scaled."""
    minute = inputs.minute
    state.minute = minute
    acts: list | None = None
    if minute >= state.next_fire:
        acts = _fire(state, minute)
    metrics = inputs.metrics
    desired = state.desired
    now = minute * 60
    cooling = now < state.out_until
    base = state.out_anchor if cooling else desired
    can_out = desired < state.maximum and not state.hold_out
    can_in = (desired > state.minimum and now >= state.in_until and not inputs.deploying
              and not state.hold_in)
    out = None  # (capacity, policy, alarm, kind, metric, cooldown)
    ins = None
    tt_voters = 0
    tt_ready = True
    tt_best = None
    for pol, st, metric, target, low, voter in state.tracking:
        value = metrics.get(metric)
        if value is None:
            gap = minute - st.last
            if gap >= HIGH_DATAPOINTS:
                st.hi = 0
            if gap >= LOW_DATAPOINTS:
                st.lo = 0
                st.window.clear()
            if voter:
                tt_voters += 1
                tt_ready = False
            continue
        st.last = minute
        if value > target:
            st.hi += 1
            if st.hi >= HIGH_DATAPOINTS and can_out:
                cap = scale_out_capacity(base, value, target)
                if out is None or cap > out[0]:
                    out = (cap, pol.name, pol.high_alarm, "TargetTrackingScaling", value, pol.scale_out_cooldown)
        elif st.hi:
            st.hi = 0
        if not voter:
            continue
        tt_voters += 1
        if value < low:
            # The window holds the current streak's last 15 datapoints: once the streak is
            # 15 long, they are the low alarm's 15 datapoints.
            st.window.append(value)
            st.lo += 1
            if st.lo >= LOW_DATAPOINTS and can_in and tt_ready:
                peak = max(st.window)
                cap = scale_in_capacity(desired, peak, target)
                if cap < desired:
                    if tt_best is None or cap > tt_best[0]:
                        tt_best = (cap, pol.name, pol.low_alarm, "TargetTrackingScaling", peak, pol.scale_in_cooldown)
                    continue
        elif st.lo:
            st.lo = 0
            st.window.clear()
        tt_ready = False
    if tt_voters and tt_ready and tt_best is not None:
        ins = tt_best
    for pol, st, alarm, breaches in state.steps:
        value = metrics.get(alarm.metric)
        if value is not None:
            if alarm.period_minutes > 1:
                st.acc.append(value)
                value = None
                if (minute + 1) % alarm.period_minutes == 0:
                    value = aggregate(st.acc, alarm.statistic)
                    st.acc = []
            if value is not None:
                flags = st.flags
                if len(flags) == flags.maxlen and flags[0]:
                    st.count -= 1
                hit = breaches(value, alarm.threshold)
                flags.append(hit)
                st.values.append(value)
                if hit:
                    st.count += 1
                st.alarm = st.count >= alarm.datapoints_to_alarm
                st.last = minute
        elif st.alarm and minute - st.last >= alarm.evaluation_periods * alarm.period_minutes:
            st.values.clear()
            st.flags.clear()
            st.count = 0
            st.alarm = False
        if not st.alarm:
            continue
        measured = aggregate(st.values, pol.aggregation)
        adjustment = find_step(pol.steps, measured - alarm.threshold, above=alarm.above)
        if adjustment is None:
            continue
        wanted = new_capacity(pol.adjustment_type, desired, adjustment, pol.min_adjustment_magnitude)
        if wanted > desired and can_out:
            if cooling:
                wanted = new_capacity(pol.adjustment_type, base, adjustment, pol.min_adjustment_magnitude)
            if out is None or wanted > out[0]:
                out = (wanted, pol.name, alarm.name, "StepScaling", measured, pol.cooldown)
        elif wanted < desired and can_in and (ins is None or wanted > ins[0]):
            ins = (wanted, pol.name, alarm.name, "StepScaling", measured, pol.cooldown)
    if out is not None:
        new = within(out[0], state.minimum, state.maximum)
        if new > desired:
            if not cooling:
                state.out_anchor = desired
            state.out_until = now + out[5]
            state.in_until = 0
            return state, _record(state, acts, minute, desired, new, out)
    elif ins is not None:
        new = within(ins[0], state.minimum, state.maximum)
        if new < desired:
            state.in_until = now + ins[5]
            return state, _record(state, acts, minute, desired, new, ins)
    return state, (tuple(acts) if acts else NO_ACTIVITIES)


def _record(state: ScalingState, acts: list | None, minute: int, previous: int, new: int, why: tuple):
    state.desired = new
    activity = policy_activity(state.config.resource_id, minute, previous=previous, desired=new,
                               minimum=state.minimum, maximum=state.maximum, alarm=why[2], policy=why[1],
                               kind=why[3], metric=why[4], seq=state.seq)
    state.seq += 1
    return tuple(acts or ()) + (activity,)


def _fire(state: ScalingState, minute: int) -> list:
    acts: list = []
    while True:
        due = [s for s in state.schedules if s.next <= minute]
        if not due:
            break
        slot = min(due, key=lambda s: (s.next, s.action.name))
        at = slot.next
        slot.next = _advance(slot.times)
        if not state.config.suspended.scheduled:
            acts.extend(_apply(state, slot.action, max(at, minute)))
    state.next_fire = min((s.next for s in state.schedules), default=NEVER)
    return acts


def _apply(state: ScalingState, action, minute: int) -> list[ScalingActivity]:
    lo = action.min_capacity if action.min_capacity is not None else state.minimum
    hi = action.max_capacity if action.max_capacity is not None else state.maximum
    resource = state.config.resource_id
    if lo > hi:
        act = failed_schedule(resource, minute, action=action.name, set_min=action.min_capacity,
                              set_max=action.max_capacity, desired=state.desired, minimum=state.minimum,
                              maximum=state.maximum, seq=state.seq,
                              reason=f"minimum capacity {lo} would exceed maximum capacity {hi}")
        state.seq += 1
        return [act]
    previous = state.desired
    state.minimum, state.maximum = lo, hi
    state.desired = within(previous, lo, hi)
    acts = scheduled_activities(resource, minute, action=action.name, set_min=action.min_capacity,
                                set_max=action.max_capacity, previous=previous, desired=state.desired,
                                minimum=lo, maximum=hi, seq=state.seq)
    state.seq += len(acts)
    return acts


def within(capacity: int, minimum: int, maximum: int) -> int:
    """``capacity`` moved into ``[minimum, maximum]``.

    What RegisterScalableTarget does to an active resource ("it changes the resource's
    current capacity to a value that is inside of this range",
    https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html),
    what a scheduled action does at its time, and how every policy's result is bounded.

        >>> within(8, 1, 3), within(1, 4, 10), within(5, 1, 10)
        (3, 4, 5)
    """
    return min(max(capacity, minimum), maximum)


def set_desired(state: ScalingState, desired: int) -> None:
    """The desired count changed outside scaling (an apply, a manual update)."""
    state.desired = desired


_SECOND = datetime(1970, 1, 1, 0, 0, 1) - datetime(1970, 1, 1)
