"""Task placement on EC2 container instances: filter, constrain, rank (DESIGN §7, ecs-semantics §2).

One :class:`Placer` holds the mutable placement view (:class:`Node`) of a cluster's container
instances and places tasks one at a time, committing each (resources, ports, group counts)
before the next, as ECS does:

1. **filter** — status ``ACTIVE`` and agent connected; CPU, memory and GPU; static host ports
   per protocol (``bridge`` static ``hostPort``; every port in ``host`` mode; ``awsvpc`` needs
   none); at most :data:`MAX_RESERVED_PORTS` reserved ports per instance; required attributes;
2. **constraints** — ``distinctInstance`` (no task of this group on the instance) and
   ``memberOf`` (a Cluster Query Language expression, :mod:`.cql`);
3. **strategies** in order, each keeping only the *equally best* candidates:
   ``binpack`` (``cpu``/``memory``: least remaining first), ``spread`` (``instanceId``/``host``
   or ``attribute:NAME``: fewest tasks of this group on the instance / over every instance
   sharing the value), ``random`` (a ``random.Random(seed)``, reproducible);
4. remaining ties go to the lowest container-instance id.

Without a strategy (``strategies=None``) a task spreads over ``attribute:ecs.availability-zone``
and then ``instanceId`` (ecs-semantics §2.5).

    >>> nodes = [Node(f"ci-{k}", az, {"ecs.availability-zone": az}, 2048, 4096)
    ...          for k, az in enumerate(["a", "a", "b"])]
    >>> placer = Placer(nodes)
    >>> [r.instance_id for r in placer.place_many(TaskDemand(256, 512), 4, group="service:web")]
    ['ci-0', 'ci-2', 'ci-1', 'ci-2']

Performance: the placer never re-scans every instance for a placement when it can avoid it.
Leading ``spread(attribute:…)`` strategies partition the instances by value (tiers of values
ordered by the group's per-value counts, kept incrementally); inside a partition ``binpack``
walks a list sorted by remaining resource from the first instance that can fit, with what each
has left of the other resource beside it (``room.RoomList``: instances full on that one are
passed over by a comparison), and ``spread(instanceId)`` looks at instances without
a task of the group in id order before the few that have one — through a segment tree of the
CPU and memory left (``room.FitTree``) while the group is sparse, so a nearly full cluster is
not scanned past its full instances. ``memberOf`` results are cached per (expression, instance) and dropped only
for the instance that changed when the expression mentions ``task:group`` or
``runningTasksCount``. After changing a :class:`Node` behind the placer's back (status, agent,
attributes), call :meth:`Placer.refresh`.
"""

from __future__ import annotations

import random
from bisect import bisect_left, insort
from heapq import heapify, heappop, heappush
from collections import Counter
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import Any, Callable, Iterable, Sequence

from ecsctl.core import units
from ecsctl.core.scheduling import cql
from ecsctl.core.scheduling.room import FitTree, RoomList, other_of

RESERVED_PORTS = (22, 2375, 2376, 51678, 51679, 51680)
EPHEMERAL_RANGE = (32768, 61000)
MAX_RESERVED_PORTS = 100

ZONE_ATTRIBUTE = "ecs.availability-zone"
DEFAULT_STRATEGIES: tuple[dict, ...] = (
    {"type": "spread", "field": f"attribute:{ZONE_ATTRIBUTE}"},
    {"type": "spread", "field": "instanceId"},
)

_UNABLE = "was unable to place a task because no container instance met all of its requirements."
NO_INSTANCES_MESSAGE = "was unable to place a task because no container instances were found in your cluster."

# Failure reasons in the order a single instance is checked; the phrase completes
# "The closest matching container-instance <id> ...".  (ecs-semantics §2.2, §1.4; the
# constraint wording is the agent-side error ECS reports for memberOf/distinctInstance.)
REASON_PHRASES: dict[str, tuple[str, str]] = {
    "CPU": ("RESOURCE:CPU", "has insufficient CPU units available"),
    "MEMORY": ("RESOURCE:MEMORY", "has insufficient memory available"),
    "GPU": ("RESOURCE:GPU", "has insufficient GPU resources available"),
    "ENI": ("RESOURCE:ENI", 'encountered error "RESOURCE:ENI"'),
    "PORTS": ("RESOURCE:PORTS", "is already using a port required by your task"),
    "PORTS_UDP": ("RESOURCE:PORTS_UDP", "is already using a port required by your task"),
    "PORTS_LIMIT": ("RESOURCE:PORTS", "can not exceed the maximum allowed reserved port limit of "
                                      f"{MAX_RESERVED_PORTS} host ports per container instance"),
    "ATTRIBUTE": ("ATTRIBUTE", "is missing an attribute required by your task"),
    # RunTask's failure reason for an unsatisfied memberOf is the constraint's own text, not ATTRIBUTE
    # (which stays for a task definition that requires an attribute no instance has)
    "MEMBER_OF": ("MemberOf placement constraint unsatisfied",
                  'encountered error "MemberOf placement constraint unsatisfied."'),
    "DISTINCT": ("DISTINCT_INSTANCE", 'encountered error "DistinctInstance placement constraint unsatisfied."'),
    "AGENT": ("AGENT", 'encountered error "AGENT"'),
}
_REASON_ORDER = {name: k for k, name in enumerate(REASON_PHRASES)}


# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortNeed:
    container_port: int
    host_port: int  # 0 = dynamic (bridge mode, hostPort 0 or omitted)
    protocol: str = "tcp"


@dataclass(frozen=True, slots=True)
class TaskDemand:
    """What one task needs from an instance (ecs-semantics §2.2).

    ``required_attributes`` are ``(name, value)`` pairs the instance must carry (``value``
    None: the name alone), from ``requiresAttributes`` and ``runtimePlatform``.
    """

    cpu: int
    memory: int
    gpu: int = 0
    ports: tuple[PortNeed, ...] = ()
    network_mode: str = "bridge"
    required_attributes: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def from_task_definition(cls, spec: dict) -> "TaskDemand":
        """The demand of one task of a task definition spec.

        >>> d = TaskDemand.from_task_definition({"containerDefinitions": [
        ...     {"name": "a", "memory": 256, "cpu": 128,
        ...      "portMappings": [{"containerPort": 80}, {"containerPort": 53, "hostPort": 53, "protocol": "udp"}]}]})
        >>> d.cpu, d.memory, d.ports
        (128, 256, (PortNeed(container_port=80, host_port=0, protocol='tcp'), PortNeed(container_port=53, host_port=53, protocol='udp')))
        """
        cpu, memory = units.task_demand(spec)
        mode = spec.get("networkMode") or "bridge"
        ports: list[PortNeed] = []
        gpu = 0
        items = spec.get("containerDefinitions") or []
        for c in items if isinstance(items, list) else ():
            if not isinstance(c, dict):
                continue
            for req in c.get("resourceRequirements") or ():
                if isinstance(req, dict) and req.get("type") == "GPU":
                    try:
                        gpu += int(req.get("value") or 0)
                    except (TypeError, ValueError):
                        pass
            if mode == "none":
                continue
            for m in c.get("portMappings") or ():
                if not isinstance(m, dict):
                    continue
                proto = str(m.get("protocol") or "tcp").lower()
                for container_port in container_ports(m):
                    host = m.get("hostPort") if "containerPort" in m else None
                    host = host if isinstance(host, int) and not isinstance(host, bool) else 0
                    if mode in ("host", "awsvpc"):
                        host = host or container_port
                    ports.append(PortNeed(container_port, host, proto))
        required: list[tuple[str, str | None]] = []
        for a in spec.get("requiresAttributes") or ():
            if isinstance(a, dict) and isinstance(a.get("name"), str):
                required.append((a["name"], a.get("value")))
        platform = spec.get("runtimePlatform") if isinstance(spec.get("runtimePlatform"), dict) else {}
        arch = platform.get("cpuArchitecture")
        if isinstance(arch, str) and arch:
            required.append(("ecs.cpu-architecture", "arm64" if arch.upper() == "ARM64" else "x86_64"))
        family = platform.get("operatingSystemFamily")
        if isinstance(family, str) and family:
            required.append(("ecs.os-type", "linux" if family.upper() == "LINUX" else "windows"))
        return cls(cpu, memory, gpu, tuple(ports), mode, tuple(required))


def container_ports(mapping: dict) -> list[int]:
    """The container ports of one port mapping: its ``containerPort``, or every port of its ``containerPortRange``."""
    port = mapping.get("containerPort")
    if isinstance(port, int) and not isinstance(port, bool):
        return [port]
    span = mapping.get("containerPortRange")
    if isinstance(span, str) and "-" in span:
        first, _, last = span.partition("-")
        if first.strip().isdigit() and last.strip().isdigit():
            return list(range(int(first), int(last) + 1))
    return []


def task_definition_constraints(spec: dict) -> list[dict]:
    """The task definition's own ``memberOf`` constraints, to combine with the service's."""
    out = []
    for c in spec.get("placementConstraints") or ():
        if isinstance(c, dict) and c.get("type") == "memberOf" and c.get("expression"):
            out.append({"type": "memberOf", "expression": c["expression"]})
    return out


@dataclass(slots=True)
class Node:
    """The mutable placement view of one container instance."""

    id: str
    availability_zone: str
    attributes: dict  # name -> value (None for name-only), incl. the built-in ecs.* attributes
    remaining_cpu: int
    remaining_memory: int
    remaining_gpu: int = 0
    remaining_eni: int | None = None  # awsvpc tasks it may still take (None: no limit known)
    used_ports: set = field(default_factory=set)  # {(port, protocol)} static host ports in use
    dynamic_ports: set = field(default_factory=set)  # {(port, protocol)} dynamic ports in use
    status: str = "ACTIVE"
    agent_connected: bool = True
    agent_version: str = "1.80.0"
    registered_at: str = ""
    ec2_instance_id: str = ""
    groups: Counter = field(default_factory=Counter)  # task group -> tasks on this node
    running_tasks: int = 0

    def __post_init__(self) -> None:
        self.used_ports.update(_RESERVED_TCP)
        if not isinstance(self.groups, Counter):
            self.groups = Counter(self.groups)

    def clone(self) -> "Node":
        """A copy whose mutable parts (ports, task groups) are its own; attributes are shared
        (placement never changes them). Much cheaper than ``copy.deepcopy`` for what-if runs."""
        return replace(self, used_ports=set(self.used_ports), dynamic_ports=set(self.dynamic_ports),
                       groups=Counter(self.groups))

    def cql_view(self) -> dict[str, Any]:
        """The mapping :func:`cql.evaluate` reads."""
        return {
            "ec2InstanceId": self.ec2_instance_id or self.id,
            "attributes": self.attributes,
            "agentConnected": self.agent_connected,
            "agentVersion": self.agent_version,
            "registeredAt": self.registered_at,
            "runningTasksCount": self.running_tasks,
            "taskGroups": {g for g, n in self.groups.items() if n > 0},
        }


def node_from_instance(instance: Any, tasks: Iterable[Any] = ()) -> Node:
    """A :class:`Node` from a ``state.ports.ContainerInstance`` and its non-stopped ``Task`` records.

    Static ports come from ``reserved_ports`` (TCP); task host ports inside the ephemeral range
    that are not reserved count as dynamic.
    """
    reserved = {(int(p), "tcp") for p in instance.reserved_ports}
    node = Node(
        id=instance.id, availability_zone=instance.availability_zone,
        attributes=dict(instance.attributes or {}),
        remaining_cpu=instance.remaining_cpu, remaining_memory=instance.remaining_memory,
        remaining_gpu=getattr(instance, "registered_gpu", 0), used_ports=reserved,
        status=instance.status, agent_connected=instance.agent_connected,
        agent_version=instance.agent_version or "1.80.0", registered_at=instance.registered_at,
    )
    node.attributes.setdefault(ZONE_ATTRIBUTE, instance.availability_zone)
    node.attributes.setdefault("ecs.instance-type", instance.instance_type)
    lo, hi = EPHEMERAL_RANGE
    for t in tasks:
        node.groups[t.group] += 1
        node.running_tasks += 1
        for p in t.host_ports:
            if lo <= p <= hi and (p, "tcp") not in reserved:
                node.dynamic_ports.add((p, "tcp"))
    return node


@dataclass(frozen=True, slots=True)
class Placed:
    instance_id: str
    host_ports: tuple[int, ...]  # one per demand.ports entry, in order


@dataclass(frozen=True, slots=True)
class Unplaced:
    reason: str
    closest_instance: str | None
    message: str  # the caller prefixes "service (NAME) "


# --- internals -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Strategy:
    kind: str  # attr | inst | binpack | random
    field: str = ""  # attribute name, or cpu / memory


def _strategy(s: dict) -> _Strategy:
    kind = s.get("type")
    fld = s.get("field") or ""
    if kind == "random":
        return _Strategy("random")
    if kind == "binpack":
        f = str(fld).lower()
        if f not in ("cpu", "memory"):
            raise ValueError(f"binpack field must be cpu or memory, not {fld!r}")
        return _Strategy("binpack", f)
    if kind == "spread":
        if fld in ("instanceId", "host"):
            return _Strategy("inst")
        if isinstance(fld, str) and fld.startswith("attribute:") and len(fld) > len("attribute:"):
            return _Strategy("attr", fld[len("attribute:"):])
        raise ValueError(f"spread field must be instanceId, host or attribute:NAME, not {fld!r}")
    raise ValueError(f"unknown placement strategy type {kind!r}; use binpack, spread or random")


class _Part:
    """One partition of the instances (all sharing the values of the leading spread attributes)."""

    __slots__ = ("key", "ids", "every", "tree", "bp", "buckets")

    def __init__(self, key: tuple) -> None:
        self.key = key
        self.ids: list[int] = []  # node indexes, ascending (= ascending instance id)
        self.every: list[int] = []  # alive or not, ascending: the slots of ``tree``
        self.tree: FitTree | None = None  # resources left per slot of ``every`` (see _fit_tree)
        self.bp: dict[str, RoomList] = {}  # field -> [(remaining, idx)] in order (binpack's walk)
        self.buckets: dict[str, dict[int, list[int]]] = {}  # group -> tasks of it -> [idx] (see _count_buckets)


class _Index:
    __slots__ = ("attrs", "parts", "part_of", "slot_of")

    def __init__(self, attrs: tuple[str, ...]) -> None:
        self.attrs = attrs
        self.parts: dict[tuple, _Part] = {}
        self.part_of: list[_Part] = []
        self.slot_of: list[int] = []  # node index -> its slot in its part's ``every``


_INF = float("inf")
_first = itemgetter(0)
_INST_ONLY = (_Strategy("inst"),)
_RESERVED_TCP = frozenset((p, "tcp") for p in RESERVED_PORTS)
_DYNAMIC_SUBJECTS = frozenset({"task:group", "runningTasksCount"})


def _mentions_dynamic(expr: cql.Expr) -> bool:
    if isinstance(expr, cql.Predicate):
        return expr.subject in _DYNAMIC_SUBJECTS
    if isinstance(expr, cql.Not):
        return _mentions_dynamic(expr.operand)
    return any(_mentions_dynamic(e) for e in expr.operands)


@dataclass(frozen=True, slots=True)
class _PortPlan:
    static: tuple[tuple[int, str], ...]  # (host port, protocol) that must be free
    layout: tuple[tuple[int, str], ...]  # per demand port: (static host port or 0 = dynamic, protocol)
    awsvpc: bool


def _port_plan(demand: TaskDemand) -> _PortPlan:
    mode = demand.network_mode
    if mode in ("awsvpc", "none"):
        return _PortPlan((), tuple((p.host_port or p.container_port, p.protocol) for p in demand.ports), True)
    layout = []
    for p in demand.ports:
        host = (p.host_port or p.container_port) if mode == "host" else p.host_port
        layout.append((host, p.protocol))
    static = tuple(dict.fromkeys(x for x in layout if x[0]))
    return _PortPlan(static, tuple(layout), False)


# --- the placer ----------------------------------------------------------------------------


class Placer:
    """Places tasks on ``nodes`` (mutated in place: remaining resources, ports, group counts)."""

    def __init__(self, nodes: list[Node], *, seed: int = 0) -> None:
        self.nodes: list[Node] = sorted(nodes, key=lambda n: n.id)
        self.rng = random.Random(seed)
        self._reset()

    # -- bookkeeping --------------------------------------------------------------------

    def _reset(self) -> None:
        self._pos = {n.id: i for i, n in enumerate(self.nodes)}
        self._group_nodes: dict[str, set[int]] = {}
        for i, n in enumerate(self.nodes):
            for g, c in n.groups.items():
                if c > 0:
                    self._group_nodes.setdefault(g, set()).add(i)
        self._indexes: dict[tuple[str, ...], _Index] = {}
        self._columns: dict[str, list] = {}  # attribute -> value per node (see _column)
        self._choosers: dict[str, _StopChooser] = {}  # group -> the scale-in choice kept for its next step
        self._watched: dict[str, list[int]] = {}  # group -> nodes whose count of it changed since
        self._counts: dict[tuple[str, str], Counter] = {}  # (group, attr) -> value -> tasks
        self._counted: dict[str, list[tuple[Counter, list]]] = {}  # group -> (kept count, its attribute's column)
        self._cql: dict[str, tuple[Callable, dict[int, bool], bool]] = {}
        self._dynamic_cql: list[dict[int, bool]] = []
        # where _first_with_room resumes a run of one filter's searches: part id -> (part, filter,
        # group, loosened then, slot); every slot before it was refused, which holds until a
        # release or a revival (``_loosened`` counts those), for a filter without a memberOf on
        # task groups or task counts (any placement may change what those admit)
        self._resume: dict[int, tuple] = {}
        self._loosened = 0
        self._plans: dict[TaskDemand, _PortPlan] = {}
        self._plan_of: dict[int, tuple[TaskDemand, _PortPlan]] = {}  # id(demand) -> (demand, plan): no hashing
        self._ephemeral: dict[tuple[int, str], list] = {}
        self._min_cpu = self._min_mem = _INF  # the smallest demand seen (see _alive)
        self._dead: set[int] = set()
        self._pending: dict[int, tuple[int, int, tuple[str, ...]]] = {}  # releases the indexes have not seen yet (see _changed)
        self._version = getattr(self, "_version", -1) + 1  # bumped by every placement, release and refresh
        self._diagnosed: dict[tuple, tuple[int, Unplaced]] = {}  # (node, protocol) -> [high-water mark, freed heap]

    def refresh(self, instance_id: str | None = None) -> None:
        """Forget derived data after a :class:`Node` was changed (or added to ``nodes``) outside the placer."""
        self.nodes.sort(key=lambda n: n.id)
        self._reset()

    def add_node(self, node: Node) -> None:
        self.nodes.append(node)
        self.refresh()

    @property
    def version(self) -> int:
        """Bumped by every placement and release (a caller may memoise answers against it)."""
        return self._version

    def node(self, instance_id: str) -> Node:
        return self.nodes[self._pos[instance_id]]

    def _value(self, i: int, attr: str):
        n = self.nodes[i]
        v = n.attributes.get(attr)
        if v is None and attr == ZONE_ATTRIBUTE:
            v = n.availability_zone or None
        return v

    def _column(self, attr: str) -> list:
        """``_value(i, attr)`` of every node, by index (kept until the placer is refreshed)."""
        column = self._columns.get(attr)
        if column is None:
            column = self._columns[attr] = [self._value(i, attr) for i in range(len(self.nodes))]
        return column

    def _alive(self, i: int) -> bool:
        """Whether node ``i`` could take the smallest task this placer has been asked for.

        Nodes that cannot (full, draining, disconnected) are left out of the scan lists, so a
        nearly full cluster is not re-scanned for every task; a smaller demand or a release
        brings them back.
        """
        n = self.nodes[i]
        return (n.status == "ACTIVE" and n.agent_connected
                and n.remaining_cpu >= self._min_cpu and n.remaining_memory >= self._min_mem)

    def _lower_floor(self, demand: TaskDemand) -> None:
        if self._pending:
            self._flush()
        if demand.cpu >= self._min_cpu and demand.memory >= self._min_mem:
            return
        first = self._min_cpu == _INF
        self._min_cpu = min(self._min_cpu, demand.cpu)
        self._min_mem = min(self._min_mem, demand.memory)
        if first:
            self._indexes = {}
            self._dead = {i for i in range(len(self.nodes)) if not self._alive(i)}
            return
        for i in sorted(self._dead):
            if self._alive(i):
                self._revive(i)

    def _revive(self, i: int) -> None:
        self._dead.discard(i)
        self._loosened += 1
        n = self.nodes[i]
        for idx in self._indexes.values():
            part = idx.part_of[i]
            insort(part.ids, i)
            for group, buckets in part.buckets.items():
                self._bucket_add(buckets, n.groups.get(group, 0), i)
            for fld, lst in part.bp.items():
                if fld == "cpu":
                    lst.add((n.remaining_cpu, i), n.remaining_memory)
                else:
                    lst.add((n.remaining_memory, i), n.remaining_cpu)

    def _bury(self, i: int, old_cpu: int, old_mem: int) -> None:
        self._dead.add(i)
        for idx in self._indexes.values():
            part = idx.part_of[i]
            ids = part.ids
            del ids[bisect_left(ids, i)]
            for fld, lst in part.bp.items():
                lst.remove((old_cpu if fld == "cpu" else old_mem, i))

    def _index(self, attrs: tuple[str, ...]) -> _Index:
        idx = self._indexes.get(attrs)
        if idx is None:
            idx = _Index(attrs)
            dead = self._dead
            columns = [self._column(a) for a in attrs]
            for i in range(len(self.nodes)):
                key = tuple([column[i] for column in columns])
                part = idx.parts.get(key)
                if part is None:
                    part = idx.parts[key] = _Part(key)
                if i not in dead:
                    part.ids.append(i)
                idx.part_of.append(part)
                idx.slot_of.append(len(part.every))
                part.every.append(i)
            self._indexes[attrs] = idx
        return idx

    def _room(self, i: int) -> tuple[int, int]:
        """CPU and memory node ``i`` has left for a task (-1: none, it is not ACTIVE or not connected)."""
        n = self.nodes[i]
        if n.status != "ACTIVE" or not n.agent_connected:
            return -1, -1
        return n.remaining_cpu, n.remaining_memory

    def _fit_tree(self, part: _Part) -> FitTree:
        if part.tree is None:
            part.tree = FitTree([self._room(i) for i in part.every])
        return part.tree

    def _binpack_list(self, part: _Part, fld: str) -> RoomList:
        lst = part.bp.get(fld)
        if lst is None:
            nodes = self.nodes
            if fld == "cpu":
                lst = RoomList([(nodes[i].remaining_cpu, i, nodes[i].remaining_memory) for i in part.ids])
            else:
                lst = RoomList([(nodes[i].remaining_memory, i, nodes[i].remaining_cpu) for i in part.ids])
            part.bp[fld] = lst
        return lst

    def _count_buckets(self, part: _Part, group: str) -> dict[int, list[int]]:
        """The partition's alive instances by how many tasks of ``group`` they hold, each bucket in
        ascending index order; kept up to date by :meth:`_changed` and read through
        :meth:`_bucket_members`, which drops entries that went stale (moved or buried)."""
        buckets = part.buckets.get(group)
        if buckets is None:
            buckets = part.buckets[group] = {}
            nodes = self.nodes
            for i in part.ids:
                buckets.setdefault(nodes[i].groups.get(group, 0), []).append(i)
        return buckets

    def _bucket_members(self, lst: list[int], count: int, group: str):
        nodes, dead = self.nodes, self._dead
        k = 0
        while k < len(lst):
            i = lst[k]
            if i in dead or nodes[i].groups.get(group, 0) != count:
                del lst[k]
                continue
            yield i
            k += 1

    @staticmethod
    def _bucket_add(buckets: dict[int, list[int]], count: int, i: int) -> None:
        lst = buckets.setdefault(count, [])
        k = bisect_left(lst, i)
        if k == len(lst) or lst[k] != i:
            lst.insert(k, i)

    def _group_counts(self, group: str, attr: str) -> Counter:
        key = (group, attr)
        counts = self._counts.get(key)
        if counts is None:
            counts = Counter()
            for i in self._group_nodes.get(group, ()):
                counts[self._value(i, attr)] += self.nodes[i].groups[group]
            self._counts[key] = counts
            self._counted.setdefault(group, []).append((counts, self._column(attr)))
        return counts

    def _changed(self, i: int, old_cpu: int, old_mem: int, group: str, delta: int, *, defer: bool = False) -> None:
        """Keep indexes, counts and caches in step after node ``i`` changed (one placement or
        release: hot, so written out).  The counts, the group's members and the caches follow
        at once; the indexes (partition lists, fit trees, binpack lists, count buckets and the
        dead set) follow at once after a placement, and after a release (``defer``) only when
        the indexes are next read (:meth:`_flush`): a round that only stops tasks, as a
        deployment's last step does, then never pays for them, and several releases of one
        instance are one update.  ``old_cpu``/``old_mem``: what the indexes hold for ``i``."""
        self._version += 1
        n = self.nodes[i]
        count = n.groups.get(group, 0)
        if defer:
            seen = self._pending.get(i)
            if seen is None:
                self._pending[i] = (old_cpu, old_mem, (group,))
            elif group not in seen[2]:
                self._pending[i] = (seen[0], seen[1], seen[2] + (group,))
        else:
            self._reindex(i, old_cpu, old_mem, (group,))
        counted = self._counted.get(group)
        if counted:
            for counts, column in counted:
                counts[column[i]] += delta
        if self._watched:
            watched = self._watched.get(group)
            if watched is not None:
                watched.append(i)
                if len(watched) > 4 * len(self.nodes):  # not asked again for long: let it go
                    del self._watched[group], self._choosers[group]
        members = self._group_nodes.get(group)
        if count > 0:
            if members is None:
                members = self._group_nodes[group] = set()
            members.add(i)
        else:
            if members is not None:
                members.discard(i)
            n.groups.pop(group, None)
        if self._dynamic_cql:
            for cache in self._dynamic_cql:
                cache.pop(i, None)

    def _flush(self) -> None:
        """Bring the indexes up to date with the releases :meth:`_changed` deferred (before
        anything reads them or a placement changes a node): each instance once, from what the
        indexes hold for it to what it has now (the indexes' answers depend on those alone)."""
        pending, self._pending = self._pending, {}
        for i, (old_cpu, old_mem, groups) in pending.items():
            self._reindex(i, old_cpu, old_mem, groups)

    def _reindex(self, i: int, old_cpu: int, old_mem: int, groups) -> None:
        """The indexes' part of :meth:`_changed`: node ``i`` had ``old_cpu``/``old_mem`` left
        (as the indexes hold it) and the counts of ``groups`` on it may have moved."""
        n = self.nodes[i]
        cpu, mem = n.remaining_cpu, n.remaining_memory
        up = n.status == "ACTIVE" and n.agent_connected
        was_alive = i not in self._dead
        alive = up and cpu >= self._min_cpu and mem >= self._min_mem  # _alive and _room written out (hot)
        if alive != was_alive:
            if was_alive:
                self._bury(i, old_cpu, old_mem)
            else:
                self._revive(i)
        room_cpu, room_mem = (cpu, mem) if up else (-1, -1)  # (_room)
        node_groups = n.groups
        for idx in self._indexes.values():
            part = idx.part_of[i]
            if part.tree is not None:
                part.tree.set(idx.slot_of[i], room_cpu, room_mem)
            if not alive:
                continue
            if was_alive and part.bp:
                for fld, lst in part.bp.items():
                    if fld == "cpu":
                        if old_cpu != cpu:
                            lst.move((old_cpu, i), (cpu, i), mem)
                        else:
                            lst.set_other((cpu, i), mem)
                    elif old_mem != mem:
                        lst.move((old_mem, i), (mem, i), cpu)
                    else:
                        lst.set_other((mem, i), cpu)
            if part.buckets:
                for group in groups:
                    buckets = part.buckets.get(group)
                    if buckets is not None:  # (_bucket_add, inline)
                        count = node_groups.get(group, 0)
                        lst = buckets.get(count)
                        if lst is None:
                            buckets[count] = [i]
                        else:
                            k = bisect_left(lst, i)
                            if k == len(lst) or lst[k] != i:
                                lst.insert(k, i)

    # -- filtering ----------------------------------------------------------------------

    def _member_of(self, text: str) -> tuple[Callable, dict[int, bool], bool]:
        entry = self._cql.get(text)
        if entry is None:
            check = cql.compiled(text)
            dynamic = _mentions_dynamic(cql.parse(text))
            cache: dict[int, bool] = {}
            entry = self._cql[text] = (check, cache, dynamic)
            if dynamic:
                self._dynamic_cql.append(cache)
        return entry

    def _plan(self, demand: TaskDemand) -> _PortPlan:
        seen = self._plan_of.get(id(demand))  # callers hand the same demand object again and again
        if seen is not None and seen[0] is demand:
            return seen[1]
        plan = self._plans.get(demand)
        if plan is None:
            plan = self._plans[demand] = _port_plan(demand)
        self._plan_of[id(demand)] = (demand, plan)  # holds ``demand``: its id is not reused
        return plan

    def _fits_fn(self, demand: TaskDemand, group: str, constraints: Sequence[dict]) -> Callable[[int], bool]:
        nodes = self.nodes
        cpu, mem, gpu = demand.cpu, demand.memory, demand.gpu
        eni = demand.network_mode == "awsvpc"  # one elastic network interface per task on EC2
        static = self._plan(demand).static
        limit = MAX_RESERVED_PORTS - len(static)
        distinct = False
        members = []
        for c in constraints:
            kind = c.get("type")
            if kind == "distinctInstance":
                distinct = True
            elif kind == "memberOf":
                members.append(self._member_of(c.get("expression") or ""))
            else:
                raise ValueError(f"unknown placement constraint type {kind!r}; use distinctInstance or memberOf")
        required = demand.required_attributes
        dynamic = any(entry[2] for entry in members)

        def fits(i: int) -> bool:
            n = nodes[i]
            if n.remaining_memory < mem or n.remaining_cpu < cpu:
                return False
            if n.status != "ACTIVE" or not n.agent_connected:
                return False
            if gpu and n.remaining_gpu < gpu:
                return False
            if eni and n.remaining_eni is not None and n.remaining_eni < 1:
                return False
            if static:
                used, dyn = n.used_ports, n.dynamic_ports
                if len(used) > limit:
                    return False
                for p in static:
                    if p in used or p in dyn:
                        return False
            if distinct and n.groups.get(group):
                return False
            if required:
                attrs = n.attributes
                for name, value in required:
                    if name not in attrs or (value is not None and attrs[name] != value):
                        return False
            for check, cache, _ in members:
                ok = cache.get(i)
                if ok is None:
                    ok = cache[i] = check(n.cql_view())
                if not ok:
                    return False
            return True

        fits.resumable = not dynamic  # type: ignore[attr-defined]  # see _first_with_room
        return fits

    # -- ranking ------------------------------------------------------------------------

    def _key(self, i: int, s: _Strategy, group: str) -> int:
        n = self.nodes[i]
        if s.kind == "binpack":
            return n.remaining_cpu if s.field == "cpu" else n.remaining_memory
        if s.kind == "inst":
            return n.groups.get(group, 0)
        if s.kind == "attr":
            return self._group_counts(group, s.field)[self._value(i, s.field)]
        return 0

    def _narrow(self, cands: list[int], chain: Sequence[_Strategy], group: str) -> int:
        for s in chain:
            if len(cands) == 1:
                break
            if s.kind == "random":
                cands.sort()
                return self.rng.choice(cands)
            keys = [self._key(i, s, group) for i in cands]
            best = min(keys)
            cands = [i for i, k in zip(cands, keys) if k == best]
        return min(cands)

    def _search(self, index: _Index, part: _Part, rest: Sequence[_Strategy], fits: Callable[[int], bool],
                group: str) -> list[int]:
        """Candidates of ``part``: its best by the first per-instance strategy (with ties when
        more strategies follow), or every eligible one when no index helps."""
        nodes = self.nodes
        first = rest[0] if rest else None
        if first is None:
            for i in part.ids:
                if fits(i):
                    return [i]
            return []
        if first.kind == "binpack":
            return self._walk_binpack(part, first.field, fits, more=len(rest) > 1, level=None, group=group)
        if first.kind == "inst":
            second = rest[1] if len(rest) > 1 else None
            if second is not None and second.kind == "binpack":
                found = self._walk_binpack(part, second.field, fits, more=len(rest) > 2, level=0, group=group)
                if found:
                    return found
            holders = self._group_nodes.get(group, ())
            if len(holders) * 4 < len(part.ids):
                # most of the partition holds no task of the group: those with room, in id order,
                # through the tree (a nearly full cluster is not scanned), then the few that hold one
                if second is None or second.kind != "binpack":
                    found = self._first_with_room(part, group, fits, every=second is not None)
                    if found:
                        return found
                by_count: dict[int, list[int]] = {}
                part_of, dead, nodes = index.part_of, self._dead, self.nodes
                for i in holders:
                    if part_of[i] is part and i not in dead:
                        by_count.setdefault(nodes[i].groups[group], []).append(i)
                for count in sorted(by_count):
                    cands = [i for i in sorted(by_count[count]) if fits(i)]
                    if cands:
                        return cands if second is not None else cands[:1]
                return []
            buckets = self._count_buckets(part, group)
            for count in sorted(buckets):
                if count == 0 and second is not None and second.kind == "binpack":
                    continue  # walked above, in binpack order
                lst = buckets[count]
                if second is None:  # (_bucket_members, inline: the first member that fits)
                    dead = self._dead
                    k = 0
                    while k < len(lst):
                        i = lst[k]
                        if i in dead or nodes[i].groups.get(group, 0) != count:
                            del lst[k]
                            continue
                        if fits(i):
                            return [i]
                        k += 1
                    continue
                cands = [i for i in self._bucket_members(lst, count, group) if fits(i)]
                if cands:
                    return cands
            return []
        # random (or a strategy only the generic pass handles): every eligible instance
        return [i for i in part.ids if fits(i)]

    def _first_with_room(self, part: _Part, group: str, fits: Callable[[int], bool], *, every: bool) -> list[int]:
        """The partition's instances without a task of ``group`` that ``fits``, in id order: the
        first one (``every``: all of them).

        A run of one service's placements asks with one filter again and again, and each answer
        then holds a task of the group: the first search resumes where the last one found its
        instance (:attr:`_resume`), instead of passing over the run's own instances again, as long
        as nothing could have made an instance before it acceptable (``_loosened``)."""
        tree = self._fit_tree(part)
        cpu, mem = self._need.cpu, self._need.memory
        nodes, dead, members = self.nodes, self._dead, part.every
        found: list[int] = []
        start = 0
        if not every and fits.resumable:
            hint = self._resume.get(id(part))
            if hint is not None and hint[0] is part and hint[1] is fits and hint[2] == group \
                    and hint[3] == self._loosened:
                start = hint[4]
        k = tree.first(start, cpu, mem)
        while k >= 0:
            i = members[k]
            if not nodes[i].groups.get(group) and i not in dead and fits(i):
                if not every:
                    if fits.resumable:
                        self._resume[id(part)] = (part, fits, group, self._loosened, k)
                    return [i]
                found.append(i)
            k = tree.first(k + 1, cpu, mem)
        return found

    def _walk_binpack(self, part: _Part, fld: str, fits, *, more: bool, level: int | None, group: str) -> list[int]:
        lst = self._binpack_list(part, fld)
        need = self._need
        least, other = (need.cpu, need.memory) if fld == "cpu" else (need.memory, need.cpu)
        nodes = self.nodes
        found: list[int] = []
        best = None
        # RoomList.walk written out (a generator per placement costs a few % here): blocks whose
        # bound of the other resource is below the need are passed over whole
        blocks, tops = lst.blocks, lst.tops
        k0, j0 = lst.start(least)
        for k in range(k0, len(blocks)):
            if tops[k] < other:
                continue
            block = blocks[k]
            hit = False
            for j in range(j0 if k == k0 else 0, len(block)):
                value, i, has = block[j]
                if has < other:
                    continue
                hit = True
                if best is not None and value != best:
                    return found
                if level is not None and nodes[i].groups.get(group, 0) != level:
                    continue
                if fits(i):
                    if not more:
                        return [i]
                    best = value
                    found.append(i)
            if not hit and (k != k0 or not j0):
                tops[k] = max(map(other_of, block))  # read whole without a match: the true bound
        return found

    # -- the API ------------------------------------------------------------------------

    def place(self, demand: TaskDemand, *, group: str, constraints: Sequence[dict] = (),
              strategies: Sequence[dict] | None = None) -> Placed | Unplaced:
        """Pick one node and commit: deduct cpu/memory/gpu, take ports, count the group. Deterministic."""
        return self.placing(demand, group=group, constraints=constraints, strategies=strategies)()

    def place_on(self, instance_id: str, demand: TaskDemand, *, group: str,
                 constraints: Sequence[dict] = ()) -> Placed | Unplaced:
        """Place one task on ``instance_id`` only (a daemon's task), committing it if it fits;
        else why not, as that one instance would say (``NO_INSTANCES`` if it is not ACTIVE)."""
        i = self._pos.get(instance_id)
        if i is None:
            return Unplaced("MISSING", instance_id, f"{_UNABLE} The container instance {instance_id} is not in the cluster.")
        self._lower_floor(demand)
        if self._fits_fn(demand, group, constraints)(i):
            return self._commit(i, demand, group)
        return Placer([self.nodes[i].clone()], seed=0).diagnose(demand, group=group, constraints=constraints)

    def placing(self, demand: TaskDemand, *, group: str, constraints: Sequence[dict] = (),
                strategies: Sequence[dict] | None = None) -> Callable[[], Placed | Unplaced]:
        """:meth:`place` for one task after another of the same kind: the filter and the strategy
        chain are made once.  Each call places (and commits) one task."""
        self._lower_floor(demand)
        fits = self._fits_fn(demand, group, constraints)
        chain = self._chain(strategies)
        split = self._split(chain)
        attrs, rest = split
        if len(attrs) == 1 and len(rest) == 1 and rest[0].kind == "inst":  # the default chain, written out
            return self._spread_run(demand, group, fits, constraints, attrs[0])
        return lambda: self._place(demand, group, fits, constraints, chain, split)

    def place_many(self, demand: TaskDemand, count: int, *, group: str, constraints: Sequence[dict] = (),
                   strategies: Sequence[dict] | None = None) -> list[Placed | Unplaced]:
        """``count`` placements in a row; once one fails the rest fail the same way."""
        place = self.placing(demand, group=group, constraints=constraints, strategies=strategies)
        out: list[Placed | Unplaced] = []
        for _ in range(count):
            r = place()
            out.append(r)
            if isinstance(r, Unplaced):
                out.extend([r] * (count - len(out)))
                break
        return out

    @staticmethod
    def _chain(strategies: Sequence[dict] | None) -> tuple[_Strategy, ...]:
        raw = DEFAULT_STRATEGIES if strategies is None else strategies
        chain: list[_Strategy] = []
        for s in raw:
            st = _strategy(s)
            chain.append(st)
            if st.kind == "random":
                break  # random picks one; nothing after it can matter
        return tuple(chain)

    @staticmethod
    def _split(chain: Sequence[_Strategy]) -> tuple[tuple[str, ...], tuple[_Strategy, ...]]:
        """The leading ``spread(attribute)`` fields of a chain, and the strategies after them."""
        k = 0
        while k < len(chain) and chain[k].kind == "attr":
            k += 1
        return tuple(s.field for s in chain[:k]), tuple(chain[k:])

    def _place(self, demand, group, fits, constraints, chain, split=None) -> Placed | Unplaced:
        if self._pending:
            self._flush()
        self._need = demand
        attrs, rest = split or self._split(chain)
        index = self._index(attrs)
        parts = [p for p in index.parts.values() if p.ids]
        if attrs and len(parts) > 1:
            if len(attrs) == 1:
                count = self._group_counts(group, attrs[0])
                keyed = sorted([((count[p.key[0]],), p) for p in parts], key=_first)
            else:
                counts = [self._group_counts(group, a) for a in attrs]
                keyed = sorted([(tuple(c[v] for c, v in zip(counts, p.key)), p) for p in parts], key=_first)
            tiers: list[list[_Part]] = []
            last = None
            for key, p in keyed:
                if key != last:
                    tiers.append([])
                    last = key
                tiers[-1].append(p)
        else:
            tiers = [parts]
        sample = len(rest) == 1 and rest[0].kind == "random"
        for tier in tiers:
            if sample:  # random: rejection-sample the tier (uniform over the eligible) before a full scan
                sizes = [len(p.ids) for p in tier]
                total = sum(sizes)
                for _ in range(16 if total > 64 else 0):
                    j = self.rng.randrange(total)
                    for p, size in zip(tier, sizes):
                        if j < size:
                            i = p.ids[j]
                            break
                        j -= size
                    if fits(i):
                        return self._commit(i, demand, group)
            cands: list[int] = []
            for p in tier:
                cands.extend(self._search(index, p, rest, fits, group))
            if cands:
                chosen = self._narrow(cands, rest, group) if len(cands) > 1 else cands[0]
                return self._commit(chosen, demand, group)
        return self.diagnose(demand, group=group, constraints=constraints)

    def _spread_run(self, demand, group, fits, constraints, attr: str) -> Callable[[], Placed | Unplaced]:
        """:meth:`_place_spread` for one task after another: a partition's candidate (what
        :meth:`_search` found in it) is kept until that partition changes.  Between two calls
        of the run, only the run's own placement changed the placer (its version moved by
        one), and only in the partition it went to; anything else (a release, another run's
        placement) and every candidate is searched again."""
        found: dict[int, int] = {}  # id(partition) -> its candidate, -1 for none
        after: list = [None]  # the placer's version, revivals and index after the run's last call

        def place() -> Placed | Unplaced:
            if (self._version, self._loosened, self._indexes.get((attr,))) != after[0]:
                found.clear()
            result = self._place_spread(demand, group, fits, constraints, attr, found)
            after[0] = (self._version, self._loosened, self._indexes.get((attr,)))
            return result

        return place

    def _place_spread(self, demand, group, fits, constraints, attr: str, found: dict[int, int]) -> Placed | Unplaced:
        """:meth:`_place` for the chain ``spread(attribute:attr), spread(instanceId)`` (the
        default one, a service's usual), written out: the same tiers of partitions by the
        group's count of their value (ties in index order), each partition searched by
        :meth:`_search`, and the same narrowing of the tier's candidates (:meth:`_narrow`: the
        fewest tasks of the group, then the lowest index), without the general path's lists and
        tuples per placement (tested against it).  ``found``: candidates of partitions that did
        not change since they were searched (see :meth:`_spread_run`); the one placed in is
        dropped from it."""
        if self._pending:
            self._flush()
        self._need = demand
        key = (attr,)
        index = self._indexes.get(key) or self._index(key)
        todo: list = [p for p in index.parts.values() if p.ids]
        if len(todo) > 1:
            count = self._counts.get((group, attr))
            if count is None:
                count = self._group_counts(group, attr)
            level_of = count.get
            todo = [(level_of(p.key[0], 0), p) for p in todo]
        else:
            todo = [(0, p) for p in todo]
        nodes = self.nodes
        while todo:  # the tiers, fewest tasks of the group first (a few zones: no sort)
            level = todo[0][0]
            for entry in todo:
                if entry[0] < level:
                    level = entry[0]
            best = -1
            best_count = 0
            for tier_level, part in todo:
                if tier_level != level:
                    continue
                cand = found.get(id(part), -2)
                if cand == -2:
                    hit = self._search(index, part, _INST_ONLY, fits, group)
                    cand = found[id(part)] = hit[0] if hit else -1
                if cand >= 0:
                    c = nodes[cand].groups.get(group, 0)
                    if best < 0 or c < best_count or (c == best_count and cand < best):
                        best, best_count = cand, c
            if best >= 0:
                found.pop(id(index.part_of[best]), None)
                return self._commit(best, demand, group)
            todo = [entry for entry in todo if entry[0] != level]
        return self.diagnose(demand, group=group, constraints=constraints)

    def _commit(self, i: int, demand: TaskDemand, group: str) -> Placed:
        if self._pending:  # the indexes see the releases before this placement changes a node
            self._flush()
        n = self.nodes[i]
        old_cpu, old_mem = n.remaining_cpu, n.remaining_memory
        n.remaining_cpu -= demand.cpu
        n.remaining_memory -= demand.memory
        if demand.gpu:
            n.remaining_gpu -= demand.gpu
        seen = self._plan_of.get(id(demand))  # (_plan, inline: tasks start by the thousand)
        plan = seen[1] if seen is not None and seen[0] is demand else self._plan(demand)
        host_ports: list[int] = []
        if plan.awsvpc:  # (awsvpc, or none: the ports are the task's own)
            if n.remaining_eni is not None and demand.network_mode == "awsvpc":
                n.remaining_eni -= 1
            host_ports = [p for p, _ in plan.layout]
        elif plan.layout:
            used, dyn = n.used_ports, n.dynamic_ports
            for port, proto in plan.layout:
                if port:
                    used.add((port, proto))
                else:
                    port = self._dynamic_port(i, proto)
                    dyn.add((port, proto))
                host_ports.append(port)
        groups = n.groups
        groups[group] = groups.get(group, 0) + 1
        n.running_tasks += 1
        self._changed(i, old_cpu, old_mem, group, +1)
        return Placed(n.id, tuple(host_ports))

    def _dynamic_port(self, i: int, proto: str) -> int:
        """The lowest free port of the ephemeral range: a high-water mark plus a heap of ports
        freed below it, so a busy instance does not rescan its ports for every task."""
        n = self.nodes[i]
        used, dyn = n.used_ports, n.dynamic_ports
        lo, hi = EPHEMERAL_RANGE
        state = self._ephemeral.get((i, proto))
        if state is None:
            top = max((p for p, pr in dyn if pr == proto and lo <= p <= hi), default=lo - 1)
            gaps = [p for p in range(lo, top) if (p, proto) not in dyn and (p, proto) not in used]
            state = self._ephemeral[(i, proto)] = [top + 1, gaps]  # sorted list: a valid heap
        heap = state[1]
        while heap:
            port = heappop(heap)
            if (port, proto) not in dyn and (port, proto) not in used:
                return port
        port = state[0]
        while (port, proto) in dyn or (port, proto) in used:
            port += 1
        if port > hi:
            raise RuntimeError(f"no free port left in the ephemeral range on {n.id}")
        state[0] = port + 1
        return port

    def _freed_port(self, i: int, port: int, proto: str) -> None:
        state = self._ephemeral.get((i, proto))
        if state is not None and port < state[0]:
            heappush(state[1], port)

    def release(self, instance_id: str, demand: TaskDemand, host_ports: Sequence[int], group: str) -> None:
        """Give a stopped task's resources back (an unknown instance is ignored)."""
        i = self._pos.get(instance_id)
        if i is None:
            return
        self._loosened += 1  # room, ports and the group's count come back: a refused instance may fit now
        n = self.nodes[i]
        old_cpu, old_mem = n.remaining_cpu, n.remaining_memory
        n.remaining_cpu += demand.cpu
        n.remaining_memory += demand.memory
        if demand.gpu:
            n.remaining_gpu += demand.gpu
        seen = self._plan_of.get(id(demand))  # (_plan, inline: tasks stop by the thousand)
        plan = seen[1] if seen is not None and seen[0] is demand else self._plan(demand)
        if n.remaining_eni is not None and demand.network_mode == "awsvpc":
            n.remaining_eni += 1
        if not plan.awsvpc and host_ports:
            for (static, proto), port in zip(plan.layout, host_ports):
                taken = (port, proto)
                if static:
                    if taken not in _RESERVED_TCP and taken in n.used_ports:
                        n.used_ports.discard(taken)
                        self._freed_port(i, port, proto)
                elif taken in n.dynamic_ports:
                    n.dynamic_ports.discard(taken)
                    state = self._ephemeral.get((i, proto))  # (_freed_port, inline)
                    if state is not None and port < state[0]:
                        heappush(state[1], port)
        groups = n.groups
        if groups.get(group, 0) > 0:
            groups[group] -= 1
        if n.running_tasks > 0:
            n.running_tasks -= 1
        self._changed(i, old_cpu, old_mem, group, -1, defer=True)

    # -- why nothing fits ---------------------------------------------------------------

    def diagnose(self, demand: TaskDemand, *, group: str, constraints: Sequence[dict] = ()) -> Unplaced:
        """The :class:`Unplaced` answer: the reason of the *closest* instance.

        Only ``ACTIVE`` instances are considered (ECS never places on ``DRAINING`` ones; with
        none the answer is ``NO_INSTANCES``); the closest fails the fewest checks, then has the
        earliest failing check in :data:`REASON_PHRASES` order (an agent problem counts last, so
        a connected instance is preferred), then the most of the scarce resource, then the
        lowest id. The answer is cached until the next placement or release.
        """
        distinct = any(c.get("type") == "distinctInstance" for c in constraints)
        exprs = tuple(c.get("expression") or "" for c in constraints if c.get("type") == "memberOf")
        group_matters = distinct or any(self._member_of(e)[2] for e in exprs)
        key = (demand, distinct, exprs, group if group_matters else None)
        hit = self._diagnosed.get(key)
        if hit is not None and hit[0] == self._version:
            return hit[1]
        answer = self._diagnose(demand, group, distinct, exprs)
        if len(self._diagnosed) > 256:
            self._diagnosed.clear()
        self._diagnosed[key] = (self._version, answer)
        return answer

    def _diagnose(self, demand: TaskDemand, group: str, distinct: bool, exprs: tuple[str, ...]) -> Unplaced:
        order = _REASON_ORDER
        o_cpu, o_mem, o_gpu, o_eni, o_tcp, o_udp, o_limit, o_attr, o_member, o_distinct, o_agent = (
            order[k] for k in ("CPU", "MEMORY", "GPU", "ENI", "PORTS", "PORTS_UDP", "PORTS_LIMIT", "ATTRIBUTE",
                               "MEMBER_OF", "DISTINCT", "AGENT"))
        cpu, mem, gpu = demand.cpu, demand.memory, demand.gpu
        eni = demand.network_mode == "awsvpc"
        static = self._plan(demand).static
        required = demand.required_attributes
        members = [self._member_of(e) for e in exprs]
        best = None
        any_active = False
        for i, n in enumerate(self.nodes):
            if n.status != "ACTIVE":
                continue
            any_active = True
            fails, first, scarce = 0, 99, 0
            if n.remaining_cpu < cpu:
                fails, first, scarce = 1, o_cpu, n.remaining_cpu
            if n.remaining_memory < mem:
                fails += 1
                if first > o_mem:
                    first, scarce = o_mem, n.remaining_memory
            if n.remaining_gpu < gpu:
                fails += 1
                if first > o_gpu:
                    first, scarce = o_gpu, n.remaining_gpu
            if eni and n.remaining_eni is not None and n.remaining_eni < 1:
                fails += 1
                first = min(first, o_eni)
            if static:
                used, dyn = n.used_ports, n.dynamic_ports
                tcp = udp = False
                for p in static:
                    if p in used or p in dyn:
                        if p[1] == "udp":
                            udp = True
                        else:
                            tcp = True
                for bad, o in ((tcp, o_tcp), (udp, o_udp), (len(used) + len(static) > MAX_RESERVED_PORTS, o_limit)):
                    if bad:
                        fails += 1
                        first = min(first, o)
            if required:
                attrs = n.attributes
                if any(name not in attrs or (v is not None and attrs[name] != v) for name, v in required):
                    fails += 1
                    first = min(first, o_attr)
            for check, cache, _ in members:
                ok = cache.get(i)
                if ok is None:
                    ok = cache[i] = check(n.cql_view())
                if not ok:
                    fails += 1
                    first = min(first, o_member)
                    break
            if distinct and n.groups.get(group):
                fails += 1
                first = min(first, o_distinct)
            if not n.agent_connected:
                fails += 1
                first = min(first, o_agent)
            if not fails:  # pragma: no cover - only when asked while something fits
                continue
            score = (fails, first, -scarce if first in (o_cpu, o_mem, o_gpu) else 0, i)
            if best is None or score < best:
                best = score
        if best is None:
            if any_active:  # pragma: no cover
                raise RuntimeError("diagnose() called while an instance fits")
            return Unplaced("NO_INSTANCES", None, NO_INSTANCES_MESSAGE)
        name = list(REASON_PHRASES)[best[1]]
        reason, phrase = REASON_PHRASES[name]
        node_id = self.nodes[best[3]].id
        return Unplaced(reason, node_id, f"{_UNABLE} The closest matching container-instance {node_id} {phrase}.")

    # -- scale-in -----------------------------------------------------------------------

    def choose_to_stop(self, tasks: Sequence[tuple[str, str | None]], count: int, *, group: str,
                       strategies: Sequence[dict] | None = None, demand: TaskDemand | None = None) -> list[str]:
        """Which task ids (of ``(task_id, instance_id)`` pairs) to stop, one at a time (§2.3, §2.5).

        Each pick maximises the strategies in order — ``spread``: the value / instance with the
        most tasks of the group (so the rest stays balanced); ``binpack``: the instance that will
        have the most remaining afterwards; ``random``: seeded — then the highest instance id and
        task id. The default (no strategy) is the AZ with the most tasks of the group, then the
        instance with the most. ``demand`` (optional) is added back to an instance's remaining
        resources after each pick. Nothing is committed; call :meth:`release` for each.
        """
        chain = self._chain(strategies)
        if any(s.kind == "random" for s in chain) or any(
                s.kind == "attr" for s in chain[sum(1 for _ in _leading_attrs(chain)):]):
            return self._choose_to_stop_scan(tasks, count, group=group, chain=chain, demand=demand)
        kept = self._choosers.get(group)
        if kept is not None and kept.chain == chain and kept.holds(tasks):
            kept.catch_up(self._watched.pop(group, ()))  # a deployment's next step: the same tasks, fewer
        else:
            kept = _StopChooser(self, tasks, group, chain, demand)
            self._choosers.pop(group, None)
            self._watched.pop(group, None)
        chosen = kept.pick(count)
        if kept.lasting:
            self._choosers[group] = kept
            self._watched[group] = []  # nodes whose count of the group changes from now on (_changed)
        return chosen

    def _choose_to_stop_scan(self, tasks: Sequence[tuple[str, str | None]], count: int, *, group: str,
                             chain: tuple, demand: TaskDemand | None) -> list[str]:
        """:meth:`choose_to_stop` by re-ranking every instance for every pick (O(picks x instances)):
        for chains with ``random`` or a ``spread(attribute)`` after a per-instance strategy."""
        pending = sorted(tasks, key=lambda t: (t[1] or "", t[0]))
        per_instance: Counter = Counter(inst for _, inst in pending)
        # tasks of the group per instance: what the placer knows, at least what is listed
        counts: dict[str, int] = {}
        for inst in per_instance:
            i = self._pos.get(inst) if inst else None
            known = self.nodes[i].groups.get(group, 0) if i is not None else 0
            counts[inst] = max(known, per_instance[inst])
        for g_i in self._group_nodes.get(group, ()):
            nid = self.nodes[g_i].id
            counts.setdefault(nid, self.nodes[g_i].groups.get(group, 0))
        extra_cpu: Counter = Counter()
        extra_mem: Counter = Counter()

        def value(inst: str, attr: str):
            i = self._pos.get(inst) if inst else None
            return self._value(i, attr) if i is not None else None

        by_value: dict[str, Counter] = {}

        def value_counts(attr: str) -> Counter:
            vc = by_value.get(attr)
            if vc is None:
                vc = by_value[attr] = Counter()
                for other, c in counts.items():
                    vc[value(other, attr)] += c
            return vc

        def key(inst: str, s: _Strategy) -> int:
            if s.kind == "inst":
                return counts.get(inst, 0)
            if s.kind == "attr":
                return value_counts(s.field)[value(inst, s.field)]
            if s.kind == "binpack":
                i = self._pos.get(inst) if inst else None
                if i is None:
                    return 1 << 62  # an instance the placer does not know: stop its task first
                n = self.nodes[i]
                if s.field == "cpu":
                    return n.remaining_cpu + extra_cpu[inst] + (demand.cpu if demand else 0)
                return n.remaining_memory + extra_mem[inst] + (demand.memory if demand else 0)
            return 0

        chosen: list[str] = []
        while pending and len(chosen) < count:
            insts = sorted({inst for _, inst in pending}, key=lambda x: x or "")
            for s in chain:
                if len(insts) == 1:
                    break
                if s.kind == "random":
                    insts = [self.rng.choice(insts)]
                    break
                keys = [key(x, s) for x in insts]
                top = max(keys)
                insts = [x for x, k in zip(insts, keys) if k == top]
            inst = insts[-1]
            on_it = [t for t in pending if t[1] == inst]
            task = on_it[-1]
            pending.remove(task)
            chosen.append(task[0])
            counts[inst] = counts.get(inst, 1) - 1
            for attr, vc in by_value.items():
                vc[value(inst, attr)] -= 1
            if demand is not None:
                extra_cpu[inst] += demand.cpu
                extra_mem[inst] += demand.memory
        return chosen


def _leading_attrs(chain: Sequence[_Strategy]):
    for s in chain:
        if s.kind != "attr":
            return
        yield s


class _StopChooser:
    """:meth:`Placer.choose_to_stop` for chains of ``spread(attribute)`` strategies followed by
    per-instance ones (``spread(instanceId)``, ``binpack``), in O((picks + tasks) log n).

    Sequential narrowing by strategies is a lexicographic maximum over per-instance key tuples
    (then the highest instance id).  The leading attribute keys depend only on the instance's
    attribute values (the count of the group's tasks per value), so instances are partitioned by
    those values; inside a partition the rest of the key depends on the instance alone, kept in
    a max-heap (entries invalidated lazily when an instance's key moves).  Each pick compares the
    partitions' scores and heap tops: partitions are few (zones, tiers).

    Instances are numbered by *slots* in id order: the placer's node indexes when it knows every
    instance named (the usual case: no sort, values read from the placer's columns), else their
    rank among the ids; a slot the placer does not know has no node."""

    def __init__(self, placer: "Placer", tasks: Sequence[tuple[str, str | None]], group: str,
                 chain: Sequence[_Strategy], demand: TaskDemand | None) -> None:
        self.chain = tuple(chain)
        self.attrs = tuple(s.field for s in _leading_attrs(chain))
        self.rest = tuple(chain[len(self.attrs):])
        self.demand = demand
        self.group = group
        self.placer = placer
        nodes, pos = placer.nodes, placer._pos
        holders = placer._group_nodes.get(group, ())
        # kept for the next step of a deployment when its keys are the group's counts alone
        # (no binpack: remaining resources move with every other group's placements)
        self.lasting = all(s.kind == "inst" for s in self.rest) and all(inst in pos for _, inst in tasks)
        self.left = len(tasks)  # candidates not picked yet
        if all(inst in pos for _, inst in tasks):
            self.node_of: Callable[[int], Node | None] = nodes.__getitem__
            self.names: Callable[[int], str | None] = lambda k: nodes[k].id
            slot = pos.__getitem__
            columns = [placer._column(a) for a in self.attrs]
        else:  # a task on an instance the placer does not know (or on Fargate): rank every id
            ids = sorted({inst for _, inst in tasks} | {nodes[i].id for i in holders}, key=lambda x: x or "")
            rank = {inst: k for k, inst in enumerate(ids)}
            known = [nodes[pos[inst]] if inst in pos else None for inst in ids]
            self.node_of = known.__getitem__
            self.names = ids.__getitem__
            slot = rank.__getitem__
            columns = [[placer._value(pos[inst], a) if inst in pos else None for inst in ids] for a in self.attrs]
            holders = [rank[nodes[i].id] for i in holders]
        # candidate task ids per slot, in id order (the highest stops first)
        self.candidates: dict[int, list[str]] = {}
        for task_id, inst in tasks:
            self.candidates.setdefault(slot(inst), []).append(task_id)
        # tasks of the group per instance: what the placer knows, at least what is listed
        self.counts: dict[int, int] = {}
        for k, listed in self.candidates.items():
            if len(listed) > 1:
                listed.sort()
            node = self.node_of(k)
            known_count = node.groups.get(group, 0) if node is not None else 0
            self.counts[k] = known_count if known_count > len(listed) else len(listed)
        for k in holders:
            if k not in self.counts:
                self.counts[k] = self.node_of(k).groups.get(group, 0)
        self.extra_cpu: Counter = Counter()
        self.extra_mem: Counter = Counter()
        self.value_counts = []
        for column in columns:
            vc: Counter = Counter()
            for k, c in self.counts.items():
                vc[column[k]] += c
            self.value_counts.append(vc)
        self.parts: dict[tuple, list] = {}
        self.part_of: dict[int, tuple] = {}
        self.by_count = len(self.rest) if all(s.kind == "inst" for s in self.rest) else None
        parts, part_of = self.parts, self.part_of
        for k in self.candidates:  # (the usual chains, one zone attribute and spread(instanceId), without calls)
            key = (columns[0][k],) if len(columns) == 1 else tuple(column[k] for column in columns)
            part_of[k] = key
            rest = self._rest_key(k)
            neg = (-rest[0],) if len(rest) == 1 else tuple(-x for x in rest)
            heap = parts.get(key)
            if heap is None:
                heap = parts[key] = []
            heap.append((neg, -k, rest, k))
        for heap in parts.values():
            heapify(heap)
        self.columns = columns

    def holds(self, tasks: Sequence[tuple[str, str | None]]) -> bool:
        """Whether ``tasks`` are exactly the candidates not picked yet (a deployment's next step)."""
        if len(tasks) != self.left:
            return False
        pos, candidates = self.placer._pos, self.candidates
        for task_id, inst in tasks:
            listed = candidates.get(pos.get(inst, -1))
            if not listed or task_id not in listed:
                return False
        return True

    def catch_up(self, changed: Iterable[int]) -> None:
        """Bring the counts up to date after the group's tasks moved on ``changed`` nodes (stops
        of the picked tasks, starts of new ones): what a fresh chooser would count."""
        nodes, group, candidates, counts = self.placer.nodes, self.group, self.candidates, self.counts
        for k in set(changed):
            listed = candidates.get(k)
            known = nodes[k].groups.get(group, 0)
            now = max(known, len(listed)) if listed else known
            delta = now - counts.get(k, 0)
            if not delta:
                continue
            counts[k] = now
            for vc, column in zip(self.value_counts, self.columns):
                vc[column[k]] += delta
            if listed:
                self._push(k)  # the entry with the old key is dropped when it reaches the top

    def _rest_key(self, k: int) -> tuple:
        if self.by_count is not None:  # spread(instanceId) only: the instance's count of the group
            return (self.counts.get(k, 0),) * self.by_count
        out = []
        for s in self.rest:
            if s.kind == "inst":
                out.append(self.counts.get(k, 0))
                continue
            n = self.node_of(k)  # binpack: the instance with the most remaining after the stop
            if n is None:
                out.append(1 << 62)  # an instance the placer does not know: stop its task first
                continue
            d = self.demand
            if s.field == "cpu":
                out.append(n.remaining_cpu + self.extra_cpu[k] + (d.cpu if d else 0))
            else:
                out.append(n.remaining_memory + self.extra_mem[k] + (d.memory if d else 0))
        return tuple(out)

    def _push(self, k: int) -> None:
        key = self._rest_key(k)
        heappush(self.parts[self.part_of[k]], ((-key[0],) if len(key) == 1 else tuple(-x for x in key), -k, key, k))

    def _top(self, key: tuple):
        heap = self.parts[key]
        candidates, by_count = self.candidates, self.by_count
        while heap:
            top = heap[0]
            _, _, rest, k = top
            if candidates.get(k):
                if by_count is not None:  # (_rest_key, inline: spread(instanceId) only)
                    if rest == (self.counts.get(k, 0),) * by_count:
                        return top
                elif rest == self._rest_key(k):
                    return top
            heappop(heap)
        return None

    def _score(self, key: tuple):
        """The partition's best candidate as ``(score, slot)``: the attribute counts of the
        partition, the top's per-instance key, its slot (None: no candidate left)."""
        top = self._top(key)
        if top is None:
            return None
        value_counts = self.value_counts
        if len(value_counts) == 1:  # one leading attribute (the usual chain): without a generator
            return (value_counts[0][key[0]],) + top[2] + (top[3],), top[3]
        return tuple(vc[v] for vc, v in zip(value_counts, key)) + top[2] + (top[3],), top[3]

    def pick(self, count: int) -> list[str]:
        chosen: list[str] = []
        # with at most one leading attribute a pick changes only its own partition's score (no
        # two partitions share a value): the others' are kept from one pick to the next
        single = len(self.attrs) <= 1
        scores = {key: self._score(key) for key in self.parts} if single else None
        while len(chosen) < count:
            best = None
            for key in self.parts:
                found = scores[key] if single else self._score(key)
                if found is not None and (best is None or found[0] > best[0]):
                    best = found  # slots are unique, so scores never tie
            if best is None:
                break
            k = best[1]
            chosen.append(self.candidates[k].pop())
            self.left -= 1
            self.counts[k] = self.counts.get(k, 1) - 1
            for vc, v in zip(self.value_counts, self.part_of[k]):
                vc[v] -= 1
            if self.demand is not None:
                self.extra_cpu[k] += self.demand.cpu
                self.extra_mem[k] += self.demand.memory
            if self.candidates[k]:
                self._push(k)
            if single:
                key = self.part_of[k]
                scores[key] = self._score(key)
        return chosen
