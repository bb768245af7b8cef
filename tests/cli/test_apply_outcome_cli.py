"""apply's exit code and JSON after a change that is not a Service's: a Cluster with fewer
instances leaves a service short on the run that makes it so (DESIGN §8), and the last line
claims only what happened."""

from __future__ import annotations

import json

from ecsctl.cli.app import app

STACK = """\
apiVersion: ecsctl/v1
kind: Cluster
metadata: {name: prod}
spec:
  containerInstances: [{name: g, count: COUNT, instanceType: m5.large, availabilityZone: eu-west-1a}]
---
apiVersion: ecsctl/v1
kind: TaskDefinition
metadata: {name: api}
spec:
  requiresCompatibilities: [EC2]
  containerDefinitions: [{name: app, image: "nginx:1.27", cpu: 1024, memory: 1024}]
---
apiVersion: ecsctl/v1
kind: Service
metadata: {name: api}
spec: {cluster: prod, taskDefinition: TASKDEF, desiredCount: 4}
"""


def run(runner, *args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def write(path, count: int = 2, taskdef: str = "api") -> None:
    path.write_text(STACK.replace("COUNT", str(count)).replace("TASKDEF", taskdef))


def test_fewer_instances_leave_a_service_short_and_that_apply_exits_1(runner, tmp_path):
    m, state = tmp_path / "m", str(tmp_path / "s.db")
    m.mkdir()
    write(m / "s.yaml", count=2)  # an m5.large holds two of these tasks
    assert run(runner, "apply", "-f", str(m), "--state", state, "--auto-approve").exit_code == 0
    write(m / "s.yaml", count=1)
    result = run(runner, "apply", "-f", str(m), "--state", state, "--auto-approve", "-o", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["belowDesired"] == [{"service": "service/prod/api", "runningCount": 2, "desiredCount": 4,
                                         "provisioningCount": 0}]
    assert document["message"] == "Apply incomplete: service/prod/api runs 2 of its 4 desired tasks."
    # a saved plan of the same change is judged alike
    write(m / "s.yaml", count=2)
    assert run(runner, "apply", "-f", str(m), "--state", state, "--auto-approve").exit_code == 0
    write(m / "s.yaml", count=1)
    saved = str(tmp_path / "p.plan")
    assert run(runner, "plan", "-f", str(m), "--state", state, "--out", saved).exit_code == 0
    assert run(runner, "apply", saved, "--state", state, "--auto-approve").exit_code == 1


def test_destroy_claims_no_tasks_it_did_not_start(runner, tmp_path):
    m, state = tmp_path / "m", str(tmp_path / "s.db")
    m.mkdir()
    write(m / "s.yaml", count=1)
    assert run(runner, "apply", "-f", str(m), "--state", state, "--auto-approve").exit_code == 1  # 2 of 4
    result = run(runner, "destroy", "-f", str(m), "--state", state, "--auto-approve")
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-1] == \
        "Destroy complete! 3 step(s): 0 created, 0 updated, 0 replaced, 3 destroyed."


def test_a_revision_the_state_does_not_hold_is_named_at_its_field(runner, tmp_path):
    m, state = tmp_path / "m", str(tmp_path / "s.db")
    m.mkdir()
    write(m / "s.yaml", taskdef='"api:5"')
    for command in (["plan", "-f", str(m)], ["apply", "-f", str(m), "--auto-approve"]):
        result = run(runner, *command, "--state", state)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr == (f"error: {m / 's.yaml'}:17:23: spec.taskDefinition: service api: task definition "
                                 "api:5 is not registered\n")


def test_an_option_missing_its_value_names_the_commands_help(runner):
    result = runner.invoke(app, ["get", "services", "--state"])
    assert result.exit_code == 2
    assert result.stderr == "error: Option '--state' requires an argument. (see 'ecsctl get --help')\n"
