"""The local backend: plan steps applied to the simulated ECS control plane in the state file.

``LocalBackend(store)`` applies; ``LocalBackend(store, persist=False)`` runs the very same code
over a private in-memory copy of the state (a ``World`` that is never flushed): that is how a
plan forecasts what apply will do.

* ``apply_step(step)`` makes the step's API call in the world — CreateService, UpdateService,
  RegisterTaskDefinition … — and, when persisting, writes the changes and the step's
  last-applied spec (``put_resource``/``delete_resource``) in one transaction, so each step
  commits on its own; a re-applied step converges without duplicating anything.
* ``settle(clusters)`` then lets the service scheduler work (``controller``): round after
  round, every service of a cluster takes one move (rolling deployments, drains, replacing
  lost tasks, reaching the desired count); each round that moved commits on its own.  A kill
  at any moment leaves a state that loads, and the next apply goes on from there.
* ``tick(duration)`` advances the clock minute by minute (see ``tasks.tick``), committing each
  minute in which something changed; each minute Service Auto Scaling (``scaling``) sets
  desired counts before the clusters settle.

Kinds: ``Cluster`` (``instances``), ``TaskDefinition`` (create/update registers the next
revision unless the latest revision of the family is ACTIVE with an identical spec; delete
deregisters every ACTIVE revision — running tasks keep running), ``Service`` (``services``),
and the catalogue kinds (``TargetGroup``, ``CapacityProvider``, ``Parameter``, ``Secret``,
``EnvironmentFile``, ``Repository``, ``ScheduledTask``: a ``CatalogueEntry``; deleting a target
group also removes its registrations; a capacity provider's Auto Scaling group registers its
instances in the cluster that lists it, see ``asg``, and scales on the clock, ``managed_scaling``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Callable, Iterable

# Service Auto Scaling first: its tick handler runs before capacity providers scale (issue 10's
# order each minute: scheduled actions, scaling policies, capacity providers, then services).
from ecsctl.backends.local import scaling  # noqa: I001
from ecsctl.backends.local import (asg, controller, exits, instances, managed_scaling, queues, schedules, services,
                                   tasks)
from ecsctl.backends.local.world import Changes, World
from ecsctl.core.plan.model import Step
from ecsctl.core.state.ports import (
    CatalogueEntry,
    ContainerInstance,
    Deployment,
    Service,
    StateStore,
    TaskDefinitionRevision,
)
from ecsctl.errors import InputError

# The clock's work, in this order each minute: tasks whose essential container exited stop (and
# give their resources back), due scheduled tasks fire, queues take their arrivals and drain.
tasks.register_tick_handler(exits.finish_exited)
tasks.register_tick_handler(schedules.fire_due)
tasks.register_tick_handler(queues.advance_queues)

SIM_STATE_OF = {"ScheduledTask": schedules.RULE_STATE, "Queue": queues.QUEUE_STATE}

CATALOGUE_KINDS = frozenset({
    "TargetGroup", "CapacityProvider", "Parameter", "Secret", "EnvironmentFile", "Repository",
    "ScheduledTask", "Queue", "SecurityGroup",
})
HEALTH_KINDS = ("SecurityGroup", "TargetGroup")  # what the load balancer health checks depend on


class LocalBackend:
    """Executes plan steps against the simulation kept in ``store`` (see the module docstring)."""

    name = "local"

    def __init__(self, store: StateStore | None, *, seed: int = 0, persist: bool = True) -> None:
        if persist and store is None:
            raise InputError("the local backend needs a state to apply to")
        self.store = store
        self.seed = seed
        self.persist = persist
        self._world: World | None = None
        self._serial: int | None = None
        # a plan's run: every unit of work it would commit, in order (see replay)
        self.recording: list[Unit] | None = None if persist else []

    # -- the world and units of work ------------------------------------------------------

    @property
    def world(self) -> World:
        """The in-memory world, read afresh if someone else wrote the state since our last commit."""
        if self.persist and self._world is not None and self.store.meta().serial != self._serial:
            self._world = None
        if self._world is None:
            self._world = World(self.store, self.seed)
            self._serial = self.store.meta().serial if self.store is not None else None
        return self._world

    def commit(self, resource: tuple | None = None, *, step: Step | None = None) -> None:
        """Write the world's changes (and a step's last-applied spec, ``resource``: ``("put",
        address, kind, name, spec)`` or ``("delete", address)``) in one transaction. A plan writes
        nothing: it records the unit instead, for ``replay``."""
        if not self.persist:
            self.recording.append(Unit(self.world.take_changes(), resource, step))
            return
        world = self.world
        try:
            with self.store.transaction():
                world.flush()
                _write_resource(self.store, resource)
        except BaseException:
            self._world = None  # memory is ahead of the store now: read it again next time
            raise
        self._serial = self.store.meta().serial

    def replay(self, recording: list["Unit"], on_step: Callable[[Step], None] | None = None,
               on_round: Callable[[], None] | None = None) -> None:
        """Commit the units a plan's run recorded, each in its own transaction, in order: what
        that run would have committed against this state (the caller checked the plan is fresh)."""
        for unit in recording:
            with self.store.transaction():
                unit.changes.write(self.store)
                _write_resource(self.store, unit.resource)
            if unit.step is not None:
                if on_step is not None:
                    on_step(unit.step)
            elif on_round is not None and unit.changes.records:
                on_round()
        self._world = None

    # -- plan steps -----------------------------------------------------------------------

    def apply_step(self, step: Step) -> None:
        if step.action not in ("create", "update", "replace", "delete"):
            raise InputError(f"{step.address}: the local backend cannot {step.action!r} a step")
        if step.action != "delete" and step.spec is None:
            raise InputError(f"{step.address}: a {step.action} step needs a spec")
        world = self.world
        try:
            world.now()  # initialise the clock on first use
            if step.action == "replace":  # one unit of work: a crash never leaves it half done
                self._apply(world, replace(step, action="delete", spec=None))
                self._apply(world, replace(step, action="create", before=None))
            else:
                self._apply(world, step)
        except BaseException:
            self._world = None
            raise

        resource = (("delete", step.address) if step.action == "delete"
                    else ("put", step.address, step.kind, step.name, step.spec))
        self.commit(resource, step=step)

    def settle(self, clusters: Iterable[str] | None = None,
               session: controller.Session | None = None, after_round: Callable[[], None] | None = None) -> None:
        """Let the service scheduler work in ``clusters`` (default: every cluster with work) until
        nothing moves, committing each round."""
        session = session or controller.Session()
        names = sorted(set(clusters) if clusters is not None else set(self.clusters_with_work()))

        def round_done() -> None:
            self.commit()
            if after_round is not None:
                after_round()

        for name in names:
            controller.settle(self.world, name, session, after_round=round_done)
        if self.world.changed:  # what the last round noted without moving (events of a stall)
            self.commit()

    def clusters_with_work(self) -> list[str]:
        """Clusters where the scheduler has something to do: loaded by this backend's steps, or,
        in the state, a service short of (or over) its desired count, a deployment in progress,
        a draining or disconnected instance that still runs tasks."""
        out = set(self.world.loaded_clusters())
        store = self.store
        if store is not None:
            for svc in store.find(Service, status="ACTIVE"):
                if svc.running_count != svc.desired_count or svc.pending_count:
                    out.add(svc.cluster)
            for dep in store.find(Deployment, status="PRIMARY"):
                if dep.rollout_state == "IN_PROGRESS":
                    out.add(dep.cluster)
            # counted in SQL: a plan must not read every instance record to learn which clusters drain
            for (cluster, status, connected, running), _ in store.tally(
                    ContainerInstance, ("cluster", "status", "agent_connected", "running_tasks_count")).items():
                if running and (status != "ACTIVE" or not connected):
                    out.add(cluster)
        active = set(self.world.active_clusters())
        return sorted(out & active)

    def tick(self, duration: timedelta, handlers: Iterable[tasks.TickHandler] | None = None) -> tasks.TickResult:
        """Advance the clock minute by minute (``tasks.tick``), committing each minute that changed something."""
        result = tasks.tick(self.world, duration, handlers=None if handlers is None else list(handlers),
                            after_minute=self.commit)
        try:
            scaling.flush(self.world)  # the engines' state of the quiet minutes
            self.commit()  # the clock's last move
        except KeyboardInterrupt:  # (before or after that commit: the state's clock says which)
            raise tasks.TickInterrupted(tasks.committed_part(result, self.store.clock())) from None
        return result

    # -- per kind -------------------------------------------------------------------------

    def _apply(self, world: World, step: Step) -> None:
        kind, action, name = step.kind, step.action, step.name
        if kind == "Cluster":
            if action == "delete":
                instances.delete_cluster(world, name)
            else:
                instances.apply_cluster(world, name, step.spec or {})
                asg.sync_cluster(world, name)  # its capacity providers' Auto Scaling groups
        elif kind == "TaskDefinition":
            family = str((step.spec or step.before or {}).get("family") or name)
            if action == "delete":
                for rev in world.active_revisions(family):
                    world.put_revision(replace(rev, status="INACTIVE"))
            else:
                _register_revision(world, family, step.spec or {})
        elif kind == "Service":
            if action in ("create", "update"):
                spec = step.spec or {}
                if action == "create":
                    services.create_service(world, name, spec)
                else:
                    services.update_service(world, name, spec, step.before)
                scaling.register_target(world, name, spec, step.before if action == "update" else None)
            else:
                services.delete_service(world, name, step.before or _service_spec_from(step))
        elif kind in CATALOGUE_KINDS:
            if action == "delete":
                world.delete_catalogue(kind, name)
                if kind == "TargetGroup":
                    world.delete_target_group(name)
                elif kind in SIM_STATE_OF:  # a rule created again counts its rate() anew; a queue starts empty
                    world.delete_sim_state(SIM_STATE_OF[kind], name)
            else:
                world.put_catalogue(CatalogueEntry(kind, name, step.spec or {}))
            if kind == "CapacityProvider":
                if action == "delete":
                    asg.delete_provider(world, name)
                else:
                    asg.apply_provider(world, name, step.spec or {}, step.before if action == "update" else None)
            if kind in HEALTH_KINDS:  # targets may pass or fail their health checks now: let the scheduler look
                for cluster in world.active_clusters():
                    world.state(cluster)
        else:
            raise InputError(f"{step.address}: the local backend does not know kind {kind!r}")


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit of work a plan's run would commit: the world's changes, and for a step its
    last-applied spec (``resource``) and the step itself (None for a scheduler round)."""

    changes: Changes
    resource: tuple | None = None
    step: Step | None = None


def _write_resource(store: StateStore, resource: tuple | None) -> None:
    if resource is None:
        return
    if resource[0] == "delete":
        store.delete_resource(resource[1])
    else:
        store.put_resource(*resource[1:])


def _service_spec_from(step: Step) -> dict:
    """A delete step without ``before``: the cluster is the address's middle part."""
    parts = step.address.split("/")
    return {"cluster": parts[1]} if len(parts) >= 3 else {}


def _register_revision(world: World, family: str, spec: dict) -> None:
    latest = world.latest_revision(family)
    current = world.revision(f"{family}:{latest}") if latest else None
    if current is not None and current.status == "ACTIVE" and current.spec == spec:
        return  # already registered (a re-applied step)
    world.put_revision(TaskDefinitionRevision(family=family, revision=latest + 1, spec=spec, status="ACTIVE",
                                              registered_at=world.now()))


__all__ = ["CATALOGUE_KINDS", "LocalBackend", "Unit"]
