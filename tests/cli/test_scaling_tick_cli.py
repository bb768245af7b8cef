"""Service Auto Scaling on the simulated clock, through the CLI: ``metrics put``, ``tick``,
``get scaling``, ``describe service``, and the plan that does not fight a scaled count.

The expected numbers come from Application Auto Scaling's documented behaviour, not from
our own output: target tracking scales out proportionally, ``ceil(capacity × metric ÷
target)`` (issue 10, ecs-semantics §6.2) once its high alarm has 3 of 3 one-minute
datapoints above the target; a step policy's cooldown (default 300 s) holds the next
scale-out; a scheduled action sets min/max and pulls the desired count into the range
("minimum capacity was set to 6").  The simulated clock starts at 2026-01-01T00:00:00Z.
"""

from __future__ import annotations

import json
from datetime import timedelta
import textwrap

import pytest
from typer.testing import CliRunner

from ecsctl.cli.app import app

CPU = "ECSServiceAverageCPUUtilization"

TASKDEF_AND_CLUSTER = """\
---
apiVersion: ecsctl/v1
kind: TaskDefinition
metadata: {name: web}
spec:
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: "256"
  memory: "512"
  containerDefinitions:
    - {name: web, image: "nginx:1.27", portMappings: [{containerPort: 80}]}
---
apiVersion: ecsctl/v1
kind: Cluster
metadata: {name: prod}
spec: {}
"""


def service(auto_scaling: str, desired: int = 2) -> str:
    return textwrap.dedent("""\
        apiVersion: ecsctl/v1
        kind: Service
        metadata: {name: web}
        spec:
          cluster: prod
          taskDefinition: web
          desiredCount: %d
          launchType: FARGATE
          networkConfiguration:
            awsvpcConfiguration: {subnets: [subnet-1], securityGroups: [sg-1]}
          autoScaling:
        """) % desired + textwrap.indent(textwrap.dedent(auto_scaling), "    ") + TASKDEF_AND_CLUSTER


TARGET_TRACKING = """\
minCapacity: 2
maxCapacity: 10
targetTracking:
  - policyName: cpu60
    targetValue: 60
    predefinedMetricSpecification: {predefinedMetricType: ECSServiceAverageCPUUtilization}
"""


class Sim:
    """One stack in tmp_path and its state, driven through the CLI."""

    def __init__(self, tmp_path, auto_scaling: str, desired: int = 2) -> None:
        self.dir = tmp_path
        self.manifest = tmp_path / "web.yaml"
        self.manifest.write_text(service(auto_scaling, desired))
        self.state = str(tmp_path / "state.db")
        self.runner = CliRunner()
        applied = self("apply", "-f", self.manifest, "--auto-approve")
        assert applied.exit_code == 0, applied.output

    def __call__(self, *args, code: int = 0):
        result = self.runner.invoke(app, [*map(str, args), "--state", self.state])
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return result

    def json(self, *args):
        return json.loads(self(*args, "-o", "json").stdout)

    def desired(self) -> int:
        return self.json("get", "services", "web")[0]["desiredCount"]

    def running(self) -> int:
        return self.json("get", "services", "web")[0]["runningCount"]

    def activities(self) -> list[dict]:
        return self.json("get", "scaling")


def test_high_cpu_scales_out_on_tick_and_the_plan_does_not_reset_the_count(tmp_path) -> None:
    sim = Sim(tmp_path, TARGET_TRACKING + "    scaleOutCooldown: 300\n")
    sim("metrics", "put", "--service", "web", "--metric", CPU, "--value", "90")
    ticked = sim.json("tick", "10m")
    # 3 datapoints above 60 (00:01, 00:02, 00:03) put the high alarm in ALARM: ceil(2 × 90 / 60) = 3;
    # the 300 s scale-out cooldown then holds until 00:08: ceil(3 × 90 / 60) = 5.
    assert [(a["time"], a["previousDesiredCount"], a["desiredCount"]) for a in ticked["scaling"]] == [
        ("2026-01-01T00:03:00Z", 2, 3), ("2026-01-01T00:08:00Z", 3, 5)]
    assert sim.desired() == 5 and sim.running() == 5  # the controller started the tasks in the same minute
    first = sim.activities()[0]
    assert first["description"] == "Setting desired count to 3."
    assert first["cause"].startswith("monitor alarm TargetTracking-service/prod/web-AlarmHigh-")
    assert first["cause"].endswith(" in state ALARM triggered policy cpu60")
    assert first["statusMessage"] == "Successfully set desired count to 3. Change successfully fulfilled by ecs."
    assert (first["cluster"], first["service"], first["resourceId"]) == ("prod", "web", "service/prod/web")

    # DESIGN §5: a desired count moved by scaling is drift, not a change.
    sim("plan", "-f", sim.manifest, "--detailed-exitcode")  # exit 0: no changes
    plan = sim.json("plan", "-f", sim.manifest)
    assert plan["summary"]["create"] == plan["summary"]["update"] == plan["summary"]["delete"] == 0
    assert not [c for c in plan["changes"] if c["action"] != "no-op"]
    assert [(d["address"], d["field"], d["actual"]) for d in plan["drift"]] == [("service/prod/web", "desiredCount", 5)]
    sim("apply", "-f", sim.manifest, "--auto-approve")
    assert sim.desired() == 5  # an apply of the unchanged manifests keeps the scaled count


def test_describe_service_shows_the_scalable_target_and_its_activities(tmp_path) -> None:
    sim = Sim(tmp_path, TARGET_TRACKING)
    sim("metrics", "put", "--service", "web", "--metric", CPU, "--value", "90")
    sim("tick", "5m")
    described = sim.json("describe", "service", "web")["scaling"]
    assert (described["minCapacity"], described["maxCapacity"]) == (2, 10)
    assert described["policies"] == [{"policyName": "cpu60", "policyType": "TargetTrackingScaling",
                                      "metric": CPU, "target": 60}]
    assert [a["description"] for a in described["activities"]] == ["Setting desired count to 3."]
    text = sim("describe", "service", "web").stdout
    assert "Scaling:" in text and "triggered policy cpu60" in text
    rows = sim("get", "scaling", "web").stdout.splitlines()
    assert rows[0].split()[:3] == ["TIME", "SERVICE", "DESIRED"] and "2 -> 3" in rows[1]


def test_closed_loop_demand_settles_near_the_target(tmp_path) -> None:
    # 320 requests/s, 50 per task at 100 % CPU: CPU = 100 × 320 ÷ (50 r) = 640 / r. Target 60 %:
    # the high alarm stops above r = 10.67, the low alarm (< 54 %) would need r > 11.85: r = 11.
    sim = Sim(tmp_path, TARGET_TRACKING.replace("maxCapacity: 10", "maxCapacity: 20")
              + "    scaleOutCooldown: 60\ndemand: {unit: requestsPerSecond, perTask: 50, constant: 320}\n")
    sim("tick", "2h")
    running = sim.running()
    assert running == sim.desired() == 11
    assert 0.9 * 60 <= 640 / running <= 60
    times = [a["time"] for a in sim.activities()]
    assert times and max(times) < "2026-01-01T01:00:00Z"  # it settled within the first hour and stayed
    before = len(times)
    sim("tick", "1h")
    assert len(sim.activities()) == before and sim.desired() == 11


def test_a_scale_out_lowers_the_derived_metric_then_scale_in_follows_the_demand_down(tmp_path) -> None:
    sim = Sim(tmp_path, TARGET_TRACKING.replace("maxCapacity: 10", "maxCapacity: 20") + textwrap.dedent("""\
        demand:
          unit: requestsPerSecond
          perTask: 50
          series:
            - {time: "2026-01-01T00:00:00Z", value: 320}
            - {time: "2026-01-01T01:00:00Z", value: 320}
            - {time: "2026-01-01T01:01:00Z", value: 60}
        """))
    sim("tick", "1h")
    assert sim.desired() == 11
    sim("tick", "1h")
    # 60 requests/s: 2 tasks would run at 60 %, the floor is minCapacity 2.
    assert sim.desired() == 2
    causes = [a["cause"] for a in sim.activities()]
    assert any("-AlarmLow-" in c for c in causes)


def test_a_scheduled_action_fires_at_its_time_on_tick(tmp_path) -> None:
    sim = Sim(tmp_path, """\
        minCapacity: 2
        maxCapacity: 10
        scheduled:
          - scheduledActionName: morning
            schedule: cron(30 0 * * ? *)
            scalableTargetAction: {minCapacity: 6, maxCapacity: 10}
        """)
    sim("tick", "29m")
    assert sim.desired() == 2 and sim.activities() == []
    sim("tick", "1m")
    assert sim.desired() == 6 and sim.running() == 6
    acts = sim.activities()
    assert [(a["time"], a["cause"], a["description"]) for a in acts] == [
        ("2026-01-01T00:30:00Z", "scheduled action name morning was triggered", "Setting min capacity to 6 and max capacity to 10"),
        ("2026-01-01T00:30:00Z", "minimum capacity was set to 6", "Setting desired count to 6."),
    ]
    sim("tick", "23h")  # the next firing (00:30 the next day) is not due yet: nothing fires twice
    assert len(sim.activities()) == 2
    assert sim.json("describe", "service", "web")["scaling"]["minCapacity"] == 6


def test_no_scale_in_while_a_deployment_is_in_progress(tmp_path) -> None:
    """"Application Auto Scaling turns off scale-in processes while Amazon ECS deployments are in
    progress": a deployment that minimumHealthyPercent = maximumPercent = 100 leave no room for
    stays IN_PROGRESS (DESIGN §6), the old tasks run on."""
    low = TARGET_TRACKING.replace("minCapacity: 2", "minCapacity: 1")
    (tmp_path / "calm").mkdir()
    calm = Sim(tmp_path / "calm", low, desired=4)
    calm("metrics", "put", "--service", "web", "--metric", CPU, "--value", "10")
    calm("tick", "30m")
    assert calm.desired() < 4  # 15 datapoints under 54 %: the low alarm scales in

    (tmp_path / "busy").mkdir()
    busy = Sim(tmp_path / "busy", low, desired=4)
    busy.manifest.write_text(busy.manifest.read_text().replace(
        "  launchType: FARGATE", "  launchType: FARGATE\n  deploymentConfiguration: {minimumHealthyPercent: 100, maximumPercent: 100}"
    ).replace('"nginx:1.27"', '"nginx:1.28"'))
    busy("apply", "-f", busy.manifest, "--auto-approve", code=1)  # stalled: no room to start a new task
    assert busy.json("rollout", "status", "web")["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    busy("metrics", "put", "--service", "web", "--metric", CPU, "--value", "10")
    busy("tick", "30m")
    assert busy.desired() == 4 and busy.activities() == []


STEP = """\
minCapacity: 1
maxCapacity: 10
stepScaling:
  - policyName: backlog
    adjustmentType: ChangeInCapacity
    cooldown: 300
    alarm: {metricName: BacklogPerTask, threshold: 100, comparisonOperator: GreaterThanOrEqualToThreshold}
    stepAdjustments:
      - {metricIntervalLowerBound: 0, scalingAdjustment: 1}
"""


def test_the_step_policy_cooldown_holds_the_next_scale_out(tmp_path) -> None:
    sim = Sim(tmp_path, STEP)
    sim("metrics", "put", "--service", "web", "--metric", "BacklogPerTask", "--value", "150")
    sim("tick", "12m")
    acts = sim.activities()
    # One datapoint puts the alarm in ALARM at 00:01; a scale-out every 300 s after that.
    assert [(a["time"], a["desiredCount"]) for a in acts] == [
        ("2026-01-01T00:01:00Z", 3), ("2026-01-01T00:06:00Z", 4), ("2026-01-01T00:11:00Z", 5)]
    assert all(a["cause"] == "monitor alarm backlog in state ALARM triggered policy backlog" for a in acts)


def test_the_state_carries_the_engine_between_ticks(tmp_path) -> None:
    """Ten ticks of a minute record what one tick of ten minutes does (cooldowns and alarm
    datapoints live in sim_state between commands)."""
    results = []
    for name, ticks in (("one", ["10m"]), ("ten", ["1m"] * 10)):
        folder = tmp_path / name
        folder.mkdir()
        sim = Sim(folder, TARGET_TRACKING)
        sim("metrics", "put", "--service", "web", "--metric", CPU, "--value", "90")
        for duration in ticks:
            sim("tick", duration)
        results.append([(a["time"], a["desiredCount"], a["cause"]) for a in sim.activities()])
    assert results[0] == results[1] and len(results[0]) >= 2


def test_metrics_from_a_csv_series_and_a_later_value_replaces_the_level(tmp_path) -> None:
    sim = Sim(tmp_path, TARGET_TRACKING)
    series = tmp_path / "cpu.csv"
    series.write_text("timestamp,metric,value\n2026-01-01T00:00:00Z,%s,30\n2026-01-01T00:05:00Z,%s,95\n" % (CPU, CPU))
    put = sim.json("metrics", "put", "--service", "web", "--file", series)
    assert (put["points"], put["from"], put["to"]) == (2, "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")
    sim("tick", "8m")
    # 30 % from 00:00, 95 % from 00:05: the third datapoint above 60 is the minute 00:07-00:08,
    # stepped when it ends → ceil(2 × 95 / 60) = 4 at 00:08.
    assert [(a["time"], a["desiredCount"]) for a in sim.activities()] == [("2026-01-01T00:08:00Z", 4)]


STEP_EXAMPLE = """\
minCapacity: 1
maxCapacity: 20
stepScaling:
  - policyName: out
    adjustmentType: PercentChangeInCapacity
    alarm: {metricName: ECSServiceAverageCPUUtilization, threshold: 50, comparisonOperator: GreaterThanThreshold}
    stepAdjustments: [{metricIntervalLowerBound: 0, metricIntervalUpperBound: 10, scalingAdjustment: 10},
                      {metricIntervalLowerBound: 10, scalingAdjustment: 30}]
  - policyName: in
    adjustmentType: PercentChangeInCapacity
    alarm: {metricName: ECSServiceAverageCPUUtilization, threshold: 50, comparisonOperator: LessThanThreshold}
    stepAdjustments: [{metricIntervalLowerBound: -10, metricIntervalUpperBound: 0, scalingAdjustment: -10},
                      {metricIntervalUpperBound: -10, scalingAdjustment: -30}]
"""


def test_tick_steps_the_step_scaling_example_as_the_what_if_does_a_minute_later(tmp_path) -> None:
    """Application Auto Scaling's step scaling example (capacity 10, ±10 % within 10 of the
    threshold 50, ±30 % beyond): 10 → 11 → 14 → 13 → 10 (3.3 and 1.4 and 3.9 round toward zero).
    A tick steps each datapoint's minute when it ends, the what-if at its start (found by a
    helper's trial: the tick read the minute after the clock, and never saw the first datapoint)."""
    sim = Sim(tmp_path, STEP_EXAMPLE, desired=10)
    rows = [("00:00", 55), ("00:01", 50), ("00:10", 70), ("00:11", 50), ("00:20", 45), ("00:21", 50),
            ("00:30", 30), ("00:31", 50)]
    series = tmp_path / "cpu.csv"
    series.write_text("timestamp,metric,value\n" + "".join(f"2026-01-01T{t}:00Z,{CPU},{v}\n" for t, v in rows))
    what_if = sim.json("scale", "simulate", "-f", sim.manifest, "--service", "web", "--metrics", series,
                       "--to", "2026-01-01T00:40:00Z")
    sim("metrics", "put", "--service", "web", "--file", series)
    sim("tick", "40m")
    ticked = sim.activities()
    assert [(a["previousDesiredCount"], a["desiredCount"]) for a in ticked] == [(10, 11), (11, 14), (14, 13), (13, 10)]
    assert [a["desiredCount"] for a in what_if] == [11, 14, 13, 10]
    assert [a["time"] for a in ticked] == ["2026-01-01T00:01:00Z", "2026-01-01T00:11:00Z",
                                           "2026-01-01T00:21:00Z", "2026-01-01T00:31:00Z"]
    assert [a["time"] for a in what_if] == ["2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z",
                                            "2026-01-01T00:20:00Z", "2026-01-01T00:30:00Z"]


def test_a_metric_no_policy_reads_is_a_warning(tmp_path) -> None:
    sim = Sim(tmp_path, TARGET_TRACKING)
    result = sim("metrics", "put", "--service", "web", "--metric", "QueueDepth", "--value", "5")
    assert "warning: no scaling policy of service/prod/web reads QueueDepth" in result.stderr


@pytest.mark.parametrize("args, code", [
    (["--service", "nope", "--metric", CPU, "--value", "1"], 1),
    (["--service", "web", "--metric", CPU], 2),
    (["--service", "web", "--metric", CPU, "--value", "1", "--file", "x.csv"], 2),
    (["--service", "web", "--metric", CPU, "--value", "1", "--time", "yesterday"], 2),  # a bad option value, as a bad --value
    (["--service", "web", "--file", "missing.csv"], 1),
    (["--service", "web", "--metric", CPU, "--value", "1e400"], 2),
    (["--service", "web", "--metric", CPU, "--value", "ninety"], 2),
    (["--service", "web", "--metric", CPU, "--value", "1_0"], 2),
])
def test_metrics_put_errors_are_one_line(tmp_path, args, code) -> None:
    sim = Sim(tmp_path, TARGET_TRACKING)
    result = sim("metrics", "put", *args, code=code)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    if "--value" in args and args[args.index("--value") + 1] != "1":
        assert repr(args[args.index("--value") + 1]) in lines[0]  # what was typed, not "inf"


def test_a_negative_utilization_is_a_warning_and_is_kept(tmp_path) -> None:
    """CloudWatch's ECSServiceAverageCPUUtilization is a percentage of the reserved CPU, never
    below 0; a negative datapoint is kept as given (open loop) and warned about."""
    sim = Sim(tmp_path, TARGET_TRACKING)
    result = sim("metrics", "put", "--service", "web", "--metric", CPU, "--value", "-5")
    assert f"warning: {CPU} is never negative in CloudWatch" in result.stderr and "1 datapoint(s)" in result.stdout


def test_the_view_draws_the_activities_tick_recorded(tmp_path) -> None:
    sim = Sim(tmp_path, TARGET_TRACKING)
    sim("metrics", "put", "--service", "web", "--metric", CPU, "--value", "90")
    sim("tick", "5m")
    scaling = sim.json("view")["scaling"]
    assert [(s["service"], [(a["from"], a["to"]) for a in s["activities"]]) for s in scaling] == [
        ("service/prod/web", [(2, 3)])]
    assert scaling[0]["points"][0]["desiredCount"] == 3 and scaling[0]["points"][0]["value"] == 90.0


TWO_POLICIES = TARGET_TRACKING.replace("minCapacity: 2", "minCapacity: 1") + """\
  - policyName: mem50
    targetValue: 50
    predefinedMetricSpecification: {predefinedMetricType: ECSServiceAverageMemoryUtilization}
"""
MEMORY = "ECSServiceAverageMemoryUtilization"


def test_several_policies_scale_in_only_when_all_agree(tmp_path) -> None:
    sim = Sim(tmp_path, TWO_POLICIES, desired=6)
    sim("metrics", "put", "--service", "web", "--metric", CPU, "--value", "20")     # far below 60: cpu60 wants in
    sim("metrics", "put", "--service", "web", "--metric", MEMORY, "--value", "48")  # not below 45: mem50 does not
    sim("tick", "30m")
    assert sim.desired() == 6 and sim.activities() == []
    sim("metrics", "put", "--service", "web", "--metric", MEMORY, "--value", "20")  # now both agree
    sim("tick", "20m")
    acts = sim.activities()
    assert acts and acts[0]["desiredCount"] < 6 and "-AlarmLow-" in acts[0]["cause"]


def test_several_policies_scale_out_if_any_wants_more(tmp_path) -> None:
    sim = Sim(tmp_path, TWO_POLICIES, desired=2)
    sim("metrics", "put", "--service", "web", "--metric", CPU, "--value", "20")
    sim("metrics", "put", "--service", "web", "--metric", MEMORY, "--value", "100")  # ceil(2 × 100 / 50) = 4
    sim("tick", "3m")
    assert [(a["desiredCount"], a["cause"].endswith("triggered policy mem50")) for a in sim.activities()] == [(4, True)]


FLOOR_AT_00_10 = """\
minCapacity: 2
maxCapacity: 10
scheduled:
  - {scheduledActionName: floor, schedule: "at(2026-01-01T00:10:00)", scalableTargetAction: {minCapacity: 6}}
"""


def test_an_applied_change_of_the_target_resets_the_scheduled_bounds(tmp_path) -> None:
    sim = Sim(tmp_path, FLOOR_AT_00_10)
    sim("tick", "15m")
    assert sim.json("describe", "service", "web")["scaling"]["minCapacity"] == 6 and sim.desired() == 6
    sim.manifest.write_text(sim.manifest.read_text().replace("maxCapacity: 10", "maxCapacity: 8"))
    sim("apply", "-f", sim.manifest, "--auto-approve")
    sim("tick", "1m")
    described = sim.json("describe", "service", "web")["scaling"]
    assert (described["minCapacity"], described["maxCapacity"]) == (2, 8)  # RegisterScalableTarget again
    assert sim.desired() == 6  # the count stays: nothing scaled it


def test_points_put_for_the_same_later_minute_are_all_kept(tmp_path) -> None:
    """Two puts for a minute after the clock (two metrics) must not overwrite each other: the
    CPU point still drives the scale-out (found by a new user: the second put erased the first)."""
    sim = Sim(tmp_path, TARGET_TRACKING)
    sim("metrics", "put", "--service", "web", "--metric", CPU, "--value", "90", "--time", "2026-01-01T00:01:00Z")
    sim("metrics", "put", "--service", "web", "--metric", "SomethingElse", "--value", "1",
        "--time", "2026-01-01T00:01:00Z")
    ticked = sim.json("tick", "5m")
    assert [(a["previousDesiredCount"], a["desiredCount"]) for a in ticked["scaling"]][:1] == [(2, 3)]


@pytest.mark.parametrize("time", ["99999999999999", "yesterday", "-1"])
def test_a_bad_time_is_a_usage_error(tmp_path, time) -> None:
    sim = Sim(tmp_path, TARGET_TRACKING)
    result = sim("metrics", "put", "--service", "web", "--metric", CPU, "--value", "5", f"--time={time}", code=2)
    assert "is not a timestamp" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_metric_put_once_holds_past_the_datapoint_retention(tmp_path, monkeypatch) -> None:
    """A `metrics put` value holds until the next one: the retention that drops a queue's
    per-minute datapoints after 15 days (shortened to 1 hour here) leaves it, so a later tick,
    in another process, still reads it."""
    from ecsctl.backends.local import tasks
    from ecsctl.backends.local.scaling import METRIC_KIND
    from ecsctl.core.state.ports import HistoryEntry
    from ecsctl.storage.sqlite_store import SqliteStateStore

    monkeypatch.setattr(tasks, "METRIC_RETENTION", timedelta(hours=1))
    sim = Sim(tmp_path, TARGET_TRACKING)
    sim("metrics", "put", "--service", "web", "--metric", CPU, "--value", "90")
    sim("tick", "3h")
    with SqliteStateStore(sim.state, create=False) as store:
        assert len(store.find(HistoryEntry, kind=METRIC_KIND)) == 1
    assert sim.desired() == 10  # 90 % against a target of 60: out to maxCapacity, and it holds


# --- RegisterScalableTarget at apply: the current capacity moves into the new bounds ---------
# "If the specified resource is not active in the target service, this operation does not change
# the resource's current capacity. Otherwise, it changes the resource's current capacity to a
# value that is inside of this range." (API_RegisterScalableTarget; ecs-semantics §6.1)

SCALE_OUT_TO_8 = """\
minCapacity: 1
maxCapacity: 10
targetTracking:
  - policyName: cpu50
    targetValue: 50
    predefinedMetricSpecification: {predefinedMetricType: ECSServiceAverageCPUUtilization}
"""


def test_lowering_max_capacity_below_the_desired_count_scales_in_to_it_at_apply(tmp_path) -> None:
    sim = Sim(tmp_path, SCALE_OUT_TO_8)
    sim("metrics", "put", "--service", "web", "--metric", CPU, "--value", "100")
    sim("tick", "10m")
    # 100 % against 50: ceil(2 × 100 / 50) = 4 at 00:03, the 300 s cooldown, then ceil(4 × 2) = 8.
    assert sim.desired() == 8
    sim.manifest.write_text(sim.manifest.read_text().replace("maxCapacity: 10", "maxCapacity: 3"))
    plan = sim("plan", "-f", sim.manifest).stdout
    assert "autoScaling.maxCapacity: 10 -> 3" in plan
    assert "after apply: web:1 ×3" in plan  # the plan runs apply's controller (DESIGN §5)
    sim("apply", "-f", sim.manifest, "--auto-approve")
    described = sim.json("describe", "service", "web")
    assert (described["scaling"]["minCapacity"], described["scaling"]["maxCapacity"]) == (1, 3)
    assert sim.desired() == sim.running() == 3
    sim("tick", "30m")  # the CPU still asks for more: the new maximum holds it
    assert sim.desired() == 3


def test_raising_min_capacity_above_the_desired_count_scales_out_to_it_at_apply(tmp_path) -> None:
    sim = Sim(tmp_path, TARGET_TRACKING)  # min 2, desired 2
    sim.manifest.write_text(sim.manifest.read_text().replace("minCapacity: 2", "minCapacity: 5"))
    plan = sim.json("plan", "-f", sim.manifest)
    forecast = next(p for p in plan["placement"] if p["address"] == "service/prod/web")
    assert forecast["tasks"] == {"web:1": 5}
    sim("apply", "-f", sim.manifest, "--auto-approve")
    assert sim.desired() == sim.running() == 5
    assert sim.json("describe", "service", "web")["scaling"]["minCapacity"] == 5


def test_an_apply_that_leaves_auto_scaling_alone_keeps_the_scheduled_bounds(tmp_path) -> None:
    """Only a changed ``autoScaling`` registers the target again: a new image is an UpdateService,
    no RegisterScalableTarget, so the minimum a scheduled action set stays."""
    sim = Sim(tmp_path, FLOOR_AT_00_10)
    sim("tick", "15m")
    sim.manifest.write_text(sim.manifest.read_text().replace("nginx:1.27", "nginx:1.28"))
    sim("apply", "-f", sim.manifest, "--auto-approve")
    assert sim.json("describe", "service", "web")["scaling"]["minCapacity"] == 6 and sim.desired() == 6


def test_tick_and_scale_simulate_fire_a_rate_action_at_the_same_times(tmp_path) -> None:
    """``rate(2 hours)`` without a start time, applied at 00:00, counts from then: 02:00 and
    04:00 (EventBridge's rate syntax "starts when you create the scheduled event rule"), on
    the clock and in the what-if alike."""
    sim = Sim(tmp_path, """\
        minCapacity: 1
        maxCapacity: 10
        scheduled:
          - {scheduledActionName: pulse, schedule: rate(2 hours), scalableTargetAction: {minCapacity: 3}}
        """)
    sim("tick", "5h")
    ticked = [a["time"] for a in sim.activities() if a["cause"] == "scheduled action name pulse was triggered"]
    series = tmp_path / "quiet.csv"
    series.write_text("timestamp,metric,value\n2026-01-01T00:00:00Z,Nothing,0\n")
    what_if = sim.json("scale", "simulate", "-f", sim.manifest, "--service", "web", "--metrics", series,
                       "--to", "2026-01-01T05:00:00Z")
    simulated = [p["time"] for p in what_if if p["reason"] == "scheduled action name pulse was triggered"]
    assert ticked == simulated == ["2026-01-01T02:00:00Z", "2026-01-01T04:00:00Z"]


def test_scale_simulate_and_tick_read_the_same_csv_the_same_way(tmp_path) -> None:
    """A row is the service's level until the next row of its metric (ECS publishes its service
    metrics every minute), for ``scale simulate --metrics`` and ``metrics put --file`` alike.
    CPU 60 against a step policy at threshold 50 (+10 % from 0 above it) keeps the alarm in
    ALARM; Auto Scaling actions repeat once a minute in ALARM, and the 60 s cooldown lets each
    one act.  PercentChangeInCapacity rounds a result above 1 down (the guide's 12.7 → 12) and
    one between 0 and 1 up to 1, so 10 → 11 → … → 20 → 22 …, up to maxCapacity 100."""
    sim = Sim(tmp_path, """\
        minCapacity: 1
        maxCapacity: 100
        stepScaling:
          - policyName: cpu-out
            adjustmentType: PercentChangeInCapacity
            cooldown: 60
            alarm: {metricName: CPUUtilization, threshold: 50, comparisonOperator: GreaterThanOrEqualToThreshold}
            stepAdjustments:
              - {metricIntervalLowerBound: 0, scalingAdjustment: 10}
        """, desired=10)
    series = tmp_path / "cpu.csv"
    series.write_text("timestamp,metric,value\n2026-01-01T00:00:00Z,CPUUtilization,60\n"
                      "2026-01-01T00:30:00Z,CPUUtilization,60\n")
    expected, count = [], 10
    while count < 100:
        count = min(100, count + max(1, count * 10 // 100))
        expected.append(count)
    simulated = [p["desiredCount"] for p in sim.json("scale", "simulate", "-f", sim.manifest, "--service", "web",
                                                     "--metrics", series)]
    sim("metrics", "put", "--service", "web", "--file", series)
    ticked = [a["desiredCount"] for a in sim.json("tick", "31m")["scaling"]]
    assert simulated == ticked == expected and len(expected) == 29


def test_a_state_applied_without_the_registration_gets_it_on_the_next_tick(tmp_path, monkeypatch) -> None:
    """A state whose last apply did not register the target (an older ecsctl) is registered
    by the next tick: the saved engine state's spec digest differs from the manifest's."""
    from ecsctl.backends.local import scaling

    sim = Sim(tmp_path, SCALE_OUT_TO_8)
    sim("metrics", "put", "--service", "web", "--metric", CPU, "--value", "100")
    sim("tick", "10m")
    sim.manifest.write_text(sim.manifest.read_text().replace("maxCapacity: 10", "maxCapacity: 3"))
    with monkeypatch.context() as patched:
        patched.setattr(scaling, "register_target", lambda *args: None)
        sim("apply", "-f", sim.manifest, "--auto-approve")
    assert sim.desired() == 8
    sim("tick", "1m")
    assert sim.desired() == 3
    assert sim.json("describe", "service", "web")["scaling"]["maxCapacity"] == 3


def test_a_failed_scheduled_action_says_so_on_tick(tmp_path) -> None:
    """A scheduled minimum above the target's maximum fails (DescribeScalingActivities:
    StatusCode Failed with its StatusMessage); tick's line and JSON say so (a helper's trial
    found the line read like a success)."""
    sim = Sim(tmp_path, """\
        minCapacity: 1
        maxCapacity: 5
        scheduled:
          - {scheduledActionName: floor, schedule: "cron(0 8 * * ? *)", scalableTargetAction: {minCapacity: 8}}
        """)
    ticked = sim.json("tick", "9h")["scaling"]
    assert [(a["statusCode"], a["statusMessage"]) for a in ticked] == [
        ("Failed", "Failed to set min capacity to 8: minimum capacity 8 would exceed maximum capacity 5")]
    sim.manifest.write_text(sim.manifest.read_text().replace("cron(0 8 * * ? *)", "cron(0 20 * * ? *)"))
    sim("apply", "-f", sim.manifest, "--auto-approve")
    line = [x for x in sim("tick", "12h").stdout.splitlines() if x.startswith("scaling ")]
    assert len(line) == 1 and line[0].endswith(
        "cause: scheduled action name floor was triggered  Failed: Failed to set min capacity to 8: "
        "minimum capacity 8 would exceed maximum capacity 5")
