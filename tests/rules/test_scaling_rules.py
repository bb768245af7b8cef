"""Auto scaling (E5xxx) and scheduled-task (E6xxx) rules on whole multi-document runs."""

from __future__ import annotations

import pytest

from ecsctl.core.rules import all_rules
from ecsctl.core.rules.scaling.auto_scaling import step_bound_issues
from test_service_rules import AWSVPC, DROP, WORLD, assert_case, mutate

MINE = ("E5", "E6", "W6")
ALARM = {"metricName": "BacklogPerTask", "threshold": 100, "comparisonOperator": "GreaterThanOrEqualToThreshold"}

SCALING = {
    "minCapacity": 2, "maxCapacity": 10,
    "targetTracking": [{"policyName": "cpu70", "targetValue": 70.0,
                        "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}}],
    "stepScaling": [{"policyName": "queue-depth", "adjustmentType": "ChangeInCapacity", "cooldown": 120, "alarm": ALARM,
                     "stepAdjustments": [{"metricIntervalLowerBound": 0, "metricIntervalUpperBound": 50, "scalingAdjustment": 1},
                                         {"metricIntervalLowerBound": 50, "scalingAdjustment": 3}]}],
    "scheduled": [{"scheduledActionName": "evening", "schedule": "cron(0 18 ? * MON-FRI *)", "timezone": "Europe/Paris",
                   "scalableTargetAction": {"minCapacity": 1, "maxCapacity": 4}}],
}

BASE = mutate(WORLD, "Service", "web", {"autoScaling": SCALING})
BASE = mutate(BASE, "ScheduledTask", "report", {
    "scheduleExpression": "rate(1 hour)",
    "target": {"cluster": "prod", "taskDefinition": "web", "taskCount": 1, "launchType": "FARGATE", "networkConfiguration": AWSVPC},
})
BASE = mutate(BASE, "TaskDefinition", "job", {
    "family": "job", "requiresCompatibilities": ["EC2"], "networkMode": "bridge",
    "containerDefinitions": [{"name": "job", "image": "busybox:1.36", "memory": 256},
                             {"name": "log", "image": "busybox:1.36", "memory": 64, "essential": False}],
})
BASE = mutate(BASE, "Queue", "orders", {
    "visibilityTimeout": 30,
    "arrivals": {"series": [{"at": "2026-01-01T08:00:00Z", "messagesPerMinute": 600},
                            {"at": "2026-01-01T10:00:00Z", "messagesPerMinute": 50}]},
    "consumers": [{"service": "bridge", "cluster": "prod", "messagesPerTaskPerMinute": 30}],
})
S3_TRANSFORMER = {
    "inputPathsMap": {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"},
    "inputTemplate": '{"containerOverrides": [{"name": "web", "environment": [{"name": "KEY", "value": <key>}]}]}',
}


def scaling(**changes):
    out = dict(SCALING)
    for key, value in changes.items():
        if value is DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return {"autoScaling": out}


def steps(*bounds, kind="ChangeInCapacity", **extra):
    adjustments = []
    for lo, hi, adj in bounds:
        step = {"scalingAdjustment": adj}
        if lo is not None:
            step["metricIntervalLowerBound"] = lo
        if hi is not None:
            step["metricIntervalUpperBound"] = hi
        adjustments.append(step)
    return scaling(stepScaling=[{"policyName": "s", "adjustmentType": kind, "stepAdjustments": adjustments, "alarm": ALARM, **extra}])


def tt(**fields):
    return scaling(targetTracking=[{"policyName": "t", "targetValue": 50, **fields}])


def sched(**fields):
    action = {"scheduledActionName": "a", "schedule": "rate(1 day)", "scalableTargetAction": {"minCapacity": 1}}
    action.update(fields)
    return scaling(scheduled=[action])


def task(**changes):
    return changes


def target(**changes):
    t = dict(BASE[("ScheduledTask", "report")]["target"])
    for key, value in changes.items():
        if value is DROP:
            t.pop(key, None)
        else:
            t[key] = value
    return {"target": t}


ALB = {"predefinedMetricType": "ALBRequestCountPerTarget"}

CASES = [
    # id, kind, name, changes, rule, fragment
    ("min-max-ok", "Service", "web", scaling(minCapacity=0, maxCapacity=0), None, None),
    ("min-gt-max", "Service", "web", scaling(minCapacity=5, maxCapacity=3), "E5001", "minCapacity 5 is greater than maxCapacity 3"),
    ("no-max", "Service", "web", scaling(maxCapacity=DROP), "E5001", "needs maxCapacity"),
    ("negative-min", "Service", "web", scaling(minCapacity=-1), "E5001", "must not be negative"),
    ("dup-policy", "Service", "web", scaling(stepScaling=[dict(SCALING["stepScaling"][0], policyName="cpu70")]), "E5002", "policyName 'cpu70' is used twice"),
    ("dup-action", "Service", "web", scaling(scheduled=SCALING["scheduled"] * 2), "E5002", "scheduledActionName 'evening' is used twice"),
    ("tt-none", "Service", "web", tt(), "E5003", "exactly one of"),
    ("tt-both", "Service", "web", tt(predefinedMetricSpecification={"predefinedMetricType": "ECSServiceAverageCPUUtilization"},
                                     customizedMetricSpecification={"metricName": "x"}), "E5003", "exactly one of"),
    ("tt-alb-label", "Service", "web", tt(predefinedMetricSpecification=ALB), "E5003", "needs a resourceLabel"),
    ("tt-alb-ok", "Service", "web", tt(predefinedMetricSpecification=dict(ALB, resourceLabel="app/web/1/targetgroup/web/2")), None, None),
    ("tt-bad-type", "Service", "web", tt(predefinedMetricSpecification={"predefinedMetricType": "CPU"}), "E5003", "predefinedMetricType"),
    ("tt-custom-ok", "Service", "web", tt(customizedMetricSpecification={"metricName": "Backlog", "namespace": "App", "statistic": "Average"}), None, None),
    ("steps-two-sided-ok", "Service", "web", steps((None, -10, -2), (-10, 0, -1), (0, 10, 1), (10, None, 2)), None, None),
    ("steps-gap", "Service", "web", steps((0, 50, 1), (60, None, 3)), "E5004", "gap between 50 and 60"),
    ("steps-overlap", "Service", "web", steps((0, 50, 1), (40, None, 3)), "E5004", "overlap"),
    ("steps-two-open-upper", "Service", "web", steps((0, None, 1), (50, None, 3)), "E5004", "only one step may have a null metricIntervalUpperBound"),
    ("steps-two-open-lower", "Service", "web", steps((None, 0, -1), (None, -5, -3)), "E5004", "only one step may have a null metricIntervalLowerBound"),
    ("steps-both-null", "Service", "web", steps((None, None, 1)), "E5004", "both metricIntervalLowerBound and metricIntervalUpperBound null"),
    ("steps-negative-lower", "Service", "web", steps((-10, 0, -1), (0, None, 1)), "E5004", "negative metricIntervalLowerBound needs"),
    ("steps-positive-upper", "Service", "web", steps((0, 10, 1)), "E5004", "positive metricIntervalUpperBound needs"),
    ("steps-inverted", "Service", "web", steps((10, 5, 1)), "E5004", "must be less than"),
    ("steps-empty", "Service", "web", steps(), "E5004", "at least one step adjustment"),
    ("magnitude-wrong-type", "Service", "web", steps((0, None, 1), minAdjustmentMagnitude=2), "E5004", "only valid with adjustmentType PercentChangeInCapacity"),
    ("magnitude-ok", "Service", "web", steps((0, None, 10), kind="PercentChangeInCapacity", minAdjustmentMagnitude=2), None, None),
    ("exact-negative", "Service", "web", steps((0, None, -1), kind="ExactCapacity"), "E5004", "cannot be negative"),
    ("bad-adjustment-type", "Service", "web", steps((0, None, 1), kind="Change"), "E5004", "adjustmentType must be one of"),
    ("sched-rate-ok", "Service", "web", sched(), None, None),
    ("sched-at-ok", "Service", "web", sched(schedule="at(2030-01-01T08:00:00)", timezone="Etc/GMT+9"), None, None),
    ("sched-bad-cron", "Service", "web", sched(schedule="cron(0 18 * * * *)"), "E5005", "exactly one of day-of-month"),
    ("sched-bad-rate", "Service", "web", sched(schedule="rate(1 days)"), "E5005", "singular unit 'day'"),
    ("sched-bad-tz", "Service", "web", sched(timezone="CEST"), "E5005", "not an IANA time zone"),
    ("sched-no-capacity", "Service", "web", sched(scalableTargetAction={}), "E5005", "needs minCapacity, maxCapacity or both"),
    ("sched-min-gt-max", "Service", "web", sched(scalableTargetAction={"minCapacity": 5, "maxCapacity": 2}), "E5005", "minCapacity 5 is greater than maxCapacity 2"),
    # the closed-loop demand (ecsctl's own field)
    ("demand-ok", "Service", "web", scaling(demand={"perTask": 50, "daily": {"min": 100, "max": 900, "peakAt": "14:00",
                                                                              "timezone": "Europe/Paris"}}), None, None),
    ("demand-daily-inverted", "Service", "web", scaling(demand={"perTask": 50, "daily": {"min": 900, "max": 100}}),
     "E5006", "daily min 900 is greater than max 100"),
    ("demand-tz", "Service", "web", scaling(demand={"perTask": 50, "daily": {"min": 1, "max": 2, "timezone": "Paris"}}),
     "E5006", "not an IANA time zone"),
    ("demand-series-time", "Service", "web", scaling(demand={"perTask": 5, "series": [{"time": "yesterday", "value": 3}]}),
     "E5006", "is not an ISO 8601 timestamp"),
    ("demand-memory", "Service", "web", scaling(demand={"perTask": 5, "constant": 3, "memory": {"idle": 80, "busy": 40}}),
     "E5006", "memory idle 80 % is above busy 40 %"),
    # scheduled tasks
    ("task-pattern-ok", "ScheduledTask", "report", task(scheduleExpression=DROP, eventPattern={
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["uploads"]}, "object": {"key": [{"prefix": "incoming/"}]}}}), None, None),
    ("task-both", "ScheduledTask", "report", task(eventPattern={"source": ["aws.s3"]}), "E6001", "not both"),
    ("task-neither", "ScheduledTask", "report", task(scheduleExpression=DROP), "E6001", "needs a scheduleExpression or an eventPattern"),
    ("task-rate-plural", "ScheduledTask", "report", task(scheduleExpression="rate(1 hours)"), "E6002",
     "rate(1 hours): use the singular unit 'hour' for a value of 1"),
    ("task-cron-7", "ScheduledTask", "report", task(scheduleExpression="cron(0 0 10 * * ? *)"), "E6002", "needs 6 fields"),
    ("task-cron-ok", "ScheduledTask", "report", task(scheduleExpression="cron(0 9 ? * 3#2 *)", scheduleExpressionTimezone="Europe/Paris"), None, None),
    ("task-tz", "ScheduledTask", "report", task(scheduleExpressionTimezone="Mars/Olympus"), "E6002", "not an IANA time zone"),
    # PutRule's RuleState has ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS; Scheduler's State does not
    ("task-state-cloudtrail", "ScheduledTask", "report", task(state="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"), None, None),
    ("task-state-cloudtrail-scheduler", "ScheduledTask", "report",
     task(state="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", scheduleExpressionTimezone="Europe/Paris"), "E6002",
     "EventBridge Scheduler, which runs at() and time-zoned schedules, takes ENABLED or DISABLED"),
    ("task-pattern-scalar", "ScheduledTask", "report", task(scheduleExpression=DROP, eventPattern={"source": "aws.s3"}), "E6003",
     "Event pattern is not valid: 'source' must be an object or an array"),
    ("task-pattern-nested", "ScheduledTask", "report", task(scheduleExpression=DROP, eventPattern={"source": ["aws.s3"], "detail": {"bucket": {"name": "b"}}}),
     "E6003", "'name' must be an object or an array"),
    ("task-pattern-empty-list", "ScheduledTask", "report", task(scheduleExpression=DROP, eventPattern={"source": []}), "E6003", "is empty"),
    ("task-td-missing", "ScheduledTask", "report", target(taskDefinition="nope"), "E6004", "task definition 'nope' is not among"),
    ("task-cluster-missing", "ScheduledTask", "report", target(cluster="staging"), "E6004", "cluster 'staging' is not among"),
    # PutTargets takes 11 (EcsParameters.TaskCount has no maximum); every RunTask then fails
    ("task-count", "ScheduledTask", "report", target(taskCount=11), "W6013", "every firing fails"),
    # EventBridge Scheduler (a time zone, or at()) refuses it: TaskCount 1-10
    ("task-count-scheduler", "ScheduledTask", "report", {**target(taskCount=11), "scheduleExpressionTimezone": "Europe/Paris"},
     "E6004", "between 1 and 10"),
    ("task-awsvpc", "ScheduledTask", "report", target(networkConfiguration=DROP), "E6004", "Network Configuration must be provided"),
    ("task-bridge-ok", "ScheduledTask", "report", target(taskDefinition="worker", launchType="EC2", networkConfiguration=DROP), None, None),
    # input transformer
    ("xform-ok", "ScheduledTask", "report", target(inputTransformer=S3_TRANSFORMER), None, None),
    ("xform-key", "ScheduledTask", "report", target(inputTransformer={"inputPathsMap": {"k": "$.a"}, "inputTemplate": "{<k>: 1}"}),
     "E6005", "cannot be used as an object key"),
    ("xform-bad-json", "ScheduledTask", "report", target(inputTransformer={"inputTemplate": '{"cpu": }'}), "E6005", "not valid JSON"),
    ("xform-text", "ScheduledTask", "report", target(inputTransformer={"inputTemplate": '"a text"'}), "W6006", "this template is text"),
    ("xform-path", "ScheduledTask", "report", target(inputTransformer={**S3_TRANSFORMER, "inputPathsMap": {"key": "detail.key"}}),
     "W6006", "not a JSON path"),
    ("xform-undefined", "ScheduledTask", "report", target(inputTransformer={"inputTemplate": '{"cpu": "<size>"}'}),
     "W6006", "<size> names no variable"),
    # the x-ecsctl batch extension
    ("td-ext-ok", "TaskDefinition", "job", {"x-ecsctl": {"runFor": "10m", "exitCode": 1, "container": "job"}}, None, None),
    ("td-ext-duration", "TaskDefinition", "job", {"x-ecsctl": {"runFor": "ten minutes"}}, "E6007", "is not a duration"),
    ("td-ext-container", "TaskDefinition", "job", {"x-ecsctl": {"runFor": "10m", "container": "log"}}, "E6007",
     "'log' is not an essential container"),
    ("target-ext-ok", "ScheduledTask", "report", target(**{"x-ecsctl": {"runFor": 300}}), None, None),
    ("target-ext-container", "ScheduledTask", "report", target(**{"x-ecsctl": {"runFor": 300, "container": "nope"}}), "E6007",
     "'nope' is not an essential container"),
    ("td-ext-on-service", "TaskDefinition", "web", {"x-ecsctl": {"runFor": "10m"}}, "W6008", "replaced by the service"),
    # queues
    ("queue-rate-ok", "Queue", "orders", {"arrivals": {"messagesPerMinute": 12.5}}, None, None),
    ("queue-consumer-missing", "Queue", "orders", {"consumers": [{"service": "wroker", "messagesPerTaskPerMinute": 30}]},
     "W6010", "service 'wroker' is not among"),
    ("queue-consumer-cluster", "Queue", "orders", {"consumers": [{"service": "bridge", "messagesPerTaskPerMinute": 30}]},
     "W6010", "runs in cluster 'prod', not 'default'"),
    ("queue-series-order", "Queue", "orders", {"arrivals": {"series": [{"at": "2026-01-01T10:00:00Z", "messagesPerMinute": 1},
                                                                     {"at": "2026-01-01T08:00:00Z", "messagesPerMinute": 2}]}},
     "E6011", "is not after the previous"),
    ("queue-series-time", "Queue", "orders", {"arrivals": {"series": [{"at": "eight o'clock", "messagesPerMinute": 1}]}},
     "E6011", "is not an ISO 8601 time"),
    ("queue-visibility", "Queue", "orders", {"consumers": [{"service": "bridge", "cluster": "prod", "messagesPerTaskPerMinute": 1}]},
     "W6012", "needs 60 s per message"),
]


@pytest.fixture(scope="module")
def validator():
    from ecsctl.app.validate import Validator

    return Validator()


def test_base_world_is_clean(validator, tmp_path):
    assert_case(validator, tmp_path, BASE, "Service", "web", None, None, prefixes=MINE)


@pytest.mark.parametrize("case, kind, name, changes, rule, fragment", CASES, ids=[c[0] for c in CASES])
def test_rule(validator, tmp_path, case, kind, name, changes, rule, fragment):
    assert_case(validator, tmp_path, mutate(BASE, kind, name, changes), kind, name, rule, fragment, prefixes=MINE)


# a scheduled task's target holds RunTask's launch settings: the service rules that ECS applies
# to them (E3006, E3007, E3010, E3019) hold it to the same
TARGET_CASES = [
    ("target-launch-and-strategy", target(capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}]),
     "E3006", "Specifying both a launch type and capacity provider strategy is not supported."),
    ("target-fargate-placement", target(placementConstraints=[{"type": "distinctInstance"}]),
     "E3010", "placementConstraints is not supported on Fargate"),
    ("target-strategy-mix", target(launchType=DROP, capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1},
                                                                              {"capacityProvider": "asg", "weight": 1}]),
     "E3019", "cannot contain a mix of capacity providers"),
    ("target-strategy-unassociated", target(launchType=DROP, cluster="prod2",
                                            capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}]),
     "E3019", "not associated with the cluster"),
    ("target-fargate-incompatible", target(taskDefinition="job", networkConfiguration=DROP),
     "E3007", "task definition 'job' is not compatible with FARGATE"),
    ("target-override-unknown", target(overrides={"containerOverrides": [{"name": "nope", "command": ["x"]}]}),
     "E6004", "Override for container named nope is not a container in the TaskDefinition."),
    ("target-public-ip-on-ec2", target(launchType="EC2", networkConfiguration={"awsvpcConfiguration": {
        "subnets": ["subnet-1"], "assignPublicIp": "ENABLED"}}), "E3021", "Assign public IP is not supported for this launch type"),
    ("target-bridge-with-network", target(taskDefinition="job", launchType="EC2"),
     "E3005", "Network Configuration is not valid for the given networkMode of this task definition ('bridge'"),
    # no launch type and no strategy: the cluster's default strategy decides (prod3's is Fargate)
    ("target-default-fargate-placement", target(launchType=DROP, cluster="prod3", placementStrategy=[{"type": "binpack", "field": "cpu"}]),
     "E3010", "placementStrategy is not supported on Fargate"),
    ("target-override-ok", target(overrides={"containerOverrides": [{"name": "web", "cpu": 128}]}), None, None),
    # EventBridge's EcsParameters.CapacityProviderStrategy: at most 6 (a service's: 20)
    ("target-strategy-seven", target(launchType=DROP, capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}] * 7),
     "E3019", "at most 6 providers"),
    # 256 CPU offers 512, 1024 and 2048 MiB (developer guide, "Task CPU and memory")
    ("target-override-fargate-size", target(overrides={"memory": "4096"}),
     "E6004", "No Fargate configuration exists for given values: 256 CPU, 4096 memory."),
    ("target-override-fargate-size-ok", target(overrides={"cpu": "1024", "memory": "4096"}), None, None),
    ("target-override-size-on-ec2", target(taskDefinition="job", launchType="EC2", networkConfiguration=DROP,
                                           overrides={"memory": "4096"}), None, None),
    ("target-strategy-ok", target(launchType=DROP, capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}]),
     None, None),
]


@pytest.mark.parametrize("case, changes, rule, fragment", TARGET_CASES, ids=[c[0] for c in TARGET_CASES])
def test_a_targets_launch_settings_are_held_to_runtasks_rules(validator, tmp_path, case, changes, rule, fragment):
    world = mutate(mutate(BASE, "ScheduledTask", "report", changes), "Cluster", "prod2", {"capacityProviders": ["asg"]})
    world = mutate(world, "Cluster", "prod3", {"capacityProviders": ["FARGATE"],
                                               "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}]})
    assert_case(validator, tmp_path, world, "ScheduledTask", "report", rule, fragment, prefixes=("E3", "E6"))


@pytest.mark.parametrize("bounds, expected", [
    ([(0, 50), (50, None)], []),
    ([(None, 0), (0, None)], []),
    ([(0, 50), (60, None)], [(1, "steps leave a gap between 50 and 60")]),
    ([(50, None), (0, 50)], []),                       # order of the list does not matter
    ([(0, 10)], [(0, "a positive metricIntervalUpperBound needs a step with a null upper bound")]),
])
def test_step_bound_issues(bounds, expected):
    items = [{k: v for k, v in (("metricIntervalLowerBound", lo), ("metricIntervalUpperBound", hi)) if v is not None} for lo, hi in bounds]
    assert list(step_bound_issues(items)) == expected


@pytest.mark.parametrize("rule_id", sorted(r for r in all_rules() if r.startswith(MINE)))
def test_every_rule_has_cases_and_explains_itself(rule_id):
    assert any(c[4] == rule_id for c in CASES)
    text = all_rules()[rule_id].explanation()
    assert "Bad" in text and "Good" in text
