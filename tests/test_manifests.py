"""The example stack in manifests/ (the one the README walks through).

It must validate with no errors and no warnings, and it must keep showing
every piece the README talks about: a cluster over three availability zones,
a Fargate service behind a load balancer, secrets from SSM and Secrets
Manager, an S3 environment file, an EC2 bridge-mode service with a dynamic
host port and a memberOf constraint, a cron-scheduled task and auto scaling.
The pieces must also agree with each other (names, ARNs, images, attributes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ecsctl.app.validate import Validator, discover, validate_paths

MANIFESTS = Path(__file__).resolve().parent.parent / "manifests"

ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/([^:@]+):(.+)$")
SSM_ARN = re.compile(r"^arn:aws:ssm:[a-z0-9-]+:\d{12}:parameter(/.*)$")
SM_ARN = re.compile(r"^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:([^:]+?)(?:-[A-Za-z0-9]{6})?(?::([^:]*):([^:]*):([^:]*))?$")
S3_ARN = re.compile(r"^arn:aws:s3:::([^/]+)/(.+)$")
TG_ARN = re.compile(r"^arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/([^/]+)/[0-9a-f]+$")
CQL_EQUALS = re.compile(r"^attribute:([A-Za-z0-9_./\\-]+)\s*==\s*'?([^']+?)'?$")


def _render(findings) -> str:
    return "\n".join(f"{f.file}:{f.line}:{f.column}: {f.severity.value} {f.rule} {f.pointer}: {f.message}" for f in findings)


@pytest.fixture(scope="module")
def docs():
    loaded = Validator().load(discover([str(MANIFESTS)]))
    assert not loaded.findings, _render(loaded.findings)
    return loaded.documents


def _of(docs, kind):
    return {d.name: d.spec for d in docs if d.kind == kind}


def _containers(spec):
    return spec.get("containerDefinitions", [])


# --- validation ---------------------------------------------------------------


def test_manifests_validate_without_errors_or_warnings():
    report = validate_paths([str(MANIFESTS)])
    assert report.files >= 4
    assert report.errors == 0 and report.warnings == 0, "\n" + _render(report.sorted())


def test_every_document_uses_the_envelope(docs):
    assert docs
    for d in docs:
        assert d.form == "manifest", f"{d.file}: bare documents do not belong in the example"
        assert d.data["apiVersion"] == "ecsctl/v1"
        assert set(d.data) == {"apiVersion", "kind", "metadata", "spec"}
        assert d.data["metadata"].get("labels"), f"{d.address} has no labels"


def test_files_are_split_by_concern_and_explained():
    files = sorted(p.name for p in MANIFESTS.glob("*.yaml"))
    assert {"cluster.yaml", "catalogue.yaml", "web.yaml", "worker.yaml", "batch.yaml"} <= set(files)
    for name in files:
        assert (MANIFESTS / name).read_text().startswith("#"), f"{name} should open with a comment"


# --- the pieces the README walks through ---------------------------------------


def test_cluster_has_instances_in_three_availability_zones(docs):
    clusters = _of(docs, "Cluster")
    assert "prod" in clusters
    prod = clusters["prod"]
    zones = {g["availabilityZone"] for g in prod["containerInstances"] if g.get("count", 1) > 0}
    assert len(zones) >= 3, zones
    assert {"FARGATE", "FARGATE_SPOT"} <= set(prod["capacityProviders"])
    strategy = prod["defaultCapacityProviderStrategy"]
    assert {item["capacityProvider"] for item in strategy} <= set(prod["capacityProviders"])
    assert any(item.get("weight", 0) > 0 for item in strategy)


def test_fargate_service_behind_a_load_balancer(docs):
    services, taskdefs, groups = _of(docs, "Service"), _of(docs, "TaskDefinition"), _of(docs, "TargetGroup")
    web = services["web"]
    td = taskdefs[web["taskDefinition"].split(":")[0]]
    assert web["launchType"] == "FARGATE"
    assert td["networkMode"] == "awsvpc" and "FARGATE" in td["requiresCompatibilities"]
    assert len(web["networkConfiguration"]["awsvpcConfiguration"]["subnets"]) == 3
    (lb,) = web["loadBalancers"]
    tg = groups[TG_ARN.match(lb["targetGroupArn"]).group(1)]
    assert tg["targetType"] == "ip" and tg["port"] == lb["containerPort"]
    container = next(c for c in _containers(td) if c["name"] == lb["containerName"])
    assert lb["containerPort"] in {p["containerPort"] for p in container["portMappings"]}
    dc = web["deploymentConfiguration"]
    assert (dc["minimumHealthyPercent"], dc["maximumPercent"]) == (100, 200)
    assert dc["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_secrets_come_from_ssm_and_secrets_manager(docs):
    parameters, secrets = _of(docs, "Parameter"), _of(docs, "Secret")
    seen = {"ssm-name": 0, "ssm-arn": 0, "secretsmanager": 0}
    for td in _of(docs, "TaskDefinition").values():
        for c in _containers(td):
            for s in c.get("secrets", []):
                ref = s["valueFrom"]
                if m := SM_ARN.match(ref):
                    seen["secretsmanager"] += 1
                    secret = secrets[m.group(1)]
                    if m.group(2):
                        assert m.group(2) in secret["keys"], ref
                elif m := SSM_ARN.match(ref):
                    seen["ssm-arn"] += 1
                    assert m.group(1) in parameters, ref
                else:
                    seen["ssm-name"] += 1
                    assert ref in parameters, ref
    assert all(seen.values()), seen
    assert {p["type"] for p in parameters.values()} == {"String", "SecureString"}


def test_environment_file_from_s3(docs):
    files = {(f["bucket"], f["key"]): f for f in _of(docs, "EnvironmentFile").values()}
    used = 0
    for td in _of(docs, "TaskDefinition").values():
        for c in _containers(td):
            plain = {e["name"] for e in c.get("environment", [])}
            for ef in c.get("environmentFiles", []):
                assert ef["type"] == "s3"
                bucket, key = S3_ARN.match(ef["value"]).groups()
                assert key.endswith(".env")
                envfile = files[(bucket, key)]
                assert not plain & set(envfile["variables"]), "environment would silently override the file"
                used += 1
    assert used


def test_ec2_bridge_service_with_dynamic_port_and_member_of(docs):
    services, taskdefs = _of(docs, "Service"), _of(docs, "TaskDefinition")
    worker = services["worker"]
    td = taskdefs[worker["taskDefinition"].split(":")[0]]
    assert worker["launchType"] == "EC2"
    assert td["networkMode"] == "bridge" and td["requiresCompatibilities"] == ["EC2"]
    ports = [p for c in _containers(td) for p in c.get("portMappings", [])]
    assert ports and all(p.get("hostPort", 0) == 0 for p in ports)
    strategy = [(s["type"], s.get("field")) for s in worker["placementStrategy"]]
    assert strategy[0] == ("spread", "attribute:ecs.availability-zone")
    assert ("binpack", "memory") in strategy
    (constraint,) = [c for c in worker["placementConstraints"] if c["type"] == "memberOf"]
    attribute, value = CQL_EQUALS.match(constraint["expression"]).groups()
    cluster = _of(docs, "Cluster")[worker["cluster"]]
    matching = [g for g in cluster["containerInstances"] if g.get("attributes", {}).get(attribute) == value]
    assert {g["availabilityZone"] for g in matching} == {g["availabilityZone"] for g in cluster["containerInstances"]}
    # The sidecar shares the log volume and the worker waits for it.
    volumes = {v["name"] for v in td.get("volumes", [])}
    mounts = {c["name"]: {m["sourceVolume"] for m in c.get("mountPoints", [])} for c in _containers(td)}
    assert len(mounts) >= 2 and all(m and m <= volumes for m in mounts.values())
    names = set(mounts)
    for c in _containers(td):
        for dep in c.get("dependsOn", []):
            assert dep["containerName"] in names - {c["name"]}


def test_scheduled_task_with_cron_and_an_event_pattern(docs):
    scheduled = _of(docs, "ScheduledTask")
    taskdefs = _of(docs, "TaskDefinition")
    crons = [s for s in scheduled.values() if str(s.get("scheduleExpression", "")).startswith("cron(")]
    assert crons
    for s in crons:
        fields = s["scheduleExpression"][len("cron("):-1].split()
        assert len(fields) == 6 and "?" in (fields[2], fields[4])
    assert any("eventPattern" in s for s in scheduled.values())
    for s in scheduled.values():
        assert s["target"]["cluster"] in _of(docs, "Cluster")
        assert s["target"]["taskDefinition"] in taskdefs
        assert s["target"]["networkConfiguration"]["awsvpcConfiguration"]["subnets"]


def test_auto_scaling_uses_every_policy_kind(docs):
    services = _of(docs, "Service")
    kinds = set()
    for spec in services.values():
        scaling = spec.get("autoScaling")
        if not scaling:
            continue
        assert scaling["minCapacity"] <= spec["desiredCount"] <= scaling["maxCapacity"]
        kinds |= {k for k in ("targetTracking", "stepScaling", "scheduled") if scaling.get(k)}
    assert kinds == {"targetTracking", "stepScaling", "scheduled"}
    assert services["worker"]["autoScaling"]["stepScaling"]


# --- the stack is consistent -------------------------------------------------


def test_services_and_tasks_reference_what_exists(docs):
    clusters, taskdefs = _of(docs, "Cluster"), _of(docs, "TaskDefinition")
    for name, spec in _of(docs, "Service").items():
        assert spec["cluster"] in clusters, name
        assert spec["taskDefinition"].split(":")[0] in taskdefs, name


def test_every_ecr_image_is_held_by_a_repository(docs):
    repositories = _of(docs, "Repository")
    images = [c["image"] for td in _of(docs, "TaskDefinition").values() for c in _containers(td)]
    assert images
    for image in images:
        m = ECR_IMAGE.match(image)
        if m:
            repo, tag = m.group(3), m.group(4)
            assert tag in repositories[repo]["images"], image


# --- security groups ------------------------------------------------------------


def test_every_security_group_reference_is_a_security_group_document(docs):
    from ecsctl.core.network.security_groups import references
    from ecsctl.core.rules.network.lookup import security_group_references

    groups = _of(docs, "SecurityGroup")
    known = set().union(*(references(name, spec) for name, spec in groups.items()))
    named = {ref for d in docs for _, ref in security_group_references(d.kind, d.spec)}
    assert {"alb", "web-tasks", "batch-tasks", "instances"} <= set(groups)
    assert named and named <= known, named - known
    assert _of(docs, "TargetGroup")["web"]["securityGroups"], "the web target group names its load balancer's group"
    assert all(g.get("securityGroups") for g in _of(docs, "Cluster")["prod"]["containerInstances"])


def test_the_load_balancer_check_runs_on_the_example(tmp_path):
    """Without web-tasks' rule for the ALB, validate names the rule to add (W8012)."""
    import shutil

    copy = tmp_path / "manifests"
    shutil.copytree(MANIFESTS, copy)
    network = copy / "network.yaml"
    text = network.read_text()
    network.write_text(text.replace("fromPort: 8080\n      toPort: 8080", "fromPort: 8081\n      toPort: 8081"))
    report = validate_paths([str(copy)])
    messages = [f.message for f in report.findings if f.rule == "W8012"]
    assert messages and "allow tcp 8080 from alb on sg-0c1d2e3f4a5b6c701" in messages[0], messages
