"""The local backend: plan steps applied to the simulated ECS control plane in the state file.

Every ``apply_step`` runs in one ``store.transaction()`` together with the last-applied spec
(``put_resource`` / ``delete_resource``), so each step commits on its own; re-applying a step
converges without duplicating or losing anything (an unchanged world writes nothing and the
state's serial does not move).  The simulation clock (``store.clock()``, initialised to
``2026-01-01T00:00:00Z``) is read, never advanced.

Kinds:

* ``Cluster`` — see :mod:`.instances` (container instances per group, then the cluster's
  services are reconciled); delete keeps the record as INACTIVE.
* ``TaskDefinition`` — create/update registers the next revision unless the latest revision
  of the family is ACTIVE with an identical spec (so a re-applied step registers nothing);
  delete deregisters every ACTIVE revision (INACTIVE; running tasks keep running).
* ``Service`` — see :mod:`.services`.
* ``TargetGroup``, ``CapacityProvider``, ``Parameter``, ``Secret``, ``EnvironmentFile``,
  ``Repository``, ``ScheduledTask`` — a ``CatalogueEntry``; deleting a target group also
  removes its registrations.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from typing import Iterator

from ecsctl.backends.local import instances, services
from ecsctl.backends.local.world import World, WorldCache
from ecsctl.core.plan.model import Step
from ecsctl.core.state.ports import (
    CatalogueEntry,
    StateStore,
    TargetRegistration,
    TaskDefinitionRevision,
)
from ecsctl.errors import InputError

CATALOGUE_KINDS = frozenset({
    "TargetGroup", "CapacityProvider", "Parameter", "Secret", "EnvironmentFile", "Repository",
    "ScheduledTask", "SecurityGroup",
})


class LocalBackend:
    """Executes plan steps against the simulation kept in ``store``."""

    name = "local"

    def __init__(self, store: StateStore, *, seed: int = 0) -> None:
        self.store = store
        self.seed = seed
        # Instances and RUNNING tasks per cluster, kept across steps (see world.py); trusted
        # only while the state's serial is the one our last step committed as.
        self._cache = WorldCache()

    @contextmanager
    def _world(self) -> Iterator[World]:
        """One transaction and the ``World`` of one unit of work, with the cache when it is sound."""
        cache: WorldCache | None = None
        if not getattr(self.store, "in_transaction", True):  # an outer transaction may roll back
            cache = self._cache
        with self.store.transaction():
            if cache is not None and cache.serial != self.store.meta().serial:
                cache.clear()  # someone else wrote since our last step
            try:
                yield World(self.store, self.seed, cache=cache)
            except BaseException:
                self._cache.clear()
                raise
        if cache is not None:
            cache.serial = self.store.meta().serial
        else:
            self._cache.clear()

    def apply_step(self, step: Step) -> None:
        if step.action not in ("create", "update", "replace", "delete"):
            raise InputError(f"{step.address}: the local backend cannot {step.action!r} a step")
        if step.action != "delete" and step.spec is None:
            raise InputError(f"{step.address}: a {step.action} step needs a spec")
        with self._world() as world:
            world.now()  # initialise the clock on first use
            if step.action == "replace":  # one unit of work: a crash never leaves it half done
                self._apply(world, replace(step, action="delete", spec=None))
                self._apply(world, replace(step, action="create", before=None))
            else:
                self._apply(world, step)
            if step.action == "delete":
                self.store.delete_resource(step.address)
            else:
                self.store.put_resource(step.address, step.kind, step.name, step.spec)

    def reconcile(self, cluster: str) -> None:
        """Replace lost tasks and restore every ACTIVE service of ``cluster`` to its desired count."""
        with self._world() as world:
            services.reconcile_cluster(world, cluster)

    # -- per kind -------------------------------------------------------------------------

    def _apply(self, world: World, step: Step) -> None:
        kind, action, name = step.kind, step.action, step.name
        if kind == "Cluster":
            if action == "delete":
                instances.delete_cluster(world, name)
            else:
                instances.apply_cluster(world, name, step.spec or {})
        elif kind == "TaskDefinition":
            family = str((step.spec or step.before or {}).get("family") or name)
            if action == "delete":
                _deregister_family(world, family)
            else:
                _register_revision(world, family, step.spec or {})
        elif kind == "Service":
            if action == "create":
                services.create_service(world, name, step.spec or {})
            elif action == "update":
                services.update_service(world, name, step.spec or {}, step.before)
            else:
                services.delete_service(world, name, step.before or _service_spec_from(step))
        elif kind in CATALOGUE_KINDS:
            if action == "delete":
                self.store.delete(CatalogueEntry, kind, name)
                if kind == "TargetGroup":
                    for reg in self.store.find(TargetRegistration, target_group=name):
                        self.store.delete(TargetRegistration, reg.target_group, reg.target_id, reg.port)
            else:
                self.store.save(CatalogueEntry(kind, name, step.spec or {}))
        else:
            raise InputError(f"{step.address}: the local backend does not know kind {kind!r}")


def _service_spec_from(step: Step) -> dict:
    """A delete step without ``before``: the cluster is the address's middle part."""
    parts = step.address.split("/")
    return {"cluster": parts[1]} if len(parts) >= 3 else {}


def _register_revision(world: World, family: str, spec: dict) -> None:
    store = world.store
    revisions = store.find(TaskDefinitionRevision, family=family)
    latest = max(revisions, key=lambda r: r.revision) if revisions else None
    if latest is not None and latest.status == "ACTIVE" and latest.spec == spec:
        return  # already registered (a re-applied step)
    store.save(TaskDefinitionRevision(family=family, revision=store.next_revision(family),
                                      spec=spec, status="ACTIVE", registered_at=world.now()))


def _deregister_family(world: World, family: str) -> None:
    for rev in world.store.find(TaskDefinitionRevision, family=family, status="ACTIVE"):
        world.store.save(replace(rev, status="INACTIVE"))
