"""The example stack applied to moto through ``--backend aws``, read back with boto3, changed,
re-planned to zero changes; drift made behind ecsctl's back; throttling retried."""

from __future__ import annotations

import json

import pytest
import yaml

from ecsctl.cli.app import app

REGION = "eu-west-1"


def run(runner, *args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def aws_args(endpoint):
    return ["--backend", "aws", "--region", REGION, "--endpoint-url", endpoint]


@pytest.fixture
def state(tmp_path):
    return str(tmp_path / "state" / "state.db")


def apply(runner, stack, state, endpoint, *extra):
    result = run(runner, "apply", "-f", str(stack), "--state", state, "--auto-approve", *aws_args(endpoint), *extra)
    assert result.exit_code == 0, result.output
    return result


def plan_json(runner, stack, state, endpoint):
    result = run(runner, "plan", "-f", str(stack), "--state", state, "-o", "json", *aws_args(endpoint))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_apply_read_back_change_and_replan(runner, aws_env, aws_stack, clients, state):
    first = run(runner, "plan", "-f", str(aws_stack), "--state", state, "--detailed-exitcode", *aws_args(aws_env))
    documents = sum(len([d for d in yaml.safe_load_all(p.read_text()) if d]) for p in aws_stack.glob("*.yaml"))
    assert first.exit_code == 2 and f"{documents} to create" in first.stdout, first.output  # every document of manifests/
    apply(runner, aws_stack, state, aws_env)

    ecs = clients("ecs")
    cluster = ecs.describe_clusters(clusters=["prod"], include=["SETTINGS"])["clusters"][0]
    assert cluster["status"] == "ACTIVE" and cluster["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    services = {s["serviceName"]: s for s in ecs.describe_services(cluster="prod", services=["web", "worker"])["services"]}
    assert {n: (s["desiredCount"], s["launchType"], s["taskDefinition"].rsplit("/", 1)[1]) for n, s in services.items()} == {
        "web": (3, "FARGATE", "web:1"), "worker": (6, "EC2", "worker:1")}
    assert services["web"]["loadBalancers"][0]["containerPort"] == 8080
    assert len(services["web"]["networkConfiguration"]["awsvpcConfiguration"]["subnets"]) == 3
    web = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
    assert web["cpu"] == "512" and web["containerDefinitions"][0]["image"].endswith("/web:1.4.2")
    assert {s["name"] for s in web["containerDefinitions"][0]["secrets"]} == {"DB_HOST", "PAYMENTS_API_KEY", "DB_USERNAME", "DB_PASSWORD"}

    aas = clients("application-autoscaling")
    targets = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert {(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets} == {
        ("service/prod/web", 3, 12), ("service/prod/worker", 3, 18)}
    policies = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId="service/prod/web")["ScalingPolicies"]
    assert {(p["PolicyName"], p["PolicyType"]) for p in policies} == {("web-cpu60", "TargetTrackingScaling"), ("web-latency", "StepScaling")}
    actions = aas.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId="service/prod/web")["ScheduledActions"]
    assert {(a["ScheduledActionName"], a["Schedule"], a["Timezone"]) for a in actions} == {
        ("business-hours", "cron(0 8 ? * MON-FRI *)", "Europe/Paris"), ("after-hours", "cron(0 20 ? * MON-FRI *)", "Europe/Paris")}
    alarms = clients("cloudwatch").describe_alarms(AlarmNames=["prod-web-web-latency"])["MetricAlarms"]
    assert alarms and alarms[0]["MetricName"] == "TargetResponseTime" and alarms[0]["AlarmActions"]

    events = clients("events")
    rule = events.describe_rule(Name="ingest-on-upload")
    assert json.loads(rule["EventPattern"])["source"] == ["aws.s3"]
    target = events.list_targets_by_rule(Rule="ingest-on-upload")["Targets"][0]
    assert target["Arn"].endswith(":cluster/prod") and target["RoleArn"].endswith(":role/ecsEventsRole")
    assert target["EcsParameters"]["TaskDefinitionArn"].endswith(":task-definition/ingest")
    assert target["EcsParameters"]["LaunchType"] == "FARGATE"
    schedule = clients("scheduler").get_schedule(Name="nightly-report")  # a time zone: EventBridge Scheduler
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)" and schedule["ScheduleExpressionTimezone"] == "Europe/Paris"

    again = run(runner, "plan", "-f", str(aws_stack), "--state", state, "--detailed-exitcode", *aws_args(aws_env))
    assert again.exit_code == 0, again.output
    assert "No changes" in again.stdout

    # change the stack: a new image (a new revision, a new deployment) and one more task
    web_yaml = aws_stack / "web.yaml"
    text = web_yaml.read_text()
    web_yaml.write_text(text.replace("/web:1.4.2", "/web:1.4.3").replace("desiredCount: 3", "desiredCount: 4"))
    changed = plan_json(runner, aws_stack, state, aws_env)
    assert {(c["address"], c["action"]) for c in changed["changes"] if c["action"] != "no-op"} == {
        ("taskdef/web", "update"), ("service/prod/web", "update")}
    apply(runner, aws_stack, state, aws_env)
    web = ecs.describe_services(cluster="prod", services=["web"])["services"][0]
    assert web["desiredCount"] == 4 and web["taskDefinition"].endswith("/web:2")
    assert ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]["containerDefinitions"][0]["image"].endswith(":1.4.3")
    final = run(runner, "plan", "-f", str(aws_stack), "--state", state, "--detailed-exitcode", *aws_args(aws_env))
    assert final.exit_code == 0, final.output

    # re-applying an unchanged stack registers no task definition revision
    apply(runner, aws_stack, state, aws_env)
    arns = ecs.list_task_definitions(familyPrefix="web")["taskDefinitionArns"]
    assert [a.rsplit(":", 1)[1] for a in arns] == ["1", "2"]


def test_drift_made_behind_ecsctls_back_is_reported_apart(runner, aws_env, aws_stack, clients, state):
    apply(runner, aws_stack, state, aws_env)
    ecs = clients("ecs")
    ecs.update_service(cluster="prod", service="worker", desiredCount=9)
    ecs.update_service(cluster="prod", service="web", placementConstraints=[{"type": "distinctInstance"}])
    clients("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/prod/worker", ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=2, MaxCapacity=18)
    described = ecs.describe_task_definition(taskDefinition="report")["taskDefinition"]
    ecs.register_task_definition(family="report", containerDefinitions=described["containerDefinitions"],
                                 requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="2048", memory="4096",
                                 executionRoleArn=described["executionRoleArn"])
    clients("events").put_rule(Name="ingest-on-upload", EventPattern=json.dumps({"source": ["aws.s3"]}), State="DISABLED")

    plan = plan_json(runner, aws_stack, state, aws_env)
    # drift is not a change, but for a revision registered outside ecsctl: a family name resolves
    # to it, so the manifests' spec registers again (the plan compares with the latest ACTIVE one)
    assert {c["address"]: c["action"] for c in plan["changes"] if c["action"] != "no-op"} == {"taskdef/report": "update"}
    drift = {(d["address"], d["field"]): (d["expected"], d["actual"]) for d in plan["drift"]}
    assert drift[("service/prod/worker", "desiredCount")] == (6, 9)
    assert drift[("service/prod/worker", "autoScaling.minCapacity")] == (3, 2)
    assert ("service/prod/web", "placementConstraints") in drift
    assert drift[("taskdef/report", "cpu")] == ("1024", "2048")
    assert drift[("scheduledtask/ingest-on-upload", "state")] == ("ENABLED", "DISABLED")
    text = run(runner, "plan", "-f", str(aws_stack), "--state", state, *aws_args(aws_env)).stdout
    assert "Drift" in text and "service/prod/worker desiredCount: 6 -> 9" in text

    ecs.delete_service(cluster="prod", service="worker", force=True)
    plan = plan_json(runner, aws_stack, state, aws_env)
    assert ("service/prod/worker", "status") in {(d["address"], d["field"]) for d in plan["drift"]}
    # a service deleted in AWS that the manifests still declare is created again, as Terraform
    # plans a resource its refresh found gone: a change, not only a drift line
    changes = {c["address"]: c for c in plan["changes"] if c["action"] != "no-op"}
    assert changes["service/prod/worker"]["action"] == "create"
    assert changes["service/prod/worker"]["reason"] == "deleted in AWS since the last apply: created again"
    detailed = run(runner, "plan", "-f", str(aws_stack), "--state", state, "--detailed-exitcode", *aws_args(aws_env))
    assert detailed.exit_code == 2
    apply(runner, aws_stack, state, aws_env)
    (worker,) = ecs.describe_services(cluster="prod", services=["worker"])["services"]
    assert worker["status"] == "ACTIVE"
    assert "service/prod/worker" not in {c["address"] for c in plan_json(runner, aws_stack, state, aws_env)["changes"]
                                          if c["action"] != "no-op"}


def test_resource_in_aws_but_not_in_state_needs_adopt(runner, aws_env, aws_stack, clients, state, tmp_path):
    apply(runner, aws_stack, state, aws_env)
    other = str(tmp_path / "other" / "state.db")  # a second, empty state: everything exists in AWS already
    refused = run(runner, "plan", "-f", str(aws_stack), "--state", other, *aws_args(aws_env))
    assert refused.exit_code == 1
    assert "already exist(s) in AWS but not in the state" in refused.stderr and "--adopt" in refused.stderr
    assert "service/prod/web" in refused.stderr and "Traceback" not in refused.output
    adopted = run(runner, "apply", "-f", str(aws_stack), "--state", other, "--auto-approve", "--adopt", *aws_args(aws_env))
    assert adopted.exit_code == 0, adopted.output
    assert len(clients("ecs").list_task_definitions(familyPrefix="web")["taskDefinitionArns"]) == 1  # nothing re-registered
    after = run(runner, "plan", "-f", str(aws_stack), "--state", other, "--detailed-exitcode", *aws_args(aws_env))
    assert after.exit_code == 0, after.output


def test_throttling_is_retried(runner, aws_env, aws_stack, clients, state, monkeypatch):
    """A proxy answers ThrottlingException to the first calls of three operations; botocore's
    standard retry mode retries them (its backoff made zero so the test does not sleep)."""
    from botocore.retries import standard

    from conftest import Throttler

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    wanted = {"CreateService": 2, "RegisterTaskDefinition": 3, "PutScalingPolicy": 1}
    with Throttler(aws_env, wanted) as proxy:
        result = run(runner, "apply", "-f", str(aws_stack), "--state", state, "--auto-approve",
                     "--backend", "aws", "--region", REGION, "--endpoint-url", proxy.url)
    assert result.exit_code == 0, result.output
    assert proxy.throttled == wanted
    assert proxy.forwarded["CreateService"] == 2 and proxy.forwarded["RegisterTaskDefinition"] == 4
    assert {s["serviceName"] for s in clients("ecs").describe_services(cluster="prod", services=["web", "worker"])["services"]} == {"web", "worker"}


def test_throttling_that_outlasts_the_retries_is_one_line(runner, aws_env, aws_stack, state, monkeypatch):
    from botocore.retries import standard

    from conftest import Throttler

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    with Throttler(aws_env, {"CreateCluster": 100}) as proxy:
        result = run(runner, "apply", "-f", str(aws_stack), "--state", state, "--auto-approve",
                     "--backend", "aws", "--region", REGION, "--endpoint-url", proxy.url)
    assert result.exit_code == 1
    assert "failed: create cluster/prod: cluster/prod: AWS kept throttling ecs:CreateCluster after 8 attempts" in result.stdout
    assert "not done: create service/prod/web (waits for create cluster/prod)" in result.stdout
    assert "done: create taskdef/web (registered web:1)" in result.stdout
    assert proxy.throttled["CreateCluster"] == 8


def test_access_denied_names_the_action(runner, aws_env, aws_stack, state):
    from conftest import Throttler

    denied = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecs:CreateService"
    with Throttler(aws_env, {"CreateService": 100}, error="AccessDeniedException", message=denied) as proxy:
        result = run(runner, "apply", "-f", str(aws_stack), "--state", state, "--auto-approve",
                     "--backend", "aws", "--region", REGION, "--endpoint-url", proxy.url)
    assert result.exit_code == 1
    assert ("failed: create service/prod/web: service/prod/web: access denied: the credentials may not call "
            "ecs:CreateService") in result.stdout
    assert "Traceback" not in result.output


def test_missing_credentials_is_one_line(runner, aws_env, aws_stack, state, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = run(runner, "plan", "-f", str(aws_stack), "--state", state, *aws_args(aws_env))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no AWS credentials found") and len(result.stderr.splitlines()) == 1


def test_missing_region_and_wait_without_aws_are_usage_errors(runner, aws_stack, state, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    result = run(runner, "plan", "-f", str(aws_stack), "--state", state, "--backend", "aws")
    assert result.exit_code == 2 and "no AWS region" in result.stderr
    waited = run(runner, "apply", "-f", str(aws_stack), "--state", state, "--auto-approve", "--wait")
    assert waited.exit_code == 2 and "--wait follows deployments on real ECS" in waited.stderr


def test_import_of_a_tagged_task_definition_writes_its_tags_as_the_manifest_field(runner, aws_env, aws_stack, clients,
                                                                                   state, tmp_path):
    """DescribeTaskDefinition gives the tags beside the definition (include=TAGS): the manifest
    says them as ``tags`` and nothing else (a helper's trial found an ``_tags`` key, which E1003 refused)."""
    apply(runner, aws_stack, state, aws_env)
    ecs = clients("ecs")
    arn = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]["taskDefinitionArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "web"}])
    out, other = tmp_path / "imported", str(tmp_path / "imported-state.db")
    imported = run(runner, "import", "--cluster", "prod", "--out", str(out), "--state", other, *aws_args(aws_env))
    assert imported.exit_code == 0, imported.output
    text = (out / "taskdef-web.yaml").read_text()
    assert "_tags" not in text and "team" in text
    checked = run(runner, "validate", str(out))
    assert checked.exit_code == 0, checked.output


def test_get_and_import_from_live(runner, aws_env, aws_stack, state, tmp_path):
    apply(runner, aws_stack, state, aws_env)
    listed = run(runner, "get", "services", "-o", "json", *aws_args(aws_env))
    assert listed.exit_code == 0, listed.output
    assert {(s["name"], s["cluster"], s["taskDefinition"], s["desiredCount"]) for s in json.loads(listed.stdout)} == {
        ("web", "prod", "web:1", 3), ("worker", "prod", "worker:1", 6)}
    # names, addresses and statuses as the local get takes them (a helper's trial: "No resources found", exit 0)
    one = run(runner, "get", "service/prod/web", "-o", "json", *aws_args(aws_env))
    assert [s["name"] for s in json.loads(one.stdout)] == ["web"], one.output
    missing = run(runner, "get", "services", "webb", *aws_args(aws_env))
    assert missing.exit_code == 1 and missing.stderr.startswith('error: service "webb" not found')
    bogus = run(runner, "get", "services", "--status", "BOGUS", *aws_args(aws_env))
    assert bogus.exit_code == 2 and "BOGUS" in bogus.stderr
    # the AWS state read as if it were a simulation held nothing: "No resources found", exit 0
    for args in (["get", "services"], ["describe", "service", "prod/web"]):
        local = run(runner, *args, "--state", state)
        assert local.exit_code == 2 and local.stderr.strip().endswith(
            "holds what ecsctl applied to real ECS: its services are read live, with `ecsctl get services --backend aws`")
    events = run(runner, "get", "events", "--state", state)  # a kind no live get lists: no hint that fails
    assert events.exit_code == 2 and "keeps no events of the simulation" in events.stderr
    out, other = tmp_path / "imported", str(tmp_path / "imported-state.db")
    imported = run(runner, "import", "--cluster", "prod", "--out", str(out), "--state", other, *aws_args(aws_env))
    assert imported.exit_code == 0, imported.output
    assert sorted(p.name for p in out.iterdir()) == ["service-prod-web.yaml", "service-prod-worker.yaml",
                                                     "taskdef-web.yaml", "taskdef-worker.yaml"]
    assert "taskDefinition: web\n" in (out / "service-prod-web.yaml").read_text()  # follows the family
    plan = run(runner, "plan", "-f", str(out), "--state", other, "--detailed-exitcode", *aws_args(aws_env))
    assert plan.exit_code == 0, plan.output


def test_a_plain_text_secret_is_compared_by_its_digest_and_never_printed(runner, aws_env, aws_stack, clients, state):
    """AWS returns a task definition's environment in plain text; the state keeps a digest of a
    value that looks secret. The plan compares digests: an unchanged secret plans nothing, a
    changed one is drift shown as (sensitive), and the value is in no output or plan file."""
    web = aws_stack / "web.yaml"
    web.write_text(web.read_text().replace("        - {name: APP_ENV, value: production}",
                                           "        - {name: APP_ENV, value: production}\n"
                                           "        - {name: LEGACY_API_TOKEN, value: hunter2-in-plain-text}"))
    apply(runner, aws_stack, state, aws_env)
    detailed = run(runner, "plan", "-f", str(aws_stack), "--state", state, "--detailed-exitcode", *aws_args(aws_env))
    assert detailed.exit_code == 0, detailed.output
    ecs = clients("ecs")
    described = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
    for c in described["containerDefinitions"]:
        for e in c.get("environment", []):
            if e["name"] == "LEGACY_API_TOKEN":
                e["value"] = "changed-behind-ecsctls-back"
    ecs.register_task_definition(**{k: described[k] for k in ("family", "containerDefinitions", "requiresCompatibilities",
                                                              "networkMode", "cpu", "memory", "executionRoleArn",
                                                              "taskRoleArn") if k in described})
    text = run(runner, "plan", "-f", str(aws_stack), "--state", state, "--out", str(aws_stack.parent / "p.plan"),
               *aws_args(aws_env)).stdout
    document = run(runner, "plan", "-f", str(aws_stack), "--state", state, "-o", "json", *aws_args(aws_env)).stdout
    drift = {(d["address"], d["field"]): d for d in json.loads(document)["drift"]}
    assert ("taskdef/web", "containerDefinitions[web].environment[LEGACY_API_TOKEN].value") in drift
    for output in (text, document, (aws_stack.parent / "p.plan").read_text()):
        assert "hunter2-in-plain-text" not in output and "changed-behind-ecsctls-back" not in output


def test_a_revision_registered_outside_ecsctl_is_replaced_by_the_manifests_not_deployed(runner, aws_env, aws_stack,
                                                                                      clients, state):
    """A service that names its family runs the family's latest ACTIVE revision. One registered
    outside ecsctl (another image) is what the manifests compare with: the plan registers the
    manifests' spec again and deploys that, and the plan after apply is empty (a helper's trial:
    apply put the service on the foreign revision and the next plan said "No changes")."""
    apply(runner, aws_stack, state, aws_env)
    ecs = clients("ecs")
    described = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
    foreign = [{**c, "image": "attacker/miner:latest"} for c in described["containerDefinitions"]]
    ecs.register_task_definition(**{**{k: described[k] for k in ("family", "requiresCompatibilities", "networkMode", "cpu",
                                                                 "memory", "executionRoleArn", "taskRoleArn") if k in described},
                                    "containerDefinitions": foreign})
    plan = plan_json(runner, aws_stack, state, aws_env)
    changes = {c["address"]: c for c in plan["changes"] if c["action"] != "no-op"}
    assert changes["taskdef/web"]["action"] == "update"
    assert changes["service/prod/web"]["reason"] == "task definition web registers revision 3: a new deployment"
    apply(runner, aws_stack, state, aws_env)
    running = ecs.describe_services(cluster="prod", services=["web"])["services"][0]["taskDefinition"]
    assert running.endswith(":3")
    images = {c["image"] for c in ecs.describe_task_definition(taskDefinition=running)["taskDefinition"]["containerDefinitions"]}
    assert "attacker/miner:latest" not in images
    again = run(runner, "plan", "-f", str(aws_stack), "--state", state, "--detailed-exitcode", *aws_args(aws_env))
    assert again.exit_code == 0, again.output


def test_apply_json_is_one_document_that_tells_the_outcome(runner, aws_env, aws_stack, state):
    """README: apply -o json prints exactly one document, as the local apply does."""
    result = run(runner, "apply", "-f", str(aws_stack), "--state", state, "--auto-approve", "-o", "json",
                 *aws_args(aws_env))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # one document, nothing after it
    assert document["ok"] is True and document["message"].startswith("Apply complete! ")
    assert document["problems"] == [] and document["plan"]["summary"]["create"] > 0
    assert {r["result"] for r in document["results"]} == {"applied"}
    assert len(document["results"]) == len(document["plan"]["steps"])
    again = json.loads(run(runner, "apply", "-f", str(aws_stack), "--state", state, "--auto-approve", "-o", "json",
                           *aws_args(aws_env)).stdout)
    assert (again["ok"], again["message"], again["results"]) == (True, "No changes.", [])


def test_x_ecsctl_is_the_simulations_alone_and_plans_no_drift_on_aws(runner, aws_env, aws_stack, clients, state):
    """A task definition's x-ecsctl (runFor, exitCode: the simulation's batch settings) has no ECS
    field: it is not sent, not recorded for AWS, and so neither re-registers nor shows as drift."""
    assert "x-ecsctl" in (aws_stack / "batch.yaml").read_text()  # report (runFor 12m), ingest-on-upload
    apply(runner, aws_stack, state, aws_env)
    plan = plan_json(runner, aws_stack, state, aws_env)
    assert not [c for c in plan["changes"] if c["action"] != "no-op"]
    assert not [d for d in plan["drift"] if "x-ecsctl" in d["field"]], plan["drift"]
    revisions = clients("ecs").list_task_definitions(familyPrefix="report")["taskDefinitionArns"]
    assert [arn.rsplit(":", 1)[-1] for arn in revisions] == ["1"]


def test_a_state_remembers_its_backend_and_refuses_the_other(runner, aws_env, aws_stack, state, tmp_path):
    """An AWS state planned or applied without --backend aws would create the whole stack in the
    simulation, into that state; a saved plan's hint names the flag it needs."""
    apply(runner, aws_stack, state, aws_env)
    web = aws_stack / "worker.yaml"
    web.write_text(web.read_text().replace("desiredCount: 6", "desiredCount: 7"))
    saved = str(tmp_path / "p.plan")
    made = run(runner, "plan", "-f", str(aws_stack), "--state", state, "--out", saved, *aws_args(aws_env))
    assert made.exit_code == 0 and f"apply it with: ecsctl apply {saved} --state {state} --backend aws" in made.stderr
    said = f"error: {state} holds what ecsctl applied to real ECS (--backend aws): pass --backend aws (and --region), " \
           "or use another --state for the simulation\n"
    for args in (["plan", "-f", str(aws_stack)], ["apply", "-f", str(aws_stack), "--auto-approve"]):
        refused = run(runner, *args, "--state", state)
        assert (refused.exit_code, refused.stderr) == (2, said)
    refused = run(runner, "apply", saved, "--state", state, "--auto-approve")
    assert refused.exit_code == 2
    assert refused.stderr == f"error: {saved} was planned against real ECS: apply it with --backend aws (and --region)\n"
    assert run(runner, "apply", saved, "--state", state, "--auto-approve", *aws_args(aws_env)).exit_code == 0
    # the simulation's own commands would advance a simulation that is not there, into the AWS state
    for args in (["tick", "5m"], ["run-task", "--cluster", "prod", "--task-definition", "report"],
                 ["stop-task", "x"], ["instances", "drain", "x"], ["rollout", "undo", "web", "--cluster", "prod"],
                 ["events", "put", "--source", "a", "--detail-type", "b", "--detail", "{}"],
                 ["metrics", "put", "--service", "web", "--cluster", "prod", "--metric", "CPUUtilization",
                  "--value", "5"]):
        refused = run(runner, *args, "--state", state)
        command = " ".join(args[:2] if args[0] in ("instances", "rollout", "events", "metrics") else args[:1])
        assert (refused.exit_code, refused.stderr) == (
            2, f"error: {state} holds what ecsctl applied to real ECS (--backend aws); {command} acts on the "
               "local simulation only (use another --state for it)\n"), args

    local = str(tmp_path / "local.db")
    assert run(runner, "apply", "-f", str(aws_stack), "--state", local, "--auto-approve").exit_code in (0, 1)
    refused = run(runner, "plan", "-f", str(aws_stack), "--state", local, *aws_args(aws_env))
    assert refused.exit_code == 2
    assert refused.stderr == (f"error: {local} is the local simulation's state: --backend aws needs a state of its own "
                              "(--state FILE or s3://…), not this one\n")


def test_get_taskdefs_lists_every_registered_revision(runner, aws_env, aws_stack, clients, state):
    """As ListTaskDefinitions: revisions no service runs (an older one, a family of its own) too."""
    apply(runner, aws_stack, state, aws_env)
    ecs = clients("ecs")
    ecs.register_task_definition(family="one-off", containerDefinitions=[{"name": "x", "image": "busybox", "memory": 64}])
    listed = run(runner, "get", "taskdefs", "--state", state, "-o", "json", *aws_args(aws_env))
    assert listed.exit_code == 0, listed.output
    rows = {(r["family"], r["revision"]) for r in json.loads(listed.stdout)}
    registered = {tuple(arn.rsplit("/", 1)[-1].rsplit(":", 1)) for arn in
                  ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]}
    assert rows == {(family, int(revision)) for family, revision in registered} and ("one-off", 1) in rows


def test_ecr_repositories_of_aws_are_not_the_simulations(runner, aws_env, aws_stack, state):
    """In the simulation an ECR image no Repository manifest holds fails to pull (DESIGN §3); a
    plan against live AWS, whose repositories live outside the manifests, forecasts no such failure."""
    import yaml as _yaml

    catalogue = aws_stack / "catalogue.yaml"
    docs = [d for d in _yaml.safe_load_all(catalogue.read_text()) if d and d.get("kind") != "Repository"]
    catalogue.write_text(_yaml.safe_dump_all(docs, sort_keys=False))
    plan = plan_json(runner, aws_stack, state, aws_env)
    failing = [p for p in plan["placement"] if p.get("failing")]
    assert failing == [], failing
    assert all(d["outcome"] != "failed" for d in plan["deployments"])


def test_destroy_and_plan_destroy_are_the_simulations(runner, aws_env, aws_stack, state):
    """destroy deletes in the simulation only: on an AWS state it is refused (it would forget what
    AWS holds); plan --destroy --backend aws likewise, pointing at the way that works."""
    apply(runner, aws_stack, state, aws_env)
    refused = run(runner, "destroy", "-f", str(aws_stack), "--state", state, "--auto-approve")
    assert refused.exit_code == 2 and "holds what ecsctl applied to real ECS" in refused.stderr
    refused = run(runner, "plan", "--destroy", "-f", str(aws_stack), "--state", state, *aws_args(aws_env))
    assert refused.exit_code == 2 and refused.stderr.startswith("error: --destroy plans deletions in the simulation")
    assert not [c for c in plan_json(runner, aws_stack, state, aws_env)["changes"] if c["action"] != "no-op"]


def test_a_family_deregistered_in_aws_registers_its_next_number(runner, aws_env, aws_stack, clients, state):
    """Every revision of a family deregistered behind ecsctl's back: the plan registers it again
    under the next number, as ECS will, not as its first revision."""
    apply(runner, aws_stack, state, aws_env)
    ecs = clients("ecs")
    for arn in ecs.list_task_definitions(familyPrefix="report", status="ACTIVE")["taskDefinitionArns"]:
        ecs.deregister_task_definition(taskDefinition=arn)
    plan = plan_json(runner, aws_stack, state, aws_env)
    (change,) = [c for c in plan["changes"] if c["address"] == "taskdef/report"]
    assert (change["action"], change["reason"]) == (
        "create", "deleted in AWS since the last apply: created again, as report:2; its revisions up to 1 were deregistered")
    apply(runner, aws_stack, state, aws_env)
    assert ecs.describe_task_definition(taskDefinition="report")["taskDefinition"]["revision"] == 2
    assert "taskdef/report" not in {c["address"] for c in plan_json(runner, aws_stack, state, aws_env)["changes"]
                                    if c["action"] != "no-op"}


def test_the_next_revision_follows_deregistered_newer_ones_and_pinned_targets_are_read(
        runner, aws_env, aws_stack, clients, state):
    """A family whose newest revision was deregistered (a rollback by hand) registers the number
    after it, as ECS does; a scheduled task pinned to an older ACTIVE revision is read, so the
    plan does not call it unregistered."""
    apply(runner, aws_stack, state, aws_env)
    ecs = clients("ecs")
    described = ecs.describe_task_definition(taskDefinition="worker")["taskDefinition"]
    keep = {k: described[k] for k in ("containerDefinitions", "family", "networkMode", "requiresCompatibilities")
            if k in described}
    second = ecs.register_task_definition(**keep)["taskDefinition"]
    ecs.deregister_task_definition(taskDefinition=second["taskDefinitionArn"])
    assert second["revision"] == 2
    # a family name resolves to the latest ACTIVE revision, not the newest deregistered one
    unchanged = plan_json(runner, aws_stack, state, aws_env)
    assert "service/prod/worker" not in {c["address"] for c in unchanged["changes"] if c["action"] != "no-op"}
    worker = aws_stack / "worker.yaml"
    text = worker.read_text()
    image = next(line for line in text.splitlines() if "image:" in line)
    worker.write_text(text.replace(image, image.rstrip() + "-2", 1))
    batch = aws_stack / "batch.yaml"
    batch.write_text(batch.read_text().replace("taskDefinition: report\n", "taskDefinition: report:1\n", 1))
    plan = plan_json(runner, aws_stack, state, aws_env)
    (svc,) = [c for c in plan["changes"] if c["address"] == "service/prod/worker"]
    assert svc["reason"] == "task definition worker registers revision 3: a new deployment"
    assert [f["after"] for f in svc["fields"] if f["path"] == "/taskDefinition"] == ["worker:3"]
    assert not [p for p in plan["placement"] if p["address"] == "scheduledtask/nightly-report"]
    apply(runner, aws_stack, state, aws_env)
    (live,) = ecs.describe_services(cluster="prod", services=["worker"])["services"]
    assert live["taskDefinition"].endswith("task-definition/worker:3")


def test_what_apply_only_checks_is_planned_as_a_check_and_a_missing_one_is_said_at_plan_time(runner, aws_env, aws_stack,
                                                                                            state):
    """Parameters, secrets, environment files, repositories, target groups, queues and security
    groups are only checked on AWS: the plan says so (not "will be created"), names one that
    does not exist before apply fails on it, and apply counts the checks apart (a helper's trial)."""
    (aws_stack / "extra.yaml").write_text("apiVersion: ecsctl/v1\nkind: Secret\nmetadata: {name: demo/db}\n"
                                          "spec: {keys: [password]}\n")
    text = run(runner, "plan", "-f", str(aws_stack), "--state", state, *aws_args(aws_env)).stdout
    assert ('# secret/"demo/db" will be checked to exist in AWS (ecsctl never creates it) '
            "(it does not exist in AWS: apply fails here; create it first)") in text
    assert '# secret/"prod/web/db" will be checked to exist in AWS (ecsctl never creates it) (not in the state yet)' in text
    (aws_stack / "extra.yaml").unlink()
    result = run(runner, "apply", "-f", str(aws_stack), "--state", state, "--auto-approve", *aws_args(aws_env))
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    plan = plan_json(runner, aws_stack, state, aws_env)
    checked = sum(1 for c in plan["changes"] if c["kind"] in ("Parameter", "Secret", "EnvironmentFile", "Repository",
                                                               "TargetGroup", "Queue", "SecurityGroup"))
    assert last.startswith("Apply complete! ") and last.endswith(f", {checked} checked."), last


def test_a_stale_aws_plans_hint_makes_it_again_on_aws(runner, aws_env, aws_stack, state):
    saved = str(aws_stack.parent / "p1.plan")
    made = run(runner, "plan", "-f", str(aws_stack), "--state", state, "--out", saved, *aws_args(aws_env))
    assert made.exit_code == 0, made.output
    apply(runner, aws_stack, state, aws_env)
    stale = run(runner, "apply", saved, "--state", state, "--auto-approve", *aws_args(aws_env))
    assert stale.exit_code == 1
    assert stale.stderr.rstrip().endswith(f"--state {state} --backend aws --out {saved})"), stale.stderr
