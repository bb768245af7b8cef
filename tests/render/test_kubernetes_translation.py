"""What each ECS field becomes in Kubernetes, case by case.

Expectations follow the AWS and Kubernetes documentation: 1,024 CPU units are one vCPU
(ECS task definition parameters) and one CPU is 1000m (Kubernetes resource units);
``memory`` is the hard limit and ``memoryReservation`` the soft one; a health check
defaults to interval 30 s, timeout 5 s, 3 retries (ECS HealthCheck); ``CMD-SHELL`` runs
the command in the container's shell.  Every test also checks that the text written
parses back to the objects and holds no secret value.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from ecsctl.core.render.kubernetes import Source, Stack, render_kubernetes
from ecsctl.core.render.kubernetes.pod import cpu_quantity
from tests.k8s_checks import api_problems

SECRET_VALUE = "s3cr3t-Value-Never-Printed-0123456789"


def td(*containers, **task):
    return Source("TaskDefinition", task.pop("family", "app"), {"containerDefinitions": list(containers), **task})


def svc(name="app", **spec):
    return Source("Service", name, {"cluster": "prod", "taskDefinition": spec.pop("taskDefinition", "app"), **spec})


def render(*sources):
    rendering = render_kubernetes(Stack(sources))
    for f in rendering.files:
        assert list(yaml.safe_load_all(f.text)) == f.objects, f.text
        assert SECRET_VALUE not in f.text
        for o in f.objects:
            assert api_problems(o) == [], api_problems(o)
    return rendering


def objects(rendering, kind):
    return [o for f in rendering.files for o in f.objects if o["kind"] == kind]


def pod_of(rendering):
    (workload,) = [o for f in rendering.files for o in f.objects if o["kind"] in ("Deployment", "DaemonSet", "CronJob", "Job")]
    template = workload["spec"]["jobTemplate"]["spec"]["template"] if workload["kind"] == "CronJob" else workload["spec"]["template"]
    return template["spec"]


def container(spec, name):
    return next(c for c in spec.get("containers", []) + spec.get("initContainers", []) if c["name"] == name)


def text(rendering):
    """The comments of every file, unwrapped (a note may run over several ``#`` lines)."""
    lines = [line.strip() for f in rendering.files for line in f.text.splitlines()]
    return " ".join(line[1:].strip() for line in lines if line.startswith("#"))


# --- resources ------------------------------------------------------------------------------


@pytest.mark.parametrize("units, quantity, exact", [(1024, "1", True), (2048, "2", True), (512, "500m", True), (256, "250m", True),
                                                     (128, "125m", True), (64, "63m", False), (10, "10m", False)])
def test_cpu_units_as_millicores(units, quantity, exact):
    assert cpu_quantity(units) == (quantity, exact)


def test_container_cpu_memory_and_reservation():
    r = render(td({"name": "app", "image": "nginx", "cpu": 256, "memory": 512, "memoryReservation": 128}), svc())
    assert container(pod_of(r), "app")["resources"] == {"limits": {"memory": "512Mi"}, "requests": {"cpu": "250m", "memory": "128Mi"}}


def test_memory_alone_is_request_and_limit_and_reservation_alone_no_limit():
    r = render(td({"name": "a", "image": "x", "memory": 300}, {"name": "b", "image": "y", "memoryReservation": 200}), svc())
    spec = pod_of(r)
    assert container(spec, "a")["resources"] == {"limits": {"memory": "300Mi"}, "requests": {"memory": "300Mi"}}
    assert container(spec, "b")["resources"] == {"requests": {"memory": "200Mi"}}
    assert "memoryReservation without memory: no limit" in text(r)


def test_task_level_sizes_of_a_fargate_task():
    single = render(td({"name": "web", "image": "x"}, cpu="0.5 vCPU", memory="1GB", networkMode="awsvpc",
                       requiresCompatibilities=["FARGATE"]), svc(launchType="FARGATE"))
    assert container(pod_of(single), "web")["resources"] == {"limits": {"cpu": "500m", "memory": "1024Mi"},
                                                              "requests": {"cpu": "500m", "memory": "1024Mi"}}
    assert "Fargate profile" in text(single)
    double = render(td({"name": "web", "image": "x", "cpu": 256, "memory": 512}, {"name": "proxy", "image": "y"},
                       cpu="1024", memory="2048", networkMode="awsvpc", requiresCompatibilities=["FARGATE"]), svc(launchType="FARGATE"))
    proxy = container(pod_of(double), "proxy")["resources"]
    assert proxy["requests"] == {"cpu": "750m", "memory": "1536Mi"}
    assert proxy["limits"] == {"cpu": "750m", "memory": "1536Mi"}
    assert "caps the whole task" in text(double)


def quantity(text: str) -> float:
    """A CPU (``500m``, ``1``) or memory (``1024Mi``) quantity, in CPUs or MiB."""
    if text.endswith("m"):
        return int(text[:-1]) / 1000
    if text.endswith("Mi"):
        return int(text[:-2])
    return float(text)


def pod_request(spec: dict, resource: str) -> float:
    """Kubernetes' effective pod request: the larger of the init phase (each init container
    with the native sidecars started before it) and the main phase (the regular containers and
    every sidecar), https://kubernetes.io/docs/concepts/workloads/pods/init-containers/#resource-sharing-within-containers
    and the sidecar containers page's "Resource sharing within containers"."""
    def req(c):
        return quantity(c.get("resources", {}).get("requests", {}).get(resource, "0"))

    sidecars, init_peak = 0.0, 0.0
    for c in spec.get("initContainers", []):
        init_peak = max(init_peak, sidecars + req(c))
        if c.get("restartPolicy") == "Always":
            sidecars += req(c)
    return max(init_peak, sidecars + sum(req(c) for c in spec["containers"]))


FARGATE = dict(cpu="1024", memory="2048", networkMode="awsvpc", requiresCompatibilities=["FARGATE"])


def test_an_init_container_is_not_counted_with_the_containers_it_runs_before():
    """``b`` waits for ``a`` to succeed, so ``a`` is an init container: it runs before ``b``, and
    Kubernetes reserves the larger of the two, not the sum.  Each may have the whole task size,
    and the pod reserves exactly the task's 1 vCPU and 2 GiB, as ECS does."""
    r = render(td({"name": "a", "image": "x", "essential": False},
                  {"name": "b", "image": "y", "dependsOn": [{"containerName": "a", "condition": "SUCCESS"}]}, **FARGATE),
               svc(launchType="FARGATE"))
    spec = pod_of(r)
    assert [c["name"] for c in spec["initContainers"]] == ["a"] and "restartPolicy" not in spec["initContainers"][0]
    whole = {"cpu": "1", "memory": "2048Mi"}
    assert container(spec, "a")["resources"] == {"limits": whole, "requests": whole}
    assert container(spec, "b")["resources"] == {"limits": whole, "requests": whole}
    assert (pod_request(spec, "cpu"), pod_request(spec, "memory")) == (1.0, 2048)
    assert "Kubernetes counts the larger of the two" in text(r)


@pytest.mark.parametrize("order", [("proxy", "migrate", "app"), ("migrate", "proxy", "app")])
def test_the_task_size_is_shared_among_the_containers_that_run_at_once(order):
    """Native sidecars run beside the main containers and beside the init containers started
    after them; whatever the order, the pod's effective request is the task size, and no
    container's limit exceeds it."""
    defs = {"proxy": {"name": "proxy", "image": "p", "essential": False},
            "migrate": {"name": "migrate", "image": "m", "essential": False},
            "app": {"name": "app", "image": "a", "dependsOn": [{"containerName": "migrate", "condition": "SUCCESS"}]}}
    r = render(td(*(defs[n] for n in order), **FARGATE), svc(launchType="FARGATE"))
    spec = pod_of(r)
    assert (pod_request(spec, "cpu"), pod_request(spec, "memory")) == (1.0, 2048)
    for c in spec["initContainers"] + spec["containers"]:
        assert quantity(c["resources"]["limits"]["cpu"]) <= 1 and quantity(c["resources"]["limits"]["memory"]) <= 2048
    assert container(spec, "proxy")["restartPolicy"] == "Always"
    assert container(spec, "proxy")["resources"]["requests"] == container(spec, "app")["resources"]["requests"]


def test_gpu():
    r = render(td({"name": "train", "image": "x", "memory": 1024, "resourceRequirements": [{"type": "GPU", "value": "2"}]}), svc())
    assert container(pod_of(r), "train")["resources"]["limits"]["nvidia.com/gpu"] == 2


# --- environment and secrets ------------------------------------------------------------------


def test_secrets_are_references_by_name_never_values():
    r = render(
        td({"name": "app", "image": "x", "memory": 256,
            "environment": [{"name": "MODE", "value": "prod"}, {"name": "DB_PASSWORD", "value": SECRET_VALUE}],
            "secrets": [{"name": "DB_HOST", "valueFrom": "/prod/app/db-host"},
                        {"name": "API_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/app/api-key"},
                        {"name": "DB_USER", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app/db-AbCdEf:username::"},
                        {"name": "TOKEN", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app/token-AbCdEf"}]},
           executionRoleArn="arn:aws:iam::123456789012:role/exec"),
        Source("Secret", "prod/app/db", {"keys": ["username", "password"]}),
        svc())
    env = {e["name"]: e for e in container(pod_of(r), "app")["env"]}
    assert env["MODE"] == {"name": "MODE", "value": "prod"}
    ref = lambda n: env[n]["valueFrom"]["secretKeyRef"]  # noqa: E731
    assert ref("DB_HOST") == {"name": "prod-app-db-host", "key": "value"}
    assert ref("API_KEY") == {"name": "prod-app-api-key", "key": "value"}
    assert ref("DB_USER") == {"name": "prod-app-db", "key": "username"}
    assert ref("TOKEN") == {"name": "prod-app-token", "key": "value"}
    assert ref("DB_PASSWORD") == {"name": "app-env", "key": "DB_PASSWORD"}
    assert "looks like a secret (W7001)" in text(r)
    assert "Secret 'prod-app-db' key 'username': Secrets Manager secret prod/app/db, JSON key username" in r.files[0].needs


def test_secret_looking_arguments_and_labels_are_never_written():
    """W7001's other holders: a ``command``/``entryPoint`` argument that follows a password
    option becomes ``$(VAR)``, which the kubelet expands from an environment variable set from a
    Secret (Kubernetes "Define a command and arguments": ``$(VAR_NAME)``); a Docker label that
    looks secret is left out of the pod's annotations.  Other arguments and labels stay as given."""
    r = render(
        td({"name": "app", "image": "x", "memory": 256,
            "entryPoint": ["sh", "-c", f"exec app --password={SECRET_VALUE}"],
            "command": ["serve", "--db-password", SECRET_VALUE, "--port", "8080"],
            "dockerLabels": {"team": "core", "api_token": SECRET_VALUE}}),
        svc())
    c = container(pod_of(r), "app")
    assert c["command"] == ["sh", "-c", "$(ECS_ENTRYPOINT_2)"]
    assert c["args"] == ["serve", "--db-password", "$(ECS_COMMAND_2)", "--port", "8080"]
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c["env"]}
    assert env == {"ECS_ENTRYPOINT_2": {"name": "app-env", "key": "app-entryPoint-2"},
                   "ECS_COMMAND_2": {"name": "app-env", "key": "app-command-2"}}
    (deployment,) = objects(r, "Deployment")
    annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
    assert annotations.get("team") == "core" and "api_token" not in annotations
    assert "Docker label 'api_token' of app looks like a plain-text secret (W7001)" in text(r)
    assert "Secret 'app-env' key 'app-command-2': argument command[2] of app (plain text in the ECS task definition)" in r.files[0].needs


def test_docker_labels_kubernetes_cannot_take_are_named_in_a_comment():
    """Annotation keys are qualified names (an optional DNS subdomain prefix and ``/``, then at
    most 63 alphanumerics, ``-``, ``_``, ``.``; Kubernetes "Annotations"): a Docker label with
    another key has no annotation, and the comment says which."""
    odd = {"com.example/weird key": "1", "x" * 64: "2", "-dash": "3"}
    r = render(td({"name": "app", "image": "x", "memory": 64, "dockerLabels": {"team": "core", **odd}},
                  {"name": "side", "image": "y", "memory": 64, "dockerLabels": {"team": "edge"}}), svc())
    (deployment,) = objects(r, "Deployment")
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {"team": "core"}
    for key in odd:
        assert f"Docker label '{key}' of app is not a valid Kubernetes annotation key" in text(r)
    assert "Docker label 'team' of side: another container has the same label" in text(r)


def test_a_secret_in_a_health_check_is_read_from_the_environment_through_the_shell():
    """A probe's ``exec.command`` takes no ``$(VAR)`` (only a container's command and args do),
    so a health check holding what looks like a secret runs through ``/bin/sh``, which reads
    it from an environment variable set from a Secret; the value is never written."""
    r = render(
        td({"name": "app", "image": "x", "memory": 256, "essential": True,
            "healthCheck": {"command": ["CMD", "check", "--password", SECRET_VALUE, "--url", "http://x/a b"]}},
           {"name": "db", "image": "y", "memory": 256, "essential": True,
            "healthCheck": {"command": ["CMD-SHELL", f"pg_isready --password={SECRET_VALUE} || exit 1"]}}),
        svc())
    app_c, db_c = container(pod_of(r), "app"), container(pod_of(r), "db")
    assert app_c["livenessProbe"]["exec"]["command"] == [
        "/bin/sh", "-c", "exec check --password \"$ECS_HEALTHCHECK_3\" --url 'http://x/a b'"]
    assert {e["name"]: e["valueFrom"]["secretKeyRef"] for e in app_c["env"]} == {
        "ECS_HEALTHCHECK_3": {"name": "app-env", "key": "app-healthCheck-3"}}
    assert db_c["livenessProbe"]["exec"]["command"] == ["/bin/sh", "-c", 'eval "$ECS_HEALTHCHECK"']
    assert [e["name"] for e in db_c["env"]] == ["ECS_HEALTHCHECK"]


def test_dollar_parentheses_stay_literal_and_a_generated_name_never_takes_the_users():
    """Kubernetes expands ``$(NAME)`` in command and args ("$$ escapes it"); ECS passes it as
    written.  A user variable named like a generated one keeps its name and value."""
    r = render(
        td({"name": "app", "image": "x", "memory": 256,
            "environment": [{"name": "GREETING", "value": "hi"}, {"name": "ECS_COMMAND_3", "value": "mine"}],
            "command": ["echo", "$(GREETING)", "--db-password", SECRET_VALUE]}),
        svc())
    c = container(pod_of(r), "app")
    assert c["args"] == ["echo", "$$(GREETING)", "--db-password", "$(ECS_COMMAND_3_1)"]
    env = {e["name"]: e for e in c["env"]}
    assert env["ECS_COMMAND_3"] == {"name": "ECS_COMMAND_3", "value": "mine"}
    assert env["ECS_COMMAND_3_1"]["valueFrom"]["secretKeyRef"] == {"name": "app-env", "key": "app-command-3"}


def test_environment_files_become_named_configmaps_or_secrets():
    r = render(
        td({"name": "app", "image": "x", "memory": 256, "environmentFiles": [
            {"value": "arn:aws:s3:::acme-config/app/plain.env", "type": "s3"},
            {"value": "arn:aws:s3:::acme-config/app/keys.env", "type": "s3"}]}),
        Source("EnvironmentFile", "app-settings", {"bucket": "acme-config", "key": "app/plain.env", "variables": ["LOG_LEVEL"]}),
        Source("EnvironmentFile", "app-keys", {"bucket": "acme-config", "key": "app/keys.env", "variables": ["STRIPE_API_KEY"]}),
        svc())
    assert container(pod_of(r), "app")["envFrom"] == [{"configMapRef": {"name": "app-settings"}}, {"secretRef": {"name": "app-keys"}}]
    assert "kubectl create configmap app-settings --from-env-file=FILE" in text(r)
    assert "later source wins" in text(r)


# --- volumes ---------------------------------------------------------------------------------


def test_bind_mount_is_an_empty_dir_shared_by_the_containers():
    r = render(td({"name": "app", "image": "x", "memory": 256, "mountPoints": [{"sourceVolume": "logs", "containerPath": "/logs"}]},
                  {"name": "shipper", "image": "y", "memory": 64, "essential": False,
                   "mountPoints": [{"sourceVolume": "logs", "containerPath": "/in", "readOnly": True}]},
                  volumes=[{"name": "logs"}, {"name": "Host_Data", "host": {"sourcePath": "/var/data"}}]), svc())
    spec = pod_of(r)
    assert spec["volumes"] == [{"name": "logs", "emptyDir": {}},
                               {"name": "host-data", "hostPath": {"path": "/var/data", "type": "DirectoryOrCreate"}}]
    assert container(spec, "app")["volumeMounts"] == [{"name": "logs", "mountPath": "/logs"}]
    assert container(spec, "shipper")["volumeMounts"] == [{"name": "logs", "mountPath": "/in", "readOnly": True}]


def test_efs_is_a_claim_on_the_efs_csi_driver():
    r = render(td({"name": "app", "image": "x", "memory": 256, "mountPoints": [{"sourceVolume": "shared", "containerPath": "/srv"}]},
                  volumes=[{"name": "shared", "efsVolumeConfiguration": {
                      "fileSystemId": "fs-0123456789abcdef0", "transitEncryption": "ENABLED",
                      "authorizationConfig": {"accessPointId": "fsap-0123456789abcdef0", "iam": "ENABLED"}}},
                      {"name": "sub", "efsVolumeConfiguration": {"fileSystemId": "fs-0123456789abcdef0", "rootDirectory": "/reports"}}]),
               svc())
    pvs = objects(r, "PersistentVolume")
    assert [pv["spec"]["csi"] for pv in pvs] == [
        {"driver": "efs.csi.aws.com", "volumeHandle": "fs-0123456789abcdef0::fsap-0123456789abcdef0"},
        {"driver": "efs.csi.aws.com", "volumeHandle": "fs-0123456789abcdef0:/reports", "volumeAttributes": {"encryptInTransit": "false"}}]
    assert pvs[0]["spec"]["mountOptions"] == ["tls", "iam"]
    claims = objects(r, "PersistentVolumeClaim")
    assert [c["spec"]["volumeName"] for c in claims] == [pv["metadata"]["name"] for pv in pvs]
    assert pod_of(r)["volumes"][0] == {"name": "shared", "persistentVolumeClaim": {"claimName": "app-shared"}}


# --- health checks and container order ------------------------------------------------------------


def test_health_check_defaults_and_shell_form():
    r = render(td({"name": "app", "image": "x", "memory": 256, "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]}}),
               svc())
    c = container(pod_of(r), "app")
    probe = {"exec": {"command": ["/bin/sh", "-c", "curl -f http://localhost/ || exit 1"]}, "periodSeconds": 30, "timeoutSeconds": 5,
             "failureThreshold": 3}
    assert c["livenessProbe"] == probe and c["readinessProbe"] == probe and "startupProbe" not in c


def test_exec_form_and_start_period():
    r = render(td({"name": "app", "image": "x", "memory": 256,
                   "healthCheck": {"command": ["CMD", "/bin/check", "--quick"], "interval": 10, "retries": 2, "startPeriod": 45}}), svc())
    c = container(pod_of(r), "app")
    assert c["startupProbe"]["exec"]["command"] == ["/bin/check", "--quick"]
    assert c["startupProbe"]["failureThreshold"] == 5 + 2  # ceil(45 / 10) checks in the start period, then the retries


def test_depends_on_success_is_an_init_container_and_healthy_a_sidecar():
    r = render(td(
        {"name": "migrate", "image": "m", "memory": 128, "essential": False},
        {"name": "envoy", "image": "e", "memory": 128, "healthCheck": {"command": ["CMD", "check"], "startPeriod": 10}},
        {"name": "app", "image": "a", "memory": 256, "dependsOn": [{"containerName": "migrate", "condition": "SUCCESS"},
                                                                   {"containerName": "envoy", "condition": "HEALTHY"}]},
        {"name": "xray", "image": "x", "memory": 64, "essential": False}), svc())
    spec = pod_of(r)
    assert [c["name"] for c in spec["initContainers"]] == ["migrate", "envoy", "xray"]
    migrate, envoy, xray = spec["initContainers"]
    assert "restartPolicy" not in migrate and "livenessProbe" not in migrate
    assert envoy["restartPolicy"] == "Always" and envoy["startupProbe"]["failureThreshold"] == 1 + 3
    assert xray["restartPolicy"] == "Always"
    assert [c["name"] for c in spec["containers"]] == ["app"]
    assert "an init container, run to completion" in text(r)


# --- placement, daemons, scaling, load balancers ----------------------------------------------------


def test_placement():
    r = render(td({"name": "app", "image": "x", "memory": 256}),
               svc(placementConstraints=[{"type": "distinctInstance"}, {"type": "memberOf", "expression": "attribute:tier == general"}],
                   placementStrategy=[{"type": "spread", "field": "attribute:ecs.availability-zone"}]))
    spec = pod_of(r)
    assert spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["general"]}]}]
    assert spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"] == "kubernetes.io/hostname"
    assert [t["topologyKey"] for t in spec["topologySpreadConstraints"]] == ["topology.kubernetes.io/zone"]


def test_daemon_service_is_a_daemonset_over_the_matching_instances():
    cluster = Source("Cluster", "prod", {"containerInstances": [
        {"name": "a", "count": 3, "instanceType": "m5.large", "availabilityZone": "eu-west-1a", "attributes": {"tier": "general"}},
        {"name": "b", "count": 2, "instanceType": "m5.large", "availabilityZone": "eu-west-1b", "attributes": {"tier": "batch"}}]})
    r = render(cluster, td({"name": "agent", "image": "x", "memory": 128}),
               svc("agent", schedulingStrategy="DAEMON", placementConstraints=[{"type": "memberOf", "expression": "attribute:tier == general"}],
                   deploymentConfiguration={"minimumHealthyPercent": 50}))
    (ds,) = objects(r, "DaemonSet")
    # minimumHealthyPercent is a share of the instances: the same share of the nodes, however many EKS has
    assert ds["spec"]["updateStrategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": "50%"}
    assert "on the 3 instances the manifests describe: ECS keeps ceil(3 × 50 / 100) = 2 healthy" in text(r)
    assert "topologySpreadConstraints" not in ds["spec"]["template"]["spec"]


def test_target_tracking_is_an_hpa_with_the_same_bounds_and_target():
    r = render(td({"name": "app", "image": "x", "cpu": 256, "memory": 256}),
               svc(desiredCount=2, autoScaling={"minCapacity": 2, "maxCapacity": 8, "targetTracking": [
                   {"policyName": "cpu", "targetValue": 70.0, "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"},
                    "scaleInCooldown": 300, "disableScaleIn": True},
                   {"policyName": "mem", "targetValue": 80, "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageMemoryUtilization"},
                    "disableScaleIn": True},
                   {"policyName": "rps", "targetValue": 1000, "predefinedMetricSpecification": {"predefinedMetricType": "ALBRequestCountPerTarget",
                                                                                                 "resourceLabel": "app/x/1/targetgroup/y/2"}}]}))
    (hpa,) = objects(r, "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] == 2 and hpa["spec"]["maxReplicas"] == 8
    assert [(m["resource"]["name"], m["resource"]["target"]["averageUtilization"]) for m in hpa["spec"]["metrics"]] == [("cpu", 70), ("memory", 80)]
    assert hpa["spec"]["behavior"]["scaleDown"] == {"stabilizationWindowSeconds": 300, "selectPolicy": "Disabled"}
    assert "ALBRequestCountPerTarget: not translatable" in text(r)


def test_a_target_group_is_a_service():
    r = render(td({"name": "app", "image": "x", "memory": 256, "portMappings": [{"containerPort": 8080}]}),
               Source("TargetGroup", "app-tg", {"port": 80, "protocol": "HTTP", "targetType": "ip", "healthCheck": {"path": "/health"}}),
               svc(loadBalancers=[{"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/app-tg/0123456789abcdef",
                                   "containerName": "app", "containerPort": 8080}]))
    (service,) = objects(r, "Service")
    assert service["metadata"]["name"] == "app-tg"
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "app"}
    assert service["spec"]["ports"] == [{"port": 80, "targetPort": 8080, "protocol": "TCP", "appProtocol": "http"}]
    assert "alb.ingress.kubernetes.io/healthcheck-path: /health" in text(r)


def test_names_become_dns_labels_with_a_note():
    r = render(td({"name": "App", "image": "x", "memory": 64}, {"name": "app", "image": "y", "memory": 64}, family="Web_API"),
               svc("Web_API", taskDefinition="Web_API"))
    assert r.files[0].path == "web-api.yaml"
    names = [c["name"] for c in pod_of(r)["containers"]]
    assert names[0] == "app" and names[1].startswith("app-") and len(set(names)) == 2
    assert "ECS service 'Web_API'" in text(r) and "ECS container 'App'" in text(r)


def test_fields_without_equivalent_get_a_comment():
    r = render(td({"name": "app", "image": "x", "memory": 64, "ulimits": [{"name": "nofile", "softLimit": 1, "hardLimit": 2}],
                   "startTimeout": 30, "logConfiguration": {"logDriver": "awslogs"}}, ipcMode="none"),
               svc(enableExecuteCommand=True, healthCheckGracePeriodSeconds=10, propagateTags="SERVICE"))
    for fragment in ("ulimits (nofile)", "startTimeout 30s", "logConfiguration (awslogs)", "ipcMode none", "enableExecuteCommand",
                     "healthCheckGracePeriodSeconds 10", "propagateTags"):
        assert fragment in text(r), fragment


def test_awsvpc_security_groups_are_named_or_the_default_is_said():
    """AwsVpcConfiguration: "If you don't specify a security group, the default security group
    for the VPC is used"; on EKS, security groups for pods take a SecurityGroupPolicy."""
    given = render(td({"name": "app", "image": "x", "memory": 64}, networkMode="awsvpc"),
                   svc(networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1", "sg-2"]}}))
    assert "security groups for pods need a SecurityGroupPolicy naming sg-1, sg-2" in text(given)
    none = render(td({"name": "app", "image": "x", "memory": 64}, networkMode="awsvpc"),
                  svc(networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "ENABLED"}}))
    assert ("no security group is given, so ECS uses the VPC's default one; pods have their node's security groups "
            "unless a SecurityGroupPolicy names others") in text(none)
    assert "SecurityGroupPolicy naming " not in text(none) and "assignPublicIp ENABLED: pods get no public IP" in text(none)


# --- scheduled tasks -----------------------------------------------------------------------------


def job(name, **spec):
    return Source("ScheduledTask", name, {"target": {"cluster": "prod", "taskDefinition": "app", **spec.pop("target", {})}, **spec})


def test_cron_schedule_becomes_a_cronjob():
    r = render(td({"name": "app", "image": "x", "memory": 64}),
               job("nightly", scheduleExpression="cron(30 1 ? * MON-FRI *)", scheduleExpressionTimezone="Europe/Paris", state="DISABLED",
                   target={"taskCount": 3}))
    (cron,) = objects(r, "CronJob")
    assert (cron["spec"]["schedule"], cron["spec"]["timeZone"], cron["spec"]["suspend"]) == ("30 1 * * 1-5", "Europe/Paris", True)
    spec = cron["spec"]["jobTemplate"]["spec"]
    assert (spec["parallelism"], spec["completions"], spec["backoffLimit"]) == (3, 3, 0)
    assert spec["template"]["spec"]["restartPolicy"] == "Never"


def test_run_task_overrides_are_applied_to_the_job_template():
    """EventBridge runs the target with RunTask and its ``overrides`` (ContainerOverride):
    ``command`` replaces the container's; ``environment`` replaces variables of the same name
    and adds the others; ``environmentFiles`` are used instead of the definition's; ``cpu``,
    ``memory``, ``memoryReservation`` and GPUs replace the container's; ``taskRoleArn`` is the
    role the task runs under (here the ServiceAccount's).  A secret-looking override value is
    referenced from a Secret, never written."""
    r = render(
        td({"name": "job", "image": "x", "cpu": 256, "memory": 512, "command": ["run"],
            "environment": [{"name": "MODE", "value": "slow"}, {"name": "KEEP", "value": "1"}],
            "environmentFiles": [{"value": "arn:aws:s3:::acme/job/base.env", "type": "s3"}]},
           {"name": "helper", "image": "y", "memory": 128, "command": ["help"]},
           taskRoleArn="arn:aws:iam::123456789012:role/job-readonly"),
        job("nightly", scheduleExpression="rate(1 day)", target={"overrides": {
            "taskRoleArn": "arn:aws:iam::123456789012:role/job-admin",
            "inferenceAcceleratorOverrides": [{"deviceName": "d", "deviceType": "eia2.medium"}],
            "containerOverrides": [{
                "name": "job", "command": ["run", "--fast"], "cpu": 512, "memory": 1024, "memoryReservation": 768,
                "resourceRequirements": [{"type": "GPU", "value": "1"}],
                "environment": [{"name": "MODE", "value": "fast"}, {"name": "NEW", "value": "2"},
                                {"name": "DB_PASSWORD", "value": SECRET_VALUE}],
                "environmentFiles": [{"value": "arn:aws:s3:::acme/job/override.env", "type": "s3"}]}]}}))
    spec = pod_of(r)
    c = container(spec, "job")
    assert c["args"] == ["run", "--fast"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in c["env"]}
    assert (env["MODE"], env["KEEP"], env["NEW"]) == ("fast", "1", "2")
    assert env["DB_PASSWORD"] == {"secretKeyRef": {"name": "nightly-env", "key": "DB_PASSWORD"}}
    assert [e["name"] for e in c["env"]].count("MODE") == 1
    assert c["envFrom"] == [{"configMapRef": {"name": "override"}}]
    assert c["resources"] == {"limits": {"memory": "1024Mi", "nvidia.com/gpu": 1}, "requests": {"cpu": "500m", "memory": "768Mi"}}
    assert container(spec, "helper")["args"] == ["help"]
    (account,) = objects(r, "ServiceAccount")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == "arn:aws:iam::123456789012:role/job-admin"
    assert "not translatable" not in text(r) and "inferenceAcceleratorOverrides (RunTask): no equivalent" in text(r)
    assert ("Secret 'nightly-env' key 'DB_PASSWORD': the value of DB_PASSWORD "
            "(plain text in the ECS task definition or the scheduled task's overrides)") in r.files[0].needs


def test_task_level_size_overrides_size_the_job():
    r = render(td({"name": "job", "image": "x"}, cpu="256", memory="512", networkMode="awsvpc", requiresCompatibilities=["FARGATE"]),
               job("big", scheduleExpression="rate(1 hour)", target={"launchType": "FARGATE", "overrides": {"cpu": "1024", "memory": "2048"}}))
    assert container(pod_of(r), "job")["resources"]["requests"] == {"cpu": "1", "memory": "2048Mi"}


def test_event_pattern_becomes_a_suspended_job_with_a_note():
    r = render(td({"name": "app", "image": "x", "memory": 64}), job("on-upload", eventPattern={"source": ["aws.s3"]}))
    (j,) = objects(r, "Job")
    assert j["spec"]["suspend"] is True
    assert 'EventBridge event pattern {"source":["aws.s3"]}' in text(r)


def test_what_cannot_be_scheduled_is_a_problem_and_renders_nothing():
    r = render(td({"name": "app", "image": "x", "memory": 64}), job("last-day", scheduleExpression="cron(0 0 L * ? *)"), svc())
    assert [(p.kind, p.name, p.path) for p in r.problems] == [("ScheduledTask", "last-day", ("scheduleExpression",))]
    assert "'L' (the last day of the month)" in r.problems[0].message
    assert [f.path for f in r.files] == ["app.yaml"]


def test_services_of_two_clusters_with_one_name_get_two_files():
    r = render(td({"name": "app", "image": "x", "memory": 64}), svc("app"), Source("Service", "app", {"cluster": "staging", "taskDefinition": "app"}))
    assert [f.path for f in r.files] == ["prod-app.yaml", "staging-app.yaml"]


def test_the_input_specs_are_not_changed():
    sources = [td({"name": "app", "image": "x", "memory": 64, "secrets": [{"name": "A", "valueFrom": "/a"}]}), svc(desiredCount=2)]
    before = copy.deepcopy([s.spec for s in sources])
    render(*sources)
    assert [s.spec for s in sources] == before


def test_module_doctests():
    import doctest

    from ecsctl.core.render import kubernetes
    from ecsctl.core.render.kubernetes import names, placement, run_overrides, workload_names, yaml_text

    for module in (kubernetes, names, placement, run_overrides, workload_names, yaml_text):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_ecsctl_extensions_are_not_rendered():
    r = render(Source("TaskDefinition", "app", {"x-ecsctl": {"runFor": "5m"}, "containerDefinitions": [
                   {"name": "app", "image": "x", "memory": 64, "x-ecsctl": {"exitCode": 1}}]}),
               job("run", scheduleExpression="rate(1 hour)", target={"x-ecsctl": {"runFor": "1m"}}))
    assert "x-ecsctl" not in "".join(f.text for f in r.files)
