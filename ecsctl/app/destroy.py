"""Use case: plan the deletion of what the manifests describe (``destroy``, ``plan --destroy``).

Deleting everything must be asked for by name: ``plan``/``apply`` on a folder without a
manifest refuse (``app.plan.read_manifests``), and ``ecsctl destroy -f DIR`` plans a delete of

* every resource of the manifests that the state holds (what was applied at its address,
  whatever the manifest says now), and
* every resource of the state that refers to one of those, transitively (a service of a
  destroyed cluster or task definition, a scheduled task of a destroyed cluster): ECS would
  refuse to delete a cluster with services, and such a service could not run anyway.

Everything else in the state is left alone, as ``kubectl delete -f DIR`` leaves what the
files do not name.  The plan is an ordinary plan (``app.plan.make_plan`` of the state minus
the doomed resources), so it is shown, saved, confirmed and applied like any other.
"""

from __future__ import annotations

from dataclasses import replace

from ecsctl.app.plan import Inputs, make_plan
from ecsctl.core.plan.model import Desired, Plan, address


def _resources(store) -> dict:
    """The state's resources by their address (as this ecsctl writes it)."""
    if store is None:
        return {}
    return {address(r.kind, r.name, r.spec): r for r in store.resources()}


def doomed(inputs: Inputs, store) -> dict[str, str]:
    """Address -> why it is deleted, for every resource of the state that destroy deletes."""
    from ecsctl.core.plan.references import envfile_alias, references

    resources = _resources(store)
    why = {d.address: "described by the manifests" for d in inputs.desired if d.address in resources}
    aliases = {envfile_alias(r.spec): a for a, r in resources.items() if r.kind == "EnvironmentFile"}
    refs = {a: {aliases.get(x, x) for x in references(r.kind, r.spec)} for a, r in resources.items()}
    grew = True
    while grew:
        grew = False
        for addr in sorted(resources):
            hit = sorted(refs[addr] & set(why)) if addr not in why else ()
            if hit:
                why[addr] = f"refers to {hit[0]}, which is destroyed"
                grew = True
    return why


def make_destroy_plan(inputs: Inputs, store) -> Plan:
    """The plan that deletes the doomed resources and keeps the rest of the state as it is."""
    gone = doomed(inputs, store)
    kept = [Desired(a, r.kind, r.name, r.spec) for a, r in _resources(store).items() if a not in gone]
    # deletes on purpose: what the manifests name, and what refers to it, wherever it was read from
    plan = make_plan(Inputs(kept, inputs.files, guard_left_out=False), store)
    plan.changes = [replace(c, reason=f"destroy: {gone[c.address]}") if c.action == "delete" and c.address in gone else c
                    for c in plan.changes]
    return plan
