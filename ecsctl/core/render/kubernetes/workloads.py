"""ECS services and scheduled tasks as Kubernetes workloads, with the objects around them.

    Service (REPLICA)         -> Deployment (+ Service per target group, HorizontalPodAutoscaler)
    Service (DAEMON)          -> DaemonSet (+ Service per target group)
    ScheduledTask cron/rate   -> CronJob
    ScheduledTask eventPattern-> Job, suspended, with a note on what should start it
    taskRoleArn               -> ServiceAccount (IAM roles for service accounts)
    EFS volume                -> PersistentVolume + PersistentVolumeClaim (EFS CSI driver)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ecsctl.core.events.target import task_count
from ecsctl.core.controller.service import launch_type
from ecsctl.core.render.kubernetes import placement, rollout
from ecsctl.core.render.kubernetes.names import Namer, dns_1035_label, dns_subdomain, is_label_key, label_value
from ecsctl.core.render.kubernetes.pod import PodInput, build_pod
from ecsctl.core.render.kubernetes.run_overrides import run_task_definition
from ecsctl.core.render.kubernetes.schedule import Untranslatable, kubernetes_schedule
from ecsctl.core.render.kubernetes.stack import Source, Stack
from ecsctl.core.render.kubernetes.workload_names import scheduled_task_claim, service_claims, workload_address, workload_names
from ecsctl.core.render.kubernetes.yaml_text import Items, Node
from ecsctl.core.rules.network.lookup import member_of, member_of_expressions
from ecsctl.core.rules.service.refs import as_dict, as_list, cluster_name, target_group_name

NAME_LABEL = "app.kubernetes.io/name"
CRONJOB_NAME_LIMIT = 52  # the Job controller appends an 11-character suffix
METRICS = {"ECSServiceAverageCPUUtilization": "cpu", "ECSServiceAverageMemoryUtilization": "memory"}
FARGATE_NOTE = ("Fargate: on EKS, pods run on Fargate when a Fargate profile selects their namespace and labels "
                "(e.g. eksctl create fargateprofile --namespace NAMESPACE --labels {selector}); EKS Fargate sizes each "
                "pod from its requests, rounded up to a Fargate size, and runs no DaemonSets, hostPort, hostNetwork or hostPath")

def _network_note(value) -> str:
    """What an awsvpc configuration becomes: pods take the nodes' subnets; security groups need a policy."""
    vpc = as_dict(as_dict(value).get("awsvpcConfiguration"))
    groups = ", ".join(map(str, as_list(vpc.get("securityGroups"))))
    text = "awsvpc subnets and security groups: pods take addresses from the nodes' subnets (Amazon VPC CNI); "
    if groups:
        text += f"security groups for pods need a SecurityGroupPolicy naming {groups}"
    else:
        text += ("no security group is given, so ECS uses the VPC's default one; pods have their node's security groups "
                 "unless a SecurityGroupPolicy names others")
    if vpc.get("assignPublicIp") == "ENABLED":
        text += "; assignPublicIp ENABLED: pods get no public IP address (reach them through a load balancer)"
    return text


SERVICE_DONE = frozenset({
    "cluster", "taskDefinition", "desiredCount", "launchType", "schedulingStrategy", "placementConstraints",
    "placementStrategy", "deploymentConfiguration", "loadBalancers", "autoScaling", "volumeConfigurations",
})
SERVICE_NOTES = {
    "networkConfiguration": lambda v: _network_note(v),
    "capacityProviderStrategy": lambda v: ("capacity providers: Kubernetes places pods on whatever nodes exist; Karpenter "
                                           "NodePools or managed node groups provide them"),
    "platformVersion": lambda v: f"platformVersion {v}: EKS Fargate has no platform version to choose",
    "healthCheckGracePeriodSeconds": lambda v: (f"healthCheckGracePeriodSeconds {v}: no equivalent; the startupProbe gives a new "
                                                "pod time before its other probes count"),
    "enableExecuteCommand": lambda v: "enableExecuteCommand: kubectl exec needs no setting (RBAC decides)",
    "propagateTags": lambda v: "propagateTags: AWS tags have no pod equivalent (labels are copied instead)",
    "enableECSManagedTags": lambda v: "enableECSManagedTags: no equivalent",
    "tags": lambda v: "tags: AWS resource tags have no equivalent (labels are copied instead)",
    "serviceRegistries": lambda v: "serviceRegistries (Cloud Map): the Kubernetes Service's DNS name plays that part",
    "serviceConnectConfiguration": lambda v: "Service Connect: the Kubernetes Service's DNS name plays that part",
    "role": lambda v: "role (the ECS service role): no equivalent",
    "deploymentController": lambda v: ("" if as_dict(v).get("type", "ECS") == "ECS" else
                                       f"deploymentController {as_dict(v).get('type')}: not translatable; the Deployment rolls "
                                       "out by itself (blue/green needs e.g. Argo Rollouts)"),
    "availabilityZoneRebalancing": lambda v: f"availabilityZoneRebalancing {v}: the scheduler places new pods only; the descheduler rebalances",
}
TARGET_DONE = frozenset({"cluster", "taskDefinition", "taskCount", "launchType", "placementConstraints", "placementStrategy",
                         "overrides"})
TARGET_NOTES = {
    "networkConfiguration": SERVICE_NOTES["networkConfiguration"],
    "capacityProviderStrategy": SERVICE_NOTES["capacityProviderStrategy"],
    "platformVersion": SERVICE_NOTES["platformVersion"],
    "inputTransformer": lambda v: ("inputTransformer: ECS gets the event's fields as task overrides; whatever creates the "
                                   "Job from the event must set them on it"),
    "group": lambda v: f"group {v}: no equivalent (labels group pods)",
    "propagateTags": SERVICE_NOTES["propagateTags"],
    "enableECSManagedTags": SERVICE_NOTES["enableECSManagedTags"],
    "enableExecuteCommand": SERVICE_NOTES["enableExecuteCommand"],
    "tags": SERVICE_NOTES["tags"],
}


@dataclass
class Workload:
    """One file's worth: the objects rendered from one service or scheduled task."""

    kind: str  # the ECS kind: Service or ScheduledTask
    name: str  # the ECS name
    kube_name: str  # the workload object's Kubernetes name
    objects: list = field(default_factory=list)
    needs: list = field(default_factory=list)
    header: list = field(default_factory=list)


@dataclass
class Problem:
    """What cannot be rendered: ``path`` is inside the source document's spec."""

    kind: str
    name: str
    path: tuple
    message: str


def labels_of(source: Source, selector: dict) -> tuple[dict, list[str]]:
    """The workload's labels: the selector, then the ECS labels Kubernetes takes as they are."""
    labels, notes = dict(selector), []
    for key, value in (source.labels or {}).items():
        if is_label_key(key) and label_value(value) == str(value):
            labels.setdefault(str(key), str(value))
        else:
            notes.append(f"label {key}={value} is not a valid Kubernetes label; left out")
    return labels, notes


def _metadata(name: str, labels: dict, notes=()) -> Node:
    meta = Node(name=name, labels=labels)
    for n in notes:
        meta.note("labels", n)
    return meta


def _template(selector: dict, labels: dict, pod) -> Node:
    meta = Node(labels=dict(labels))
    if pod.annotations:
        meta["annotations"] = dict(pod.annotations)
        meta.note("annotations", "the containers' Docker labels")
    return Node(metadata=meta, spec=pod.spec)


def _scheduling(spec: Node, constraints, strategies, td: dict, selector: dict, *, fargate: bool, spread: bool) -> None:
    """Affinity and topology spread from ECS placement, into a pod spec."""
    affinity = Node()
    expressions = member_of_expressions({"placementConstraints": constraints or []}, td)
    if expressions:
        terms, notes = placement.node_affinity(expressions)
        if terms:
            affinity["nodeAffinity"] = Node(requiredDuringSchedulingIgnoredDuringExecution=Node(nodeSelectorTerms=terms))
            for n in notes:
                affinity.note("nodeAffinity", n)
        else:
            for n in notes:
                spec.note("containers", n)
    if any(as_dict(c).get("type") == "distinctInstance" for c in as_list(constraints)):
        affinity.update(placement.anti_affinity(selector))
        affinity.note("podAntiAffinity", "ECS distinctInstance: every task on a different instance")
    if affinity:
        spec["affinity"] = affinity
    if spread:
        items, notes = placement.spread(strategies, selector, fargate=fargate)
        if items:
            spec["topologySpreadConstraints"] = items
            for n in notes:
                spec.note("topologySpreadConstraints", n)
        else:
            for n in notes:
                spec.note("containers", n)


def _launch_notes(meta: Node, spec: dict, fargate: bool, selector: dict) -> None:
    if fargate:
        meta.note("name", FARGATE_NOTE.format(selector=",".join(f"{k}={v}" for k, v in selector.items())))
    providers = [as_dict(i).get("capacityProvider") for i in as_list(spec.get("capacityProviderStrategy"))]
    if "FARGATE_SPOT" in providers:
        meta.note("name", "FARGATE_SPOT: EKS Fargate has no Spot capacity")
    if spec.get("launchType") == "EXTERNAL":
        meta.note("name", "launchType EXTERNAL (ECS Anywhere): run the pods on nodes of your own (EKS Anywhere or hybrid nodes)")


def _leftovers(meta: Node, spec: dict, done: frozenset, notes: dict, what: str) -> None:
    for key, value in spec.items():
        if key in done:
            continue
        text = notes[key](value) if key in notes else f"{what} {key}: no Kubernetes equivalent; not rendered"
        if text:
            meta.note("name", text)


class Renderer:
    """Translates the services and scheduled tasks of a :class:`Stack`."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.problems: list[Problem] = []
        services = stack.of("Service")
        claims = service_claims([(s.name, cluster_name(s.spec)) for s in services])
        for s in stack.of("ScheduledTask"):
            limit = CRONJOB_NAME_LIMIT if s.spec.get("scheduleExpression") else 63
            claims.append(scheduled_task_claim(s.name, cluster_name(as_dict(s.spec.get("target"))), limit))
        self._names = workload_names(claims)
        self._service_names = Namer(dns_1035_label)  # the Kubernetes Services of target groups
        self._storage_names = Namer(dns_subdomain)  # PersistentVolumes (cluster-wide) and their claims
        self._tg_users: dict[str, int] = {}
        for s in services:
            for lb in as_list(s.spec.get("loadBalancers")):
                ref = as_dict(lb).get("targetGroupArn")
                if isinstance(ref, str):
                    self._tg_users[target_group_name(ref)] = self._tg_users.get(target_group_name(ref), 0) + 1

    # -- services ------------------------------------------------------------------------------

    def _fargate(self, spec: dict) -> bool:
        cluster = self.stack.cluster_of(spec)
        return launch_type(spec, cluster.spec if cluster else None) == "FARGATE"

    def service(self, source: Source) -> Workload | None:
        spec = source.spec
        td_source = self.stack.task_definition(spec.get("taskDefinition"))
        if td_source is None:
            self.problems.append(Problem("Service", source.name, ("taskDefinition",),
                                         f"task definition '{spec.get('taskDefinition')}' is not among the manifests: nothing to render"))
            return None
        td = td_source.spec
        given = self._names[workload_address("Service", source.name, cluster_name(spec))]
        name = given.name
        selector = {NAME_LABEL: name}
        labels, label_notes = labels_of(source, selector)
        fargate = self._fargate(spec)
        daemon = spec.get("schedulingStrategy") == "DAEMON"
        pod = build_pod(td, PodInput(name, selector, self.stack, fargate=fargate, service=spec, storage_names=self._storage_names))
        _scheduling(pod.spec, spec.get("placementConstraints"), spec.get("placementStrategy") or None,
                    td, selector, fargate=fargate, spread=not daemon)
        meta = _metadata(name, labels, label_notes)
        if given.note:
            meta.note("name", f"ECS service '{source.name}': {given.note}")
        elif name != source.name:
            meta.note("name", f"ECS service '{source.name}' (Kubernetes names are lowercase DNS labels)")
        _launch_notes(meta, spec, fargate, selector)
        _leftovers(meta, spec, SERVICE_DONE, SERVICE_NOTES, "service")
        conf = as_dict(spec.get("deploymentConfiguration"))
        body = Node()
        hpa, scaling_notes = (None, []) if daemon else self._hpa(source, name, labels)
        if daemon:
            kind = "DaemonSet"
            m = conf.get("minimumHealthyPercent", 0)
            strategy, notes = rollout.daemon_update(self._daemon_nodes(spec, td), m if isinstance(m, int) else 0)
            body["selector"] = Node(matchLabels=dict(selector))
            body["updateStrategy"] = strategy
            for n in notes:
                body.note("updateStrategy", n)
            if fargate:
                meta.note("name", "a DaemonSet does not run on EKS Fargate")
        else:
            kind = "Deployment"
            desired = spec.get("desiredCount", 1)
            desired = desired if isinstance(desired, int) else 1
            m, big_m = conf.get("minimumHealthyPercent", 100), conf.get("maximumPercent", 200)
            strategy, notes = rollout.rolling_update(desired, m if isinstance(m, int) else 100,
                                                     big_m if isinstance(big_m, int) else 200, scaled=hpa is not None)
            body["replicas"] = desired
            if hpa is not None:
                body.note("replicas", "the HorizontalPodAutoscaler below moves the replica count from here, as Service Auto Scaling moves desiredCount")
            for n in scaling_notes:
                body.note("replicas", n)
            body["selector"] = Node(matchLabels=dict(selector))
            body["strategy"] = strategy
            for n in notes:
                body.note("strategy", n)
            breaker = as_dict(conf.get("deploymentCircuitBreaker"))
            if breaker.get("enable"):
                body["progressDeadlineSeconds"] = 600
                body.note("progressDeadlineSeconds", "deploymentCircuitBreaker: Kubernetes marks a rollout that makes no progress "
                          "for progressDeadlineSeconds as failed" + (", but never rolls back by itself (kubectl rollout undo)"
                                                                    if breaker.get("rollback") else ""))
            for key in ("alarms", "strategy", "bakeTimeInMinutes", "lifecycleHooks", "canaryConfiguration", "linearConfiguration"):
                if key in conf and not (key == "strategy" and conf[key] == "ROLLING"):
                    body.note("strategy", f"deploymentConfiguration.{key}: no equivalent in a Deployment")
        body["template"] = _template(selector, labels, pod)
        workload = Node(apiVersion="apps/v1", kind=kind, metadata=meta, spec=body)
        objects = list(pod.objects) + [workload] + self._services(source, name, labels, selector, td)
        if hpa is not None:
            objects.append(hpa)
        cluster = cluster_name(spec)
        header = [f"ECS service '{source.name}' (cluster '{cluster}', task definition '{td_source.name}') as a {kind}."]
        return Workload("Service", source.name, name, objects, pod.needs, header)

    def _daemon_nodes(self, spec: dict, td: dict) -> int | None:
        cluster = self.stack.cluster_of(spec)
        groups = [g for g in as_list((cluster.spec if cluster else {}).get("containerInstances")) if isinstance(g, dict)]
        if not groups:
            return None
        expressions = member_of_expressions(spec, td)
        return sum(g.get("count", 1) for g in groups if member_of(expressions, g) and isinstance(g.get("count", 1), int)) or None

    def _services(self, source: Source, name: str, labels: dict, selector: dict, td: dict) -> list[Node]:
        out = []
        for lb in as_list(source.spec.get("loadBalancers")):
            lb = as_dict(lb)
            tg = self.stack.target_group(lb.get("targetGroupArn"))
            if tg is None or not isinstance(lb.get("containerPort"), int):
                continue
            tg_spec = tg.spec
            shared = self._tg_users.get(tg.name, 0) > 1
            svc_name = self._service_names(f"{tg.name}-{name}" if shared else tg.name, key=(tg.name, name) if shared else tg.name)
            protocols = {"UDP": ["UDP"], "TCP_UDP": ["TCP", "UDP"]}.get(str(tg_spec.get("protocol")), ["TCP"])
            ports = Items()
            for proto in protocols:
                port = Node(port=tg_spec.get("port", lb["containerPort"]), targetPort=lb["containerPort"], protocol=proto)
                if len(protocols) > 1:
                    port = Node(name=proto.lower(), **port)
                if tg_spec.get("protocol") in ("HTTP", "HTTPS"):
                    port["appProtocol"] = str(tg_spec["protocol"]).lower()
                ports.append(port)
            meta = _metadata(svc_name, dict(labels))
            meta.note("name", self._ingress_note(tg, lb, svc_name))
            if shared:
                meta.note("name", f"target group '{tg.name}' serves several ECS services: one Kubernetes Service each")
            spec = Node(type="ClusterIP", selector=dict(selector), ports=ports)
            if tg_spec.get("targetType", "instance") == "instance":
                spec.note("type", "target type instance (bridge/host tasks): with pods, an ALB targets pod IPs (target-type ip)")
            out.append(Node(apiVersion="v1", kind="Service", metadata=meta, spec=spec))
        return out

    @staticmethod
    def _ingress_note(tg: Source, lb: dict, service: str) -> str:
        spec = tg.spec
        health = as_dict(spec.get("healthCheck"))
        annotations = ["alb.ingress.kubernetes.io/target-type: ip"]
        if health.get("path"):
            annotations.append(f"alb.ingress.kubernetes.io/healthcheck-path: {health['path']}")
        if health.get("intervalSeconds"):
            annotations.append(f"alb.ingress.kubernetes.io/healthcheck-interval-seconds: '{health['intervalSeconds']}'")
        if health.get("healthyThresholdCount"):
            annotations.append(f"alb.ingress.kubernetes.io/healthy-threshold-count: '{health['healthyThresholdCount']}'")
        if health.get("unhealthyThresholdCount"):
            annotations.append(f"alb.ingress.kubernetes.io/unhealthy-threshold-count: '{health['unhealthyThresholdCount']}'")
        if isinstance(health.get("matcher"), str):
            annotations.append(f"alb.ingress.kubernetes.io/success-codes: '{health['matcher']}'")
        if spec.get("deregistrationDelay") is not None:
            annotations.append("alb.ingress.kubernetes.io/target-group-attributes: "
                               f"deregistration_delay.timeout_seconds={spec['deregistrationDelay']}")
        if spec.get("securityGroups"):
            annotations.append(f"alb.ingress.kubernetes.io/security-groups: {', '.join(map(str, spec['securityGroups']))}")
        return (f"target group '{tg.name}' ({spec.get('protocol')} :{spec.get('port')}, {spec.get('targetType', 'instance')} targets). "
                "The load balancer itself is not in the manifests; with the AWS Load Balancer Controller an Ingress "
                f"(ingressClassName: alb) routes to this Service '{service}', with annotations " + "; ".join(annotations))

    def _hpa(self, source: Source, name: str, labels: dict) -> tuple[Node | None, list[str]]:
        """The HorizontalPodAutoscaler of the target tracking policies, or None and the notes on what has none."""
        scaling = as_dict(source.spec.get("autoScaling"))
        if not scaling:
            return None, []
        metrics = Items()
        notes: list[str] = []
        scale_in_disabled, out_cooldowns, in_cooldowns = [], [], []
        for policy in as_list(scaling.get("targetTracking")):
            policy = as_dict(policy)
            kind = as_dict(policy.get("predefinedMetricSpecification")).get("predefinedMetricType")
            resource = METRICS.get(kind)
            if resource is None:
                what = kind or "a customized metric"
                notes.append(f"target tracking '{policy.get('policyName')}' on {what}: not translatable without a metrics adapter "
                             "(External metric, e.g. KEDA)")
                continue
            target = policy.get("targetValue")
            value = round(target) if isinstance(target, (int, float)) else 50
            metrics.append(Node(type="Resource", resource=Node(name=resource, target=Node(type="Utilization", averageUtilization=value))))
            metrics.note(len(metrics) - 1, f"target tracking '{policy.get('policyName')}': {kind} at {target}"
                         + (" (Kubernetes takes a whole percentage)" if value != target else "")
                         + f"; Kubernetes measures {resource} against the containers' requests, ECS against the task's reservation")
            scale_in_disabled.append(policy.get("disableScaleIn") is True)
            out_cooldowns.append(policy.get("scaleOutCooldown"))
            in_cooldowns.append(policy.get("scaleInCooldown"))
        for policy in as_list(scaling.get("stepScaling")):
            notes.append(f"step scaling '{as_dict(policy).get('policyName')}' on a CloudWatch alarm: not translatable "
                         "(KEDA's CloudWatch scaler comes closest)")
        for action in as_list(scaling.get("scheduled")):
            action = as_dict(action)
            notes.append(f"scheduled scaling '{action.get('scheduledActionName')}' ({action.get('schedule')}): not translatable "
                         "(KEDA's cron scaler, or a CronJob that patches this autoscaler)")
        if not metrics:
            return None, notes + [f"autoScaling {scaling.get('minCapacity')}-{scaling.get('maxCapacity')} tasks: no policy "
                                  "Kubernetes can follow, so no HorizontalPodAutoscaler"]
        low, high = scaling.get("minCapacity", 1), scaling.get("maxCapacity", 1)
        spec = Node(scaleTargetRef=Node(apiVersion="apps/v1", kind="Deployment", name=name),
                    minReplicas=max(1, low), maxReplicas=max(1, high, low))
        if low < 1:
            spec.note("minReplicas", f"minCapacity {low}: a HorizontalPodAutoscaler scales down to 1 (0 needs the HPAScaleToZero feature gate)")
        spec["metrics"] = metrics
        behavior = Node()
        if any(isinstance(c, int) for c in out_cooldowns):
            behavior["scaleUp"] = Node(stabilizationWindowSeconds=max(c for c in out_cooldowns if isinstance(c, int)))
            behavior.note("scaleUp", "scaleOutCooldown as a stabilization window: close, not the same (a cooldown waits after "
                                     "scaling, a window looks back over recommendations)")
        scale_down = Node()
        if any(isinstance(c, int) for c in in_cooldowns):
            scale_down["stabilizationWindowSeconds"] = max(c for c in in_cooldowns if isinstance(c, int))
            behavior.note("scaleDown", "scaleInCooldown as a stabilization window (not the same, see scaleUp)")
        if scale_in_disabled and all(scale_in_disabled):
            scale_down["selectPolicy"] = "Disabled"
        elif any(scale_in_disabled):
            behavior.note("scaleDown", "disableScaleIn is set on some target tracking policies only; Kubernetes has one scale-down for all")
        if scale_down:
            behavior["scaleDown"] = scale_down
        if behavior:
            spec["behavior"] = behavior
        for n in notes:
            spec.note("metrics", n)
        if len(metrics) > 1:
            spec.note("metrics", "several metrics: Kubernetes takes the largest recommendation, as Application Auto Scaling "
                                 "scales out on any policy")
        return Node(apiVersion="autoscaling/v2", kind="HorizontalPodAutoscaler", metadata=_metadata(name, dict(labels)), spec=spec), []

    # -- scheduled tasks -------------------------------------------------------------------------

    def scheduled_task(self, source: Source) -> Workload | None:
        spec = source.spec
        target = as_dict(spec.get("target"))
        td_source = self.stack.task_definition(target.get("taskDefinition"))
        if td_source is None:
            self.problems.append(Problem("ScheduledTask", source.name, ("target", "taskDefinition"),
                                         f"task definition '{target.get('taskDefinition')}' is not among the manifests: nothing to render"))
            return None
        td, override_notes = run_task_definition(td_source.spec, target.get("overrides"))
        overridden = bool(as_dict(target.get("overrides")))
        schedule, schedule_notes = None, []
        if spec.get("scheduleExpression"):
            try:
                schedule, schedule_notes = kubernetes_schedule(spec["scheduleExpression"])
            except Untranslatable as exc:
                self.problems.append(Problem("ScheduledTask", source.name, ("scheduleExpression",),
                                             f"cannot be a Kubernetes CronJob: {exc}"))
                return None
        given = self._names[workload_address("ScheduledTask", source.name, cluster_name(target))]
        name = given.name
        selector = {NAME_LABEL: name}
        labels, label_notes = labels_of(source, selector)
        fargate = self._fargate(target)
        plain_text = "the ECS task definition or the scheduled task's overrides" if overridden else PodInput.plain_text
        pod = build_pod(td, PodInput(name, selector, self.stack, fargate=fargate, job=True, storage_names=self._storage_names,
                                     plain_text=plain_text))
        _scheduling(pod.spec, target.get("placementConstraints"), target.get("placementStrategy"), td, selector,
                    fargate=False, spread=bool(target.get("placementStrategy")))
        count = task_count(target)
        job = Node()
        if count != 1:
            job["parallelism"] = count
            job["completions"] = count
            job.note("parallelism", f"taskCount {count}: that many tasks at once, each on its own")
        job["backoffLimit"] = 0
        job.note("backoffLimit", "ECS does not rerun a task that fails")
        job["template"] = _template(selector, labels, pod)
        meta = _metadata(name, labels, label_notes)
        if given.note:
            meta.note("name", f"ECS scheduled task '{source.name}': {given.note}")
        elif name != source.name:
            meta.note("name", f"ECS scheduled task '{source.name}' (Kubernetes names are lowercase DNS labels"
                              + (", at most 52 characters for a CronJob)" if schedule else ")"))
        if spec.get("description"):
            meta.note("name", f"description: {spec['description']}")
        _launch_notes(meta, target, fargate, selector)
        _leftovers(meta, target, TARGET_DONE, TARGET_NOTES, "target")
        for n in override_notes:
            meta.note("name", n)
        if schedule:
            body = Node(schedule=schedule)
            for n in schedule_notes:
                body.note("schedule", n)
            if spec.get("scheduleExpressionTimezone"):
                body["timeZone"] = str(spec["scheduleExpressionTimezone"])
            if spec.get("state") == "DISABLED":
                body["suspend"] = True
            body["concurrencyPolicy"] = "Allow"
            body.note("concurrencyPolicy", "EventBridge starts a task on schedule whether or not the last one still runs")
            body["jobTemplate"] = Node(metadata=Node(labels=dict(labels)), spec=job)
            obj = Node(apiVersion="batch/v1", kind="CronJob", metadata=meta, spec=body)
            kind = "CronJob"
        else:
            job["suspend"] = True
            pattern = json.dumps(spec.get("eventPattern"), sort_keys=True, separators=(",", ":"))
            job.note("suspend", f"EventBridge event pattern {pattern}: Kubernetes has no event trigger; have the event source "
                                "create a Job from this template (e.g. Argo Events, or KEDA ScaledJob on an SQS queue the "
                                "rule feeds). Suspended, so applying it runs nothing")
            obj = Node(apiVersion="batch/v1", kind="Job", metadata=meta, spec=job)
            kind = "Job"
        header = [f"ECS scheduled task '{source.name}' (cluster '{cluster_name(target)}', task definition '{td_source.name}"
                  + ("', with the target's RunTask overrides" if overridden else "'") + f") as a {kind}."]
        return Workload("ScheduledTask", source.name, name, list(pod.objects) + [obj], pod.needs, header)
