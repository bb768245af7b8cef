"""The AWS backend: plan steps applied to real Amazon ECS through boto3.

A step runs in two phases, so that independent steps can run concurrently
(``ecsctl.app.executor``) while the state is written from one thread only:

* ``perform(step)`` makes the API calls (thread-safe: it touches no state) and returns what it did;
* ``commit(step, outcome)`` records the last-applied spec in the state, in one transaction
  (``put_resource`` / ``delete_resource``), exactly as the local backend does.

``apply_step(step)`` is both, for callers that run steps one by one.

Kinds and calls:

    TaskDefinition  RegisterTaskDefinition, unless the family's latest ACTIVE revision already has
                    the identical canonical spec (a re-applied step registers nothing);
                    delete: DeregisterTaskDefinition of every ACTIVE revision of the family
    Service         CreateService / UpdateService (deployment configuration, circuit breaker,
                    placement, capacity provider strategy, load balancers, network configuration;
                    desiredCount only when the manifest changed it), TagResource/UntagResource;
                    ``autoScaling``: RegisterScalableTarget, PutScalingPolicy (+ CloudWatch
                    PutMetricAlarm for a step policy's alarm), PutScheduledAction, and the
                    matching deletes; delete: DeregisterScalableTarget, DeleteService(force)
    Cluster         CreateCluster, UpdateCluster, PutClusterCapacityProviders, DeleteCluster;
                    ``containerInstances`` groups belong to the simulation (real instances come
                    from EC2 / Auto Scaling groups) and are only compared in drift
    CapacityProvider CreateCapacityProvider / UpdateCapacityProvider / DeleteCapacityProvider for the
                    Auto Scaling group *named like the capacity provider* (ecsctl creates no ASG)
    ScheduledTask   EventBridge PutRule + PutTargets (ECS target with its role); a schedule with a
                    time zone other than UTC, or ``at()``, which rules cannot express, is an
                    EventBridge Scheduler schedule (CreateSchedule / UpdateSchedule) instead
    Parameter, Secret, EnvironmentFile, Repository, TargetGroup
                    checked for existence only (see ``catalogue.py``)

A resource that exists in AWS but not in the state is never overwritten silently: a create step
that finds it fails with one line, unless the backend was made with ``adopt=True``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from ecsctl.backends.aws import catalogue
from ecsctl.backends.aws.session import Aws, AwsError, paged
from ecsctl.core.aws import shapes
from ecsctl.core.normalize import canonical
from ecsctl.core.plan.model import Step
from ecsctl.errors import InputError

DEFAULT_PARALLELISM = 4


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``perform`` did: one line per call that changed something (empty: nothing to do)."""

    did: tuple[str, ...] = ()


class AwsBackend:
    name = "aws"

    def __init__(self, store, aws: Aws, *, adopt: bool = False, events_role: str | None = None,
                 parallelism: int = DEFAULT_PARALLELISM, sleep: Callable[[float], None] | None = None) -> None:
        self.store = store
        self.aws = aws
        self.adopt = adopt
        self.events_role = events_role
        self.parallelism = max(1, int(parallelism))
        self._sleep = sleep

    # -- the executor's protocol ----------------------------------------------------------

    def apply_step(self, step: Step) -> Outcome:
        outcome = self.perform(step)
        self.commit(step, outcome)
        return outcome

    def perform(self, step: Step) -> Outcome:
        if step.action not in ("create", "update", "replace", "delete"):
            raise InputError(f"{step.address}: the AWS backend cannot {step.action!r} a step")
        if step.action != "delete" and step.spec is None:
            raise InputError(f"{step.address}: a {step.action} step needs a spec")
        handler = _HANDLERS.get(step.kind)
        if handler is None:
            if step.kind in catalogue.KINDS:
                return self._catalogue(step)
            raise InputError(f"{step.address}: the AWS backend does not know kind {step.kind!r}")
        if step.action == "replace":
            first = handler(self, replace(step, action="delete", spec=None))
            second = handler(self, replace(step, action="create", before=None))
            return Outcome(first.did + second.did)
        return handler(self, step)

    def commit(self, step: Step, outcome: Outcome | None = None) -> None:
        with self.store.transaction():
            if step.action == "delete":
                self.store.delete_resource(step.address)
            else:
                if step.action == "create" and self.store.get_resource(step.address) is not None:
                    # created again after it was deleted in AWS: the same spec, but the state moved
                    # on (its serial, so a saved plan of the re-creation cannot be applied twice)
                    source = self.store.sources().get(step.address)
                    self.store.delete_resource(step.address)
                    if source is not None:
                        self.store.put_sources({step.address: source})
                self.store.put_resource(step.address, step.kind, step.name, step.spec)

    def reconcile(self, cluster: str) -> None:
        """ECS's own service scheduler replaces lost tasks; nothing to do from here."""

    # -- helpers ---------------------------------------------------------------------------

    def call(self, service: str, operation: str, address: str, /, **params) -> dict:
        return self.aws.call(service, operation, address, **params)

    def _exists_unmanaged(self, step: Step, what: str) -> None:
        if not self.adopt:
            raise AwsError(f"{step.address}: {what} already exists in AWS but not in the state; ecsctl will not "
                           "overwrite it: pass --adopt to take it over (its current settings become the starting "
                           "point), or `ecsctl import` it first")

    # -- catalogue -------------------------------------------------------------------------

    def _catalogue(self, step: Step) -> Outcome:
        if step.action == "delete":
            return Outcome()  # never deleted: only forgotten by commit()
        why = catalogue.missing(self.aws, step.kind, step.name, step.spec or {}, step.address)
        if why:
            raise AwsError(f"{step.address}: {why}; ecsctl only checks {step.kind} resources on AWS, "
                           "create it with the tooling that owns it")
        return Outcome((f"checked {step.kind} {step.name}",))

    # -- task definitions ------------------------------------------------------------------

    def latest_task_definition(self, family: str, address: str) -> dict | None:
        try:
            answer = self.call("ecs", "DescribeTaskDefinition", address, taskDefinition=family, include=["TAGS"])
        except AwsError as exc:
            if exc.code in ("ClientException", "InvalidParameterException"):
                return None  # "Unable to describe task definition."
            raise
        td = answer.get("taskDefinition") or {}
        if td.get("status") != "ACTIVE":
            return None
        return {"taskDefinition": td, "tags": answer.get("tags") or []}

    def _task_definition(self, step: Step) -> Outcome:
        family = str((step.spec or step.before or {}).get("family") or step.name)
        if step.action == "delete":
            return Outcome(tuple(self._deregister_family(family, step.address)))
        latest = self.latest_task_definition(family, step.address)
        if latest is not None:
            live = canonical("TaskDefinition", step.name, shapes.spec_from_task_definition(latest["taskDefinition"], latest["tags"]))
            if step.action == "create":
                self._exists_unmanaged(step, f"task definition family {family!r} (revision {latest['taskDefinition'].get('revision')})")
            if live == step.spec:
                return Outcome()  # identical: never registered again
        answer = self.call("ecs", "RegisterTaskDefinition", step.address,
                           **shapes.request_register_task_definition(step.spec or {}))
        td = answer["taskDefinition"]
        return Outcome((f"registered {td['family']}:{td['revision']}",))

    def _deregister_family(self, family: str, address: str) -> list[str]:
        did = []
        for arn in self.active_revisions(family, address):
            self.call("ecs", "DeregisterTaskDefinition", address, taskDefinition=arn)
            did.append(f"deregistered {shapes.taskdef_ref(arn)}")
        return did

    def active_revisions(self, family: str, address: str) -> list[str]:
        arns = paged(self.aws, "ecs", "ListTaskDefinitions", "taskDefinitionArns", address, familyPrefix=family,
                     status="ACTIVE")
        return [a for a in arns if shapes.taskdef_ref(a).split(":")[0] == family]

    # -- services --------------------------------------------------------------------------

    def describe_service(self, cluster: str, name: str, address: str) -> dict | None:
        answer = self.call("ecs", "DescribeServices", address, cluster=cluster, services=[name], include=["TAGS"])
        for s in answer.get("services", []):
            if s.get("status") in ("ACTIVE", "DRAINING"):
                return s
        return None

    def _service(self, step: Step) -> Outcome:
        spec = step.spec or {}
        cluster = str((spec or step.before or {}).get("cluster") or step.address.split("/")[1])
        if step.action == "delete":
            return self._delete_service(step, cluster)
        current = self.describe_service(cluster, step.name, step.address)
        did: list[str] = []
        if step.action == "create" and current is not None:
            if current.get("status") == "DRAINING":
                self._wait_inactive(cluster, step.name, step.address)
                current = None
            else:
                self._exists_unmanaged(step, f"service {step.name!r} in cluster {cluster!r}")
        spec = self._pinned(spec, step.address)
        if current is None:
            answer = self.call("ecs", "CreateService", step.address, **shapes.request_create_service(step.name, spec))
            did.append(f"created service {step.name} ({shapes.taskdef_ref(answer['service'].get('taskDefinition', ''))})")
            before_auto = None
        else:
            before = step.before
            if before is None:  # adopted: start from what AWS has
                before = canonical("Service", step.name, shapes.spec_from_service(current))
            request = shapes.request_update_service(step.name, spec, before)
            redeploy = shapes.failed_deployment_of(current, str(spec.get("taskDefinition") or ""))
            if redeploy:
                request["forceNewDeployment"] = True
            self.call("ecs", "UpdateService", step.address, **request)
            did.append(f"updated service {step.name}" + (" (a new deployment of the revision whose deployment failed)"
                                                          if redeploy else ""))
            did += self._sync_tags(current.get("serviceArn", ""), current.get("tags") or [], spec.get("tags") or [], step.address)
            before_auto = (before or {}).get("autoScaling") if step.before is not None else self._live_auto_scaling(cluster, step.name, step.address)
        did += self._sync_auto_scaling(cluster, step.name, before_auto, spec.get("autoScaling"), step.address)
        return Outcome(tuple(did))

    def _pinned(self, spec: dict, address: str) -> dict:
        """A service that follows its family gets the family's latest ACTIVE revision, named exactly."""
        ref = str(spec.get("taskDefinition") or "")
        if not ref or ":" in ref:
            return spec
        latest = self.latest_task_definition(ref, address)
        if latest is None:
            raise AwsError(f"{address}: task definition family {ref!r} has no ACTIVE revision in {self.aws.region}")
        return {**spec, "taskDefinition": latest["taskDefinition"]["taskDefinitionArn"]}

    def _live_auto_scaling(self, cluster: str, name: str, address: str) -> dict | None:
        from ecsctl.backends.aws.live import read_auto_scaling

        return read_auto_scaling(self.aws, cluster, name, address)

    def _delete_service(self, step: Step, cluster: str) -> Outcome:
        did: list[str] = []
        if (step.before or {}).get("autoScaling"):
            did += self._sync_auto_scaling(cluster, step.name, step.before["autoScaling"], None, step.address)
        current = self.describe_service(cluster, step.name, step.address)
        if current is None or current.get("status") != "ACTIVE":
            return Outcome(tuple(did))
        self.call("ecs", "DeleteService", step.address, cluster=cluster, service=step.name, force=True)
        did.append(f"deleted service {step.name}")
        return Outcome(tuple(did))

    def _wait_inactive(self, cluster: str, name: str, address: str, attempts: int = 40, delay: float = 15.0) -> None:
        import time

        sleep = self._sleep or time.sleep
        for _ in range(attempts):
            if self.describe_service(cluster, name, address) is None:
                return
            sleep(delay)
        raise AwsError(f"{address}: the old service {name!r} is still DRAINING after {int(attempts * delay)} s; "
                       "ECS cannot create a service of the same name until it is INACTIVE: run apply again later")

    def _sync_tags(self, arn: str, have: list, want: list, address: str) -> list[str]:
        have_map = {t.get("key"): t.get("value") for t in have}
        want_map = {t.get("key"): t.get("value") for t in want}
        did = []
        gone = [k for k in have_map if k not in want_map]
        if gone:
            self.call("ecs", "UntagResource", address, resourceArn=arn, tagKeys=gone)
            did.append(f"untagged {', '.join(gone)}")
        changed = [{"key": k, "value": v} for k, v in want_map.items() if have_map.get(k) != v]
        if changed:
            self.call("ecs", "TagResource", address, resourceArn=arn, tags=changed)
            did.append(f"tagged {', '.join(t['key'] for t in changed)}")
        return did

    def _sync_auto_scaling(self, cluster: str, service: str, before: dict | None, after: dict | None, address: str) -> list[str]:
        resource = shapes.scaling_resource_id(cluster, service)
        did: list[str] = []
        aas = "application-autoscaling"
        base = {"ServiceNamespace": "ecs", "ResourceId": resource, "ScalableDimension": shapes.SCALABLE_DIMENSION}
        if not after:
            if before:
                names = [shapes.alarm_name(cluster, service, p["policyName"]) for p in before.get("stepScaling") or ()]
                if names:
                    self.call("cloudwatch", "DeleteAlarms", address, AlarmNames=names)
                try:
                    self.call(aas, "DeregisterScalableTarget", address, **base)
                except AwsError as exc:
                    if exc.code != "ObjectNotFoundException":
                        raise
                did.append("deregistered the scalable target")
            return did
        if before == after:
            return did
        self.call(aas, "RegisterScalableTarget", address, **shapes.request_scalable_target(cluster, service, after))
        did.append(f"scalable target {after['minCapacity']}..{after['maxCapacity']}")
        before = before or {}
        for policy in after.get("targetTracking") or ():
            self.call(aas, "PutScalingPolicy", address, **shapes.request_target_tracking(cluster, service, policy))
            did.append(f"target tracking policy {policy['policyName']}")
        for policy in after.get("stepScaling") or ():
            answer = self.call(aas, "PutScalingPolicy", address, **shapes.request_step_scaling(cluster, service, policy))
            did.append(f"step scaling policy {policy['policyName']}")
            alarm = shapes.request_alarm(cluster, service, policy, answer["PolicyARN"])
            if alarm:
                self.call("cloudwatch", "PutMetricAlarm", address, **alarm)
        for action in after.get("scheduled") or ():
            self.call(aas, "PutScheduledAction", address, **shapes.request_scheduled_action(cluster, service, action))
            did.append(f"scheduled action {action['scheduledActionName']}")
        kept = {p["policyName"] for key in ("targetTracking", "stepScaling") for p in after.get(key) or ()}
        for key in ("targetTracking", "stepScaling"):
            for policy in before.get(key) or ():
                if policy["policyName"] not in kept:
                    self.call(aas, "DeleteScalingPolicy", address, PolicyName=policy["policyName"], **base)
                    if key == "stepScaling":
                        self.call("cloudwatch", "DeleteAlarms", address,
                                  AlarmNames=[shapes.alarm_name(cluster, service, policy["policyName"])])
                    did.append(f"deleted policy {policy['policyName']}")
        actions = {a["scheduledActionName"] for a in after.get("scheduled") or ()}
        for action in before.get("scheduled") or ():
            if action["scheduledActionName"] not in actions:
                self.call(aas, "DeleteScheduledAction", address, ScheduledActionName=action["scheduledActionName"], **base)
                did.append(f"deleted scheduled action {action['scheduledActionName']}")
        return did

    # -- clusters --------------------------------------------------------------------------

    def describe_cluster(self, name: str, address: str) -> dict | None:
        answer = self.call("ecs", "DescribeClusters", address, clusters=[name],
                           include=["SETTINGS", "CONFIGURATIONS", "TAGS"])
        for c in answer.get("clusters", []):
            if c.get("status") in ("ACTIVE", "PROVISIONING"):
                return c
        return None

    def _cluster(self, step: Step) -> Outcome:
        spec = step.spec or {}
        if step.action == "delete":
            if self.describe_cluster(step.name, step.address) is None:
                return Outcome()
            self.call("ecs", "DeleteCluster", step.address, cluster=step.name)
            return Outcome((f"deleted cluster {step.name}",))
        current = self.describe_cluster(step.name, step.address)
        if current is None:
            self.call("ecs", "CreateCluster", step.address, **shapes.request_create_cluster(step.name, spec))
            return Outcome((f"created cluster {step.name}",))
        if step.action == "create":
            self._exists_unmanaged(step, f"cluster {step.name!r}")
        did = []
        update = shapes.request_update_cluster(step.name, spec)
        if len(update) > 1:
            self.call("ecs", "UpdateCluster", step.address, **update)
            did.append(f"updated cluster {step.name}")
        self.call("ecs", "PutClusterCapacityProviders", step.address,
                  **shapes.request_put_cluster_capacity_providers(step.name, spec))
        did.append("capacity providers " + (", ".join(spec.get("capacityProviders") or ()) or "none"))
        did += self._sync_tags(current.get("clusterArn", ""), current.get("tags") or [], spec.get("tags") or [], step.address)
        return Outcome(tuple(did))

    # -- capacity providers ----------------------------------------------------------------

    def _capacity_provider(self, step: Step) -> Outcome:
        if step.action == "delete":
            self.call("ecs", "DeleteCapacityProvider", step.address, capacityProvider=step.name)
            return Outcome((f"deleted capacity provider {step.name}",))
        answer = self.call("ecs", "DescribeCapacityProviders", step.address, capacityProviders=[step.name])
        exists = any(p.get("status") == "ACTIVE" for p in answer.get("capacityProviders", []))
        spec = step.spec or {}
        if exists:
            if step.action == "create":
                self._exists_unmanaged(step, f"capacity provider {step.name!r}")
            self.call("ecs", "UpdateCapacityProvider", step.address,
                      **shapes.request_capacity_provider(step.name, spec, "", create=False))
            return Outcome((f"updated capacity provider {step.name}",))
        groups = self.call("autoscaling", "DescribeAutoScalingGroups", step.address,
                           AutoScalingGroupNames=[step.name]).get("AutoScalingGroups", [])
        if not groups:
            raise AwsError(f"{step.address}: CreateCapacityProvider needs an Auto Scaling group and none is named "
                           f"{step.name!r} in {self.aws.region}; ecsctl does not create Auto Scaling groups")
        self.call("ecs", "CreateCapacityProvider", step.address,
                  **shapes.request_capacity_provider(step.name, spec, groups[0]["AutoScalingGroupARN"], create=True))
        return Outcome((f"created capacity provider {step.name}",))

    # -- scheduled tasks -------------------------------------------------------------------

    def events_role_arn(self, address: str) -> str:
        role = self.events_role or shapes.DEFAULT_EVENTS_ROLE
        if not role.startswith("arn:"):
            role_name = role
            role = f"arn:aws:iam::{self.aws.account}:role/{role}"
        else:
            role_name = role.rsplit("/", 1)[-1]
        try:
            self.call("iam", "GetRole", address, RoleName=role_name)
        except AwsError as exc:
            if exc.code == "NoSuchEntity":
                raise AwsError(f"{address}: the role {role} that EventBridge runs the task with does not exist: create it "
                               "(trusted by events.amazonaws.com and scheduler.amazonaws.com, allowed ecs:RunTask and "
                               "iam:PassRole) or name another with --events-role", exc.code) from None
            if exc.code not in ("AccessDenied", "AccessDeniedException"):
                raise  # without iam:GetRole the role cannot be checked: EventBridge will say
        return role

    def _scheduled_task(self, step: Step) -> Outcome:
        spec = step.spec or {}
        if step.action == "delete":
            return Outcome(tuple(self._delete_schedule(step.name, step.before or {}, step.address)))
        target = spec.get("target") or {}
        cluster = self.describe_cluster(str(target.get("cluster") or "default"), step.address)
        if cluster is None:
            raise AwsError(f"{step.address}: the target cluster {target.get('cluster')!r} does not exist in {self.aws.region}")
        ref = str(target.get("taskDefinition"))
        latest = self.latest_task_definition(ref, step.address)
        if latest is None:
            raise AwsError(f"{step.address}: the target task definition {ref!r} has no ACTIVE revision in {self.aws.region}")
        arn = latest["taskDefinition"]["taskDefinitionArn"]
        if ":" not in ref:  # follow the family: EventBridge runs its latest ACTIVE revision
            arn = arn.rsplit(":", 1)[0]
        role = self.events_role_arn(step.address)
        did = []
        if step.action == "create" and self._schedule_exists(step.name, spec, step.address):
            self._exists_unmanaged(step, f"EventBridge schedule or rule {step.name!r}")
        if step.before and shapes.uses_scheduler(step.before) != shapes.uses_scheduler(spec):
            did += self._delete_schedule(step.name, step.before, step.address)
        if shapes.uses_scheduler(spec):
            request = shapes.request_schedule(step.name, spec, cluster["clusterArn"], arn, role)
            try:
                self.call("scheduler", "GetSchedule", step.address, Name=step.name)
                self.call("scheduler", "UpdateSchedule", step.address, **request)
            except AwsError as exc:
                if exc.code != "ResourceNotFoundException":
                    raise
                self.call("scheduler", "CreateSchedule", step.address, **request)
            did.append(f"EventBridge Scheduler schedule {step.name}")
        else:
            self.call("events", "PutRule", step.address, **shapes.request_put_rule(step.name, spec))
            self.call("events", "PutTargets", step.address,
                      **shapes.request_put_targets(step.name, spec, cluster["clusterArn"], arn, role))
            did.append(f"EventBridge rule {step.name} -> ECS task {shapes.taskdef_ref(arn)}")
        return Outcome(tuple(did))

    def _schedule_exists(self, name: str, spec: dict, address: str) -> bool:
        try:
            if shapes.uses_scheduler(spec):
                self.call("scheduler", "GetSchedule", address, Name=name)
            else:
                self.call("events", "DescribeRule", address, Name=name)
            return True
        except AwsError as exc:
            if exc.code == "ResourceNotFoundException":
                return False
            raise

    def _delete_schedule(self, name: str, before: dict, address: str) -> list[str]:
        try:
            if shapes.uses_scheduler(before):
                self.call("scheduler", "DeleteSchedule", address, Name=name)
                return [f"deleted schedule {name}"]
            ids = [t["Id"] for t in self.call("events", "ListTargetsByRule", address, Rule=name).get("Targets", [])]
            if ids:
                self.call("events", "RemoveTargets", address, Rule=name, Ids=ids)
            self.call("events", "DeleteRule", address, Name=name)
            return [f"deleted rule {name}"]
        except AwsError as exc:
            if exc.code == "ResourceNotFoundException":
                return []
            raise


_HANDLERS = {
    "TaskDefinition": AwsBackend._task_definition,
    "Service": AwsBackend._service,
    "Cluster": AwsBackend._cluster,
    "CapacityProvider": AwsBackend._capacity_provider,
    "ScheduledTask": AwsBackend._scheduled_task,
}


def describe(outcome: Outcome) -> str:
    return "; ".join(outcome.did) if outcome.did else "nothing to change"


__all__ = ["AwsBackend", "Outcome", "describe"]
