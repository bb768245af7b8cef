"""No two ECS objects become one Kubernetes object, or one set of pods.

ECS names are unique per kind (services per cluster) and case-sensitive; Kubernetes names
are lowercase and unique per kind and namespace (Kubernetes "Object Names and IDs"), and a
Deployment, Service or topology spread constraint counts every pod its selector matches
("Labels and Selectors").  The renderer sets no namespace, so everything it writes for one
stack may land in one namespace: each (kind, name) must be written once, each workload's
selector must match its own pods only, and a pod's ServiceAccount (IRSA: the role it runs
under) must be its own task definition's ``taskRoleArn``.
"""

from __future__ import annotations

import yaml

from ecsctl.app.render import render_files
from ecsctl.core.render.kubernetes import Rendering, Source
from tests.render.test_kubernetes_translation import render, text

ROLE = "eks.amazonaws.com/role-arn"
WORKLOADS = ("Deployment", "DaemonSet", "CronJob", "Job")


def pod_template(workload: dict) -> dict:
    return workload["spec"]["jobTemplate"]["spec"]["template"] if workload["kind"] == "CronJob" else workload["spec"]["template"]


def selector_of(workload: dict) -> dict:
    """What selects the workload's pods: a Deployment's or DaemonSet's ``matchLabels``; a Job
    (or CronJob) selects by its own generated labels, so what others see is the pods' name label."""
    if workload["kind"] in ("Deployment", "DaemonSet"):
        return workload["spec"]["selector"]["matchLabels"]
    return {"app.kubernetes.io/name": pod_template(workload)["metadata"]["labels"]["app.kubernetes.io/name"]}


def matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def assert_no_shared_object(files) -> None:
    objects = [o for f in files for o in f.objects]
    keys = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    workloads = [o for o in objects if o["kind"] in WORKLOADS]
    for w in workloads:
        for other in workloads:
            if other is not w:
                assert not matches(selector_of(w), pod_template(other)["metadata"]["labels"]), (w["metadata"]["name"], other["metadata"]["name"])
    for service in (o for o in objects if o["kind"] == "Service"):
        chosen = [w for w in workloads if matches(service["spec"]["selector"], pod_template(w)["metadata"]["labels"])]
        assert len(chosen) == 1, service["metadata"]["name"]


def role_of(files, workload: dict) -> str:
    account = pod_template(workload)["spec"]["serviceAccountName"]
    (sa,) = [o for f in files for o in f.objects if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == account]
    return sa["metadata"]["annotations"][ROLE]


def by_kind(files, kind: str) -> list[dict]:
    return [o for f in files for o in f.objects if o["kind"] == kind]


REPRO = """\
apiVersion: ecsctl/v1
kind: Cluster
metadata: {name: prod}
spec: {}
---
apiVersion: ecsctl/v1
kind: TaskDefinition
metadata: {name: web}
spec:
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: "256"
  memory: "512"
  taskRoleArn: arn:aws:iam::123456789012:role/web-readonly
  containerDefinitions: [{name: web, image: "nginx:1"}]
---
apiVersion: ecsctl/v1
kind: TaskDefinition
metadata: {name: admin-job}
spec:
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: "256"
  memory: "512"
  taskRoleArn: arn:aws:iam::123456789012:role/admin-full-access
  containerDefinitions: [{name: job, image: "busybox:1"}]
---
apiVersion: ecsctl/v1
kind: Service
metadata: {name: web}
spec:
  cluster: prod
  taskDefinition: web
  desiredCount: 2
  launchType: FARGATE
  networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1]}}
---
apiVersion: ecsctl/v1
kind: ScheduledTask
metadata: {name: web}
spec:
  scheduleExpression: rate(1 day)
  target:
    cluster: prod
    taskDefinition: admin-job
    launchType: FARGATE
    networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1]}}
"""


def test_a_service_and_a_scheduled_task_of_one_name_keep_their_own_roles_and_pods(tmp_path):
    (tmp_path / "stack.yaml").write_text(REPRO)
    files = render_files([str(tmp_path)])  # the stack validates: names are unique per kind
    assert_no_shared_object(files)
    (deployment,) = by_kind(files, "Deployment")
    (cron,) = by_kind(files, "CronJob")
    assert role_of(files, deployment) == "arn:aws:iam::123456789012:role/web-readonly"
    assert role_of(files, cron) == "arn:aws:iam::123456789012:role/admin-full-access"
    assert len(by_kind(files, "ServiceAccount")) == 2
    assert deployment["metadata"]["name"] == "web"  # the service keeps its name; the scheduled task's objects move
    assert len({f.path for f in files}) == 2
    cron_file = next(f for f in files if cron in f.objects)
    assert "is the Kubernetes name of ECS service 'web' (cluster 'prod'), so this scheduled task's is" in text(Rendering([cron_file], []))
    for f in files:
        assert list(yaml.safe_load_all(f.text)) == f.objects


def td(name, role=None):
    return Source("TaskDefinition", name, {"containerDefinitions": [{"name": "app", "image": "x", "memory": 64}],
                                           **({"taskRoleArn": f"arn:aws:iam::123456789012:role/{role}"} if role else {})})


def service(name, cluster="prod", taskdef=None, **spec):
    return Source("Service", name, {"cluster": cluster, "taskDefinition": taskdef or name, **spec})


def test_services_whose_names_differ_only_in_case_stay_apart_and_the_note_names_both():
    r = render(td("lower", "lower-role"), td("upper", "upper-role"),
               service("web", taskdef="lower"), service("Web", taskdef="upper"))
    assert_no_shared_object(r.files)
    roles = {d["metadata"]["name"]: role_of(r.files, d) for d in by_kind(r.files, "Deployment")}
    assert roles["web"].endswith("/lower-role")  # the service whose ECS name already is 'web' keeps it
    assert sorted(roles.values()) == ["arn:aws:iam::123456789012:role/lower-role", "arn:aws:iam::123456789012:role/upper-role"]
    assert "ECS service 'Web': 'web' is the Kubernetes name of ECS service 'web' (cluster 'prod')" in text(r)


def test_the_names_do_not_depend_on_the_order_of_the_manifests():
    sources = [td("app"), service("Web", taskdef="app"), service("web", taskdef="app"),
               Source("ScheduledTask", "web", {"scheduleExpression": "rate(1 hour)", "target": {"cluster": "prod", "taskDefinition": "app"}})]
    forward = [f.path for f in render(*sources).files]
    backward = [f.path for f in render(*reversed(sources)).files]
    assert sorted(forward) == sorted(backward) and len(set(forward)) == 3


def test_services_of_one_name_in_two_clusters_and_a_shared_target_group():
    """Services of one name in two clusters are two Deployments; a target group both use
    is a Kubernetes Service each, selecting its own service's pods."""
    tg = Source("TargetGroup", "web-tg", {"port": 80, "protocol": "HTTP", "targetType": "ip"})
    lb = [{"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-tg/0123456789abcdef",
           "containerName": "app", "containerPort": 80}]
    r = render(td("web"), tg, service("web", "prod", loadBalancers=lb), service("web", "staging", loadBalancers=lb),
               service("Web", "qa", taskdef="web"), Source("ScheduledTask", "prod-web", {"scheduleExpression": "rate(1 hour)",
                                                                           "target": {"cluster": "prod", "taskDefinition": "web"}}))
    assert_no_shared_object(r.files)
    assert len(by_kind(r.files, "Deployment")) == 3 and len(by_kind(r.files, "Service")) == 2 and len(r.files) == 4


def test_efs_volumes_of_two_workloads_never_share_a_persistent_volume():
    """PersistentVolumes are cluster-scoped: workload 'web' with volume 'data-x' and workload
    'web-data' with volume 'x' both start from the name 'web-data-x'."""
    def efs_td(name, volume):
        return Source("TaskDefinition", name, {
            "containerDefinitions": [{"name": "app", "image": "x", "memory": 64, "mountPoints": [{"sourceVolume": volume, "containerPath": "/d"}]}],
            "volumes": [{"name": volume, "efsVolumeConfiguration": {"fileSystemId": "fs-0123456789abcdef0"}}]})

    r = render(efs_td("web", "data-x"), efs_td("web-data", "x"), service("web"), service("web-data"))
    assert_no_shared_object(r.files)
    claims = {o["metadata"]["name"] for o in by_kind(r.files, "PersistentVolumeClaim")}
    used = {v["persistentVolumeClaim"]["claimName"] for d in by_kind(r.files, "Deployment") for v in pod_template(d)["spec"]["volumes"]}
    assert len(claims) == 2 and used == claims
