"""Changes become an ordered DAG of steps, built in named passes (Terraform's graph transformers).

    _add_steps          one node per change that is not a no-op
    _add_reference_edges creates/updates/replaces wait for what their *after* spec refers to
    _add_destroy_edges  a delete of X waits for the steps that stop referring to X
                        (updates, replaces, deletes of anything whose *before* spec refers to X)
    _check_acyclic      a cycle is an error that names it: ``PlanCycleError``
    _reduce             transitive reduction, so ``depends_on`` lists only what is needed

An edge ``u -> v`` in the graph means "u runs before v"; ``Step.depends_on``
holds the ids of a step's direct predecessors in the reduced graph (the same
reachability as the full graph, so "skip what is downstream of a failure" is
unaffected).

A ``replace`` is **one** step (``replace <address>``), not a delete plus a
create: the backend deletes and recreates within one unit of work, so a crash
cannot leave the address half-replaced, and the step sits in the graph once,
with reference edges from its after spec and destroy edges from its before spec.

Order is deterministic whatever the order of the changes: a lexicographic
topological sort by (phase, kind rank, address) — creates, updates and
replaces first, parents before children (Parameter … ScheduledTask); then
deletes, children before parents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import networkx as nx

from ecsctl.core.plan.model import Change, Step
from ecsctl.core.plan.references import envfile_alias, references
from ecsctl.core.plan.model import KIND_ORDER
from ecsctl.errors import InputError

_RANK = {kind: i for i, kind in enumerate(KIND_ORDER)}

References = Callable[[str, dict | None], set[str]]


class PlanCycleError(InputError):
    """The changes depend on each other in a circle; the message names the circle."""


def step_id(action: str, address: str) -> str:
    return f"{action} {address}"


def build_steps(changes: Iterable[Change], existing: Iterable[str] = (), *, refs: References = references) -> list[Step]:
    """The steps that realise ``changes``, in the order to run them.

    ``existing`` is every address the caller knows of (state plus manifests):
    reference candidates outside it and the changes are dropped.  Edges only
    ever join two steps, so a reference to something that exists and does not
    change (or to nothing at all — validation reports that) orders nothing.
    ``refs`` is the reference function (``references`` unless a test wants another).
    """
    changes = sorted((c for c in changes if c.action != "no-op"), key=lambda c: step_id(c.action, c.address))
    known = set(existing) | {c.address for c in changes}
    aliases = _aliases(changes)

    def resolve(kind: str, spec: dict | None) -> set[str]:
        return {aliases.get(a, a) for a in refs(kind, spec)} & known

    graph = nx.DiGraph()
    _add_steps(graph, changes)
    _add_reference_edges(graph, changes, resolve)
    _add_destroy_edges(graph, changes, resolve)
    _check_acyclic(graph)
    graph = _reduce(graph)
    order = nx.lexicographical_topological_sort(graph, key=lambda n: _sort_key(graph.nodes[n]["change"], n))
    return [_step(graph, node) for node in order]


def _aliases(changes: list[Change]) -> dict[str, str]:
    """``envfile/s3://bucket/key`` -> ``envfile/<name>`` for the environment files among the changes."""
    out = {}
    for c in changes:
        if c.kind == "EnvironmentFile":
            for spec in (c.before, c.after):
                if spec:
                    out[envfile_alias(spec)] = c.address
    return out


def _add_steps(graph: nx.DiGraph, changes: list[Change]) -> None:
    for c in changes:
        graph.add_node(step_id(c.action, c.address), change=c)


def _producers(changes: list[Change]) -> dict[str, str]:
    """The step that brings each address into being or changes it (not a delete)."""
    return {c.address: step_id(c.action, c.address) for c in changes if c.action != "delete"}


def _add_reference_edges(graph: nx.DiGraph, changes: list[Change], resolve) -> None:
    producers = _producers(changes)
    for c in changes:
        if c.action == "delete":
            continue
        for ref in sorted(resolve(c.kind, c.after)):
            if ref in producers and ref != c.address:
                graph.add_edge(producers[ref], step_id(c.action, c.address))


def _add_destroy_edges(graph: nx.DiGraph, changes: list[Change], resolve) -> None:
    deletes = {c.address: step_id(c.action, c.address) for c in changes if c.action == "delete"}
    for c in changes:
        if c.action == "create":
            continue  # nothing referred to anything before it existed
        for ref in sorted(resolve(c.kind, c.before)):
            if ref in deletes and ref != c.address:
                graph.add_edge(step_id(c.action, c.address), deletes[ref])


def _check_acyclic(graph: nx.DiGraph) -> None:
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    # Name it as "a depends on b": walk the cycle backwards, from its smallest step id.
    nodes = [u for u, _ in cycle][::-1]
    start = nodes.index(min(nodes))
    nodes = nodes[start:] + nodes[:start]
    raise PlanCycleError("the plan has a dependency cycle (each step waits for the next): " + " -> ".join(nodes + nodes[:1]))


def _reduce(graph: nx.DiGraph) -> nx.DiGraph:
    reduced = nx.transitive_reduction(graph)
    reduced.add_nodes_from(graph.nodes(data=True))
    return reduced


def _sort_key(change: Change, node: str) -> tuple:
    if change.action == "delete":
        return (1, -_RANK.get(change.kind, len(KIND_ORDER)), change.address, node)
    return (0, _RANK.get(change.kind, len(KIND_ORDER)), change.address, node)


def _step(graph: nx.DiGraph, node: str) -> Step:
    c: Change = graph.nodes[node]["change"]
    return Step(
        id=node,
        action=c.action,
        address=c.address,
        kind=c.kind,
        name=c.name,
        spec=None if c.action == "delete" else c.after,
        before=c.before,
        depends_on=tuple(sorted(graph.predecessors(node))),
    )


def graph_text(steps: Iterable[Step]) -> str:
    """One line per step, sorted: ``create service/prod/web -> create cluster/prod, create taskdef/web``."""
    lines = []
    for s in sorted(steps, key=lambda s: s.id):
        lines.append(f"{s.id} -> {', '.join(s.depends_on)}" if s.depends_on else s.id)
    return "\n".join(lines) + ("\n" if lines else "")
