"""Target health in the simulation: a task its load balancer cannot reach fails its health checks.

The load balancer's security groups (``TargetGroup.securityGroups``) must reach the task's
target through the groups in front of it: the instance's (``Cluster.containerInstances[].
securityGroups`` of the task's instance group) for ``bridge`` and ``host`` tasks, the task's own
(the service's ``awsvpcConfiguration.securityGroups``) for ``awsvpc`` ones
(``core.network.target_health``).  When a path is closed the target never passes its health
checks, and ECS stops the task with ``Task failed ELB health checks in (target-group …)`` and
starts another (ecs-semantics §5.2, §5.5); the deployment circuit breaker counts each one.

Nothing is judged unless the run declares ``SecurityGroup`` documents, and a group that no
document describes is taken to admit everything (it lives outside what ecsctl manages).  A
:class:`Judge` remembers its verdicts for one settle: the documents do not change inside one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecsctl.backends.local.world import ClusterState, World
from ecsctl.core.controller import service as model
from ecsctl.core.controller.ids import ec2_instance_id
from ecsctl.core.network.security_groups import GroupIndex
from ecsctl.core.network.target_health import blocks, container_mapping, instance_target, task_target
from ecsctl.core.state.ports import Service, Task

HEALTH_REASON = "Task failed ELB health checks in (target-group {target_group})"
UNHEALTHY_CAUSE = "Request timed out"  # what a closed security group looks like to the health checker


@dataclass(frozen=True)
class Unhealthy:
    """Why a task's target fails its health checks, and the rule that would open the path."""

    target_group: str  # as the service names it (ARN or name)
    name: str          # the target group's short name
    detail: str        # "the security groups of … do not admit the load balancer's group … on …"
    fix: str           # "allow tcp 32768–61000 from sg-alb on sg-instances"

    @property
    def stopped_reason(self) -> str:
        return HEALTH_REASON.format(target_group=self.target_group)

    @property
    def reason(self) -> str:
        """Why, as the plan shows it (the target group by its short name)."""
        return f"{HEALTH_REASON.format(target_group=self.name)}: {self.detail}"


class Judge:
    """Verdicts on tasks' targets, remembered per service, revision and instance group."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._index: GroupIndex | None = None
        self._memo: dict[tuple[str, str, str | None], Unhealthy | None] = {}

    def index(self) -> GroupIndex:
        if self._index is None:
            self._index = GroupIndex((name, entry.spec or {}) for name, entry in
                                     sorted(self.world.catalogue("SecurityGroup").items()))
        return self._index

    def may_fail(self, svc: Service) -> bool:
        """Whether any task of ``svc`` can fail a health check (it has a load balancer, and
        security groups are declared); when not, every verdict is None."""
        return bool(model.load_balancers(svc.spec)) and bool(self.index())

    def verdict(self, cs: ClusterState, svc: Service, task: Task) -> Unhealthy | None:
        """Why ``task`` of ``svc`` fails its load balancer's health checks, or None if it passes."""
        balancers = model.load_balancers(svc.spec)
        if not balancers or not self.index():
            return None
        inst = cs.instances.get(task.instance_id) if task.instance_id else None
        group = inst.group_name if inst is not None else None
        key = (svc.name, task.task_definition, group)
        if key not in self._memo:
            self._memo[key] = self._judge(cs, svc, task.task_definition, group, balancers)
        return self._memo[key]

    def _judge(self, cs: ClusterState, svc: Service, ref: str, group: str | None,
               balancers: list[model.LoadBalancer]) -> Unhealthy | None:
        revision = self.world.revision(ref)
        if revision is None:
            return None
        td = revision.spec or {}
        for lb in balancers:
            entry = self.world.catalogue_entry("TargetGroup", lb.target_group)
            tg = (entry.spec if entry is not None else None) or {}
            lb_refs = tuple(g for g in tg.get("securityGroups") or () if isinstance(g, str))
            mapping = container_mapping(td, lb.container, lb.container_port)
            if not lb_refs or mapping is None:
                continue
            target = task_target(td, mapping, tg, tuple(model.security_groups(svc.spec)))
            if target is None and group is not None:
                target = instance_target(td, mapping, tg, self._instance_groups(cs, group),
                                         f"container-instance group '{group}'")
            found = list(blocks(target, lb_refs, self.index())) if target is not None else []
            if found:
                return Unhealthy(lb.label, lb.target_group, found[0].problem, "; ".join(b.fix for b in found))
        return None

    def _instance_groups(self, cs: ClusterState, group: str) -> tuple[str, ...]:
        cluster = self.world.cluster(cs.name)
        for g in (cluster.spec if cluster is not None else {}).get("containerInstances") or ():
            if isinstance(g, dict) and str(g.get("name") or "default") == group:
                return tuple(r for r in g.get("securityGroups") or () if isinstance(r, str))
        return ()


def unhealthy_event(svc: Service, task: Task, verdict: Unhealthy) -> str:
    """ECS's event for a target that fails its health checks."""
    where = f"(instance {ec2_instance_id(task.instance_id)})" if task.instance_id and not task.private_ip \
        else f"(task {task.id})"
    port = task.host_ports[0] if task.host_ports else ""
    port_part = f" (port {port})" if port else ""
    return (f"service ({svc.name}) {where}{port_part} is unhealthy in (target-group {verdict.target_group}) "
            f"due to (reason {UNHEALTHY_CAUSE}).")


__all__ = ["HEALTH_REASON", "Judge", "Unhealthy", "unhealthy_event"]
