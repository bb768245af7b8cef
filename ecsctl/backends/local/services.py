"""Services and their deployments in the simulation: the records CreateService, UpdateService and
DeleteService leave, and the deployments they start.  Tasks are the controller's business.

* **Create** records the service (its desired count from the manifest, default 1) and its first
  PRIMARY deployment; the controller starts its tasks.
* **Update** takes the desired count of ``core.controller.service.desired_count`` (a count
  moved by scaling is kept unless the manifest's own value changed) and, when the change starts
  a new deployment (another revision, or a change of launch type, capacity provider strategy,
  network configuration, load balancers or platform version), a new PRIMARY deployment.
* **A new deployment**: the previous PRIMARY becomes ACTIVE (its tasks keep running until the
  controller replaces them); when it goes to another revision than the previous one, RUNNING
  tasks that already run that revision (a rollback, or a revert in the middle of a rollout) are
  adopted: their ``startedBy`` becomes the new deployment's id (the simulation re-tags so that
  every count is "tasks started by the deployment").
* **Delete** stops the service's tasks at once (``Service deleted``), makes its deployments
  INACTIVE and the service INACTIVE with counts 0.
"""

from __future__ import annotations


from ecsctl.backends.local import launch
from ecsctl.backends.local.world import ClusterState, World
from ecsctl.core.controller import ids
from ecsctl.core.controller import service as model
from ecsctl.core.state.ports import Deployment, Service, StateStore, replace
from ecsctl.errors import InputError

BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."


def ordered(store: StateStore, cluster: str, service: str) -> list[Deployment]:
    """A service's deployments in the state, oldest first (without loading its cluster)."""
    found = store.find(Deployment, cluster=cluster, service=service)
    return sorted(found, key=ids.deployment_order(cluster, service, len(found)))


def primary(cs: ClusterState, service: str) -> Deployment | None:
    found = [d for d in cs.service_deployments(service) if d.status == "PRIMARY"]
    return found[-1] if found else None


def new_deployment(world: World, cs: ClusterState, svc: Service, *, rollback_from: Deployment | None = None,
                   announce: bool = True) -> Deployment:
    """A new PRIMARY deployment of ``svc`` (as saved, with the revision it deploys)."""
    now = world.now()
    previous = primary(cs, svc.name)
    for dep in cs.service_deployments(svc.name):
        if dep.status == "PRIMARY":
            cs.put_deployment(replace(dep, status="ACTIVE", updated_at=now))
    n = len(cs.service_deployments(svc.name)) + 1
    dep = Deployment(
        id=ids.deployment_id(cs.name, svc.name, n), cluster=cs.name, service=svc.name,
        task_definition=svc.task_definition, status="PRIMARY", desired_count=svc.desired_count,
        created_at=now, updated_at=now,
    )
    cs.put_deployment(dep)
    if previous is None or previous.task_definition != dep.task_definition:
        for task in cs.service_tasks(svc.name):
            if task.task_definition == dep.task_definition and task.started_by != dep.id:
                cs.put_task(replace(task, started_by=dep.id))
    if rollback_from is not None:
        world.event(cs.name, svc.name,
                    f"service ({svc.name}) (deployment {dep.id}) rolling back to {dep.task_definition} "
                    f"after (deployment {rollback_from.id}) failed: {BREAKER_REASON}")
    elif announce:
        world.event(cs.name, svc.name,
                    f"service ({svc.name}) (deployment {dep.id}) started a deployment to {dep.task_definition}.")
    return dep


def create_service(world: World, name: str, spec: dict) -> None:
    cluster_name = model.cluster_of(spec)
    cs = world.state(cluster_name)
    existing = cs.services.get(name)
    if existing is not None and existing.status != "INACTIVE":
        update_service(world, name, spec, before=None)
        return
    cluster = world.cluster(cluster_name)
    if cluster is None or cluster.status != "ACTIVE":
        raise InputError(f"service {name}: cluster {cluster_name} does not exist or is INACTIVE")
    revision = world.resolve_task_definition(spec.get("taskDefinition"), f"service {name}")
    now = world.now()
    svc = Service(cluster=cluster_name, name=name, task_definition=revision.ref,
                  desired_count=model.desired_count(spec, before=None, current=None), spec=spec,
                  created_at=now, updated_at=now)
    for dep in cs.service_deployments(name):  # a re-created service starts its history afresh
        if dep.status != "INACTIVE":
            cs.put_deployment(replace(dep, status="INACTIVE", running_count=0, pending_count=0, updated_at=now))
    cs.put_service(svc)
    new_deployment(world, cs, svc, announce=False)


def update_service(world: World, name: str, spec: dict, before: dict | None) -> None:
    cluster_name = model.cluster_of(spec)
    cs = world.state(cluster_name)
    svc = cs.services.get(name)
    if svc is None or svc.status == "INACTIVE":
        create_service(world, name, spec)
        return
    revision = world.resolve_task_definition(spec.get("taskDefinition"), f"service {name}")
    desired = model.desired_count(spec, before=before, current=svc.desired_count)
    current = primary(cs, name)
    failed = current is not None and current.rollout_state == "FAILED" and current.task_definition == revision.ref
    redeploy = model.starts_deployment(svc.task_definition, svc.spec, revision.ref, spec, failed=failed)
    svc = replace(svc, task_definition=revision.ref if redeploy else svc.task_definition,
                  desired_count=desired, spec=spec, updated_at=world.now())
    cs.put_service(svc)
    if redeploy:
        new_deployment(world, cs, svc)


def delete_service(world: World, name: str, spec: dict | None) -> None:
    cs = world.state(model.cluster_of(spec))
    svc = cs.services.get(name)
    if svc is None or svc.status == "INACTIVE":
        return
    retire(world, cs, svc, "Service deleted")


def retire(world: World, cs: ClusterState, svc: Service, reason: str) -> None:
    """Stop every task of ``svc`` now; its deployments and the service become INACTIVE."""
    now = world.now()
    stopped = [launch.stop(world, cs, t, launch.SCHEDULER, reason) for t in cs.service_tasks(svc.name)]
    if stopped:
        world.event(cs.name, svc.name, launch.stopped_event(svc.name, stopped))
    for dep in cs.service_deployments(svc.name):
        if dep.status != "INACTIVE":
            cs.put_deployment(replace(dep, status="INACTIVE", running_count=0, pending_count=0, updated_at=now))
    cs.put_service(replace(svc, status="INACTIVE", desired_count=0, running_count=0, pending_count=0,
                           updated_at=now))


__all__ = ["BREAKER_REASON", "create_service", "delete_service", "new_deployment", "ordered", "primary", "retire",
           "update_service"]
