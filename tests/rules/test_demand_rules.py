"""Warnings about the closed-loop demand and one-sided scheduled actions (W5xxx)."""

from __future__ import annotations

import pytest

from test_scaling_rules import BASE, SCALING, scaling
from test_service_rules import assert_case, mutate

WARN = ("W5",)
CPU_TT = SCALING["targetTracking"][0]
MEM_TT = {"policyName": "mem", "targetValue": 70,
          "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageMemoryUtilization"}}
ALB_TT = {"policyName": "rps", "targetValue": 1000,
          "predefinedMetricSpecification": {"predefinedMetricType": "ALBRequestCountPerTarget",
                                            "resourceLabel": "app/web/1/targetgroup/web/2"}}
DEMAND = {"perTask": 50, "constant": 300}

CASES = [
    ("cpu-ok", scaling(demand=DEMAND, stepScaling=[]), None, None),
    ("memory-missing", scaling(demand=DEMAND, stepScaling=[], targetTracking=[CPU_TT, MEM_TT]), "W5007",
     "tracks ECSServiceAverageMemoryUtilization, which this demand does not produce (add demand.memory"),
    ("memory-ok", scaling(demand=dict(DEMAND, memory={"idle": 20, "busy": 60}), stepScaling=[], targetTracking=[MEM_TT]), None, None),
    ("alb-not-requests", scaling(demand=dict(DEMAND, unit="cpuSecondsPerSecond"), stepScaling=[], targetTracking=[ALB_TT]),
     "W5007", "needs unit: requestsPerSecond"),
    ("step-metric", scaling(demand=DEMAND), "W5007", "alarm metric 'BacklogPerTask' is not produced"),
    ("step-metric-custom-ok", scaling(demand=dict(DEMAND, customMetrics={"BacklogPerTask": "perTask"})), None, None),
    ("custom-tt", scaling(demand=DEMAND, stepScaling=[], targetTracking=[
        {"policyName": "q", "targetValue": 5, "customizedMetricSpecification": {"metricName": "Queue"}}]),
     "W5007", "tracks 'Queue', which is not in demand.customMetrics"),
    ("one-sided-min", scaling(scheduled=[{"scheduledActionName": "peak", "schedule": "cron(0 8 * * ? *)",
                                          "scalableTargetAction": {"minCapacity": 12}}]), "W5008",
     "minCapacity 12 is above the service's maxCapacity 10"),
    ("one-sided-max", scaling(scheduled=[{"scheduledActionName": "night", "schedule": "cron(0 8 * * ? *)",
                                          "scalableTargetAction": {"maxCapacity": 1}}]), "W5008",
     "maxCapacity 1 is below the service's minCapacity 2"),
    ("both-sides-ok", scaling(scheduled=[{"scheduledActionName": "peak", "schedule": "cron(0 8 * * ? *)",
                                          "scalableTargetAction": {"minCapacity": 12, "maxCapacity": 20}}]), None, None),
]


@pytest.fixture(scope="module")
def validator():
    from ecsctl.app.validate import Validator

    return Validator()


@pytest.mark.parametrize("case, changes, rule, fragment", CASES, ids=[c[0] for c in CASES])
def test_rule(validator, tmp_path, case, changes, rule, fragment):
    assert_case(validator, tmp_path, mutate(BASE, "Service", "web", changes), "Service", "web", rule, fragment, prefixes=WARN)


def test_demand_rules_explain_themselves_with_an_aws_url():
    from ecsctl.core.rules import all_rules

    for rule_id in ("E5006", "W5007", "W5008"):
        text = all_rules()[rule_id].explanation()
        assert "Bad" in text and "Good" in text and "https://docs.aws.amazon.com/" in text
