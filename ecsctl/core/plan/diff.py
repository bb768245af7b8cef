"""Desired canonical specs against last-applied ones → one ``Change`` per address.

``diff(desired, current)`` answers, for every address in either side, one of ``create``,
``update``, ``replace``, ``delete`` or ``no-op``, sorted by :data:`KIND_ORDER` then address.
Both sides are canonical (``ecsctl.core.normalize``); the state side is canonicalised again
with the current rules, so a normalisation added by a newer ecsctl never shows up as a change
against a state written by an older one (``canonical`` is idempotent).

Field changes are found by descending both sides while they are dicts and differ (a dict
comparison per level, in C), and DeepDiff (tree view) only reports inside the lists that differ;
they are reported as ``FieldChange(path, op, before, after)``:

* ``path`` is a tuple of dict keys and list indexes **inside the spec**, except that items of
  the *named* lists in :data:`KEYED` appear by their identity instead of their index:
  ``("containerDefinitions", "web", "environment", "PORT", "value")``,
  ``("containerDefinitions", "web", "portMappings", "8080/tcp", "hostPort")``.  So a change
  reads "container web, variable PORT" and stays the same whatever else is added or
  removed.  When identities are missing or not unique on either side (an invalid spec), that
  list falls back to indexes (ints), so a string segment after a keyed list is always an
  identity and an int always an index.  :func:`format_path` writes
  ``containerDefinitions[web].environment[PORT].value``.
* a list of scalars (``command``, ``subnets``, ``requiresCompatibilities``, …) changes as a
  whole: one ``FieldChange`` at the list's path with both lists, rather than per index;
* ``op`` is ``add`` (absent before), ``remove`` (absent after) or ``change``; numbers compare
  by value (``60`` equals ``60.0``).

``create`` and ``delete`` carry no field changes: ``after`` / ``before`` hold the whole spec.

Replacements are decided by :data:`REPLACE_RULES` alone; task definitions are never replaced —
a changed task definition is an ``update`` that registers the next revision.

The state holds digests instead of sensitive-looking values (``ecsctl.core.sensitive``). A
state spec that holds some carries the state's sealer (``sealer_of``); the desired spec is then
compared sealed, so an unchanged secret is no change and a changed one an update, whose
``after`` keeps the value from the manifests (the renderers mask it).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from deepdiff import DeepDiff

from ecsctl.core.normalize import MISSING, canonical
from ecsctl.core.plan.model import KIND_ORDER, Change, Desired, FieldChange
from ecsctl.core.sensitive import Sealer, sealer_of

__all__ = [
    "KEYED",
    "KIND_ORDER",
    "REASONS",
    "REPLACE_RULES",
    "diff",
    "diff_fields",
    "format_path",
]


REASONS = {
    "create": "not in the state yet",
    "delete": "no longer in the manifests",
    "update": "changed in the manifests",
    "taskdef": "its spec changed; revisions are immutable",
    "replace": "forces replacement: {paths}",
    "kind": "kind changed from {before} to {after}: replaced",
    "no-op": "",
}


def _strategy_toggled(before: dict, after: dict) -> bool:
    return bool(before.get("capacityProviderStrategy")) != bool(after.get("capacityProviderStrategy"))


# Fields that cannot be updated in place.  A rule is a path prefix (any field change at or
# under it forces a replace) or a (path, predicate(before, after)) pair for conditional rules.
#   Service: UpdateService cannot change launchType, schedulingStrategy, deploymentController
#     or role; switching between a launch type and a capacity provider strategy needs a new
#     service (ecs-semantics §7.1; Terraform forces new on it too).
#   TargetGroup: ELB's ModifyTargetGroup cannot change port, protocol or targetType.
#   TaskDefinition: never (revisions are immutable; a change registers revision n+1).
#   Cluster and the catalogue kinds: never.
REPLACE_RULES: dict[str, tuple[Any, ...]] = {
    "Service": (
        ("launchType",),
        ("schedulingStrategy",),
        ("deploymentController",),
        ("role",),
        (("capacityProviderStrategy",), _strategy_toggled),
    ),
    "TargetGroup": (("port",), ("protocol",), ("targetType",)),
}

# Named lists: items appear in paths by identity rather than index.  Pattern segments are
# dict keys, with "[]" for "any item of a list".
Ident = Callable[[dict], Any]


def _field(name: str) -> Ident:
    return lambda item: item.get(name)


def _port_ident(item: dict) -> Any:
    port = item.get("containerPort", item.get("containerPortRange"))
    return None if port is None else f"{port}/{item.get('protocol', 'tcp')}"


_C = ("containerDefinitions", "[]")
KEYED: dict[str, dict[tuple[str, ...], Ident]] = {
    "TaskDefinition": {
        ("containerDefinitions",): _field("name"),
        _C + ("environment",): _field("name"),
        _C + ("secrets",): _field("name"),
        _C + ("portMappings",): _port_ident,
        _C + ("mountPoints",): _field("containerPath"),
        _C + ("volumesFrom",): _field("sourceContainer"),
        _C + ("ulimits",): _field("name"),
        _C + ("dependsOn",): _field("containerName"),
        _C + ("systemControls",): _field("namespace"),
        _C + ("extraHosts",): _field("hostname"),
        _C + ("resourceRequirements",): _field("type"),
        _C + ("logConfiguration", "secretOptions"): _field("name"),
        ("volumes",): _field("name"),
        ("tags",): _field("key"),
    },
    "Service": {
        ("tags",): _field("key"),
        ("capacityProviderStrategy",): _field("capacityProvider"),
        ("autoScaling", "targetTracking"): _field("policyName"),
        ("autoScaling", "stepScaling"): _field("policyName"),
        ("autoScaling", "scheduled"): _field("scheduledActionName"),
    },
    "Cluster": {
        ("containerInstances",): _field("name"),
        ("defaultCapacityProviderStrategy",): _field("capacityProvider"),
        ("settings",): _field("name"),
        ("tags",): _field("key"),
    },
    "ScheduledTask": {
        ("target", "tags"): _field("key"),
        ("target", "capacityProviderStrategy"): _field("capacityProvider"),
    },
}


class _Keyed(dict):
    """A named list turned into {identity: item} for diffing; turned back by ``_plain``."""


def _index(items: Any, ident: Ident) -> dict | None:
    if items is MISSING:
        return {}
    if not isinstance(items, list):
        return None
    out: dict[str, Any] = {}
    for item in items:
        key = ident(item) if isinstance(item, dict) else None
        if key is None or isinstance(key, bool):
            return None
        key = str(key)
        if key in out:
            return None
        out[key] = item
    return out


def _union(a: Iterable, b: Iterable) -> list:
    seen = dict.fromkeys(a)
    seen.update(dict.fromkeys(b))
    return list(seen)


def _pair(a: Any, b: Any, pat: tuple[str, ...], table: dict, whole: bool = False) -> tuple[Any, Any]:
    """Both trees with named lists keyed where both sides allow it (same decision on both sides).
    Equal subtrees are left as they are unless ``whole`` (the unsealed copy that values are shown
    from is read at paths found against the sealed one, where those subtrees may differ)."""
    if isinstance(a, dict) and isinstance(b, dict) or (isinstance(a, dict) and b is MISSING) or (a is MISSING and isinstance(b, dict)):
        da = a if isinstance(a, dict) else {}
        db = b if isinstance(b, dict) else {}
        ra: dict = {}
        rb: dict = {}
        for k in _union(da, db):
            x, y = da.get(k, MISSING), db.get(k, MISSING)
            if not whole and type(x) in _TREES and type(y) is type(x) and _exact(x, y):
                ra[k], rb[k] = x, y  # equal: nothing below is reported, so nothing below is keyed
                continue
            x, y = _pair(x, y, pat + (k,), table, whole)
            if x is not MISSING:
                ra[k] = x
            if y is not MISSING:
                rb[k] = y
        return (MISSING if a is MISSING else ra), (MISSING if b is MISSING else rb)
    if isinstance(a, list) and isinstance(b, list) or (isinstance(a, list) and b is MISSING) or (a is MISSING and isinstance(b, list)):
        item_pat = pat + ("[]",)
        ident = table.get(pat)
        if ident is not None:
            ia, ib = _index(a, ident), _index(b, ident)
            if ia is not None and ib is not None:
                ka, kb = _Keyed(), _Keyed()
                for k in _union(ia, ib):
                    x, y = _pair(ia.get(k, MISSING), ib.get(k, MISSING), item_pat, table, whole)
                    if x is not MISSING:
                        ka[k] = x
                    if y is not MISSING:
                        kb[k] = y
                return (MISSING if a is MISSING else ka), (MISSING if b is MISSING else kb)
        la = a if isinstance(a, list) else []
        lb = b if isinstance(b, list) else []
        ra_l: list = []
        rb_l: list = []
        for i in range(max(len(la), len(lb))):
            x, y = _pair(la[i] if i < len(la) else MISSING, lb[i] if i < len(lb) else MISSING, item_pat, table, whole)
            if x is not MISSING:
                ra_l.append(x)
            if y is not MISSING:
                rb_l.append(y)
        return (MISSING if a is MISSING else ra_l), (MISSING if b is MISSING else rb_l)
    if type(a) is not type(b) and a is not MISSING and b is not MISSING and (isinstance(a, (dict, list)) or isinstance(b, (dict, list))):
        return _pair(a, MISSING, pat, table, whole)[0], _pair(MISSING, b, pat, table, whole)[1]
    return a, b


def _plain(value: Any) -> Any:
    if isinstance(value, _Keyed):
        return [_plain(v) for v in value.values()]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _get(tree: Any, path: tuple) -> Any:
    node = tree
    for seg in path:
        if isinstance(node, dict) and seg in node:
            node = node[seg]
        elif isinstance(node, list) and isinstance(seg, int) and not isinstance(node, _Keyed) and 0 <= seg < len(node):
            node = node[seg]
        else:
            return MISSING
    return node


def _scalar_list(value: Any) -> bool:
    return type(value) is list and all(not isinstance(v, (dict, list)) for v in value)


def _collapse(path: tuple, a: Any, b: Any) -> tuple:
    """Cut a path at the first list of scalars on either side: such lists change as a whole."""
    for i in range(len(path)):
        x, y = _get(a, path[:i]), _get(b, path[:i])
        if (x is MISSING or _scalar_list(x)) and (y is MISSING or _scalar_list(y)) and (x is not MISSING or y is not MISSING):
            if type(x) is list or type(y) is list:
                return path[:i]
    return path


def _path_key(path: tuple) -> tuple:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in path)


def _same(a: Any, b: Any) -> bool:
    """Fast path: identical JSON (keys sorted; bools, ints and floats kept apart) needs no DeepDiff."""
    try:
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    except (TypeError, ValueError):
        return False


_TREES = (dict, list)


def _exact(x: Any, y: Any) -> bool:
    """Equal, and the same JSON (so no bool stands for a number anywhere below): two C-level
    comparisons instead of a walk (most of two versions of a spec is the same)."""
    return x == y and _same(x, y)


def _equal(x: Any, y: Any) -> bool:
    """Equal as JSON values: numbers by value (``60 == 60.0``), but a bool is no number."""
    if type(x) in _TREES and type(y) is type(x) and _exact(x, y):
        return True
    if type(x) is bool or type(y) is bool:
        return type(x) is type(y) and x == y
    if type(x) in (int, float) and type(y) in (int, float):
        return x == y
    if isinstance(x, dict) and isinstance(y, dict):
        return type(x) is type(y) and x.keys() == y.keys() and all(_equal(x[k], y[k]) for k in x)
    if type(x) is not type(y):
        return False
    if type(x) is list:
        return len(x) == len(y) and all(_equal(p, q) for p, q in zip(x, y))
    return x == y


def _differing(a: Any, b: Any, path: tuple) -> Iterable[tuple]:
    """The deepest paths where ``a`` and ``b`` differ, descending only through dicts on both sides.

    Two dicts of one type are descended unless exactly equal, rather than compared whole with
    :func:`_equal` first: a descent finds nothing where they are equal as JSON values, and the
    whole comparison would read every equal subtree again at each level of the path to a change."""
    if isinstance(a, dict) and isinstance(b, dict) and type(a) is type(b):
        for key in sorted(a.keys() | b.keys(), key=str):
            x, y = a.get(key, MISSING), b.get(key, MISSING)
            if x is MISSING or y is MISSING:
                yield path + (key,)
            elif isinstance(x, dict) and isinstance(y, dict) and type(x) is type(y):
                if not _exact(x, y):
                    yield from _differing(x, y, path + (key,))
            elif not _equal(x, y):
                yield path + (key,)
    else:
        yield path


def diff_fields(kind: str, before: dict, after: dict, seal: Sealer | None = None) -> tuple[FieldChange, ...]:
    """The field changes from ``before`` to ``after`` (both canonical specs of ``kind``).

    With ``seal`` (``before`` holds digests), ``after`` is compared sealed; the changes still
    carry its own values.
    """
    compared = seal(after) if seal is not None else after
    if _same(before, compared):
        return ()
    table = KEYED.get(kind, {})
    a, b = _pair(before, compared, (), table)
    plain = _pair(before, after, (), table, whole=True)[1] if seal is not None else b
    paths: set[tuple] = set()
    for where in _differing(a, b, ()):
        x, y = _get(a, where), _get(b, where)
        if type(x) is list and type(y) is list and not (_scalar_list(x) and _scalar_list(y)):
            report = DeepDiff(x, y, ignore_type_in_groups=[(int, float)], view="tree", verbose_level=2)
            for items in report.values():
                for item in items:
                    paths.add(_collapse(where + tuple(item.path(output_format="list")), a, b))
        else:
            paths.add(_collapse(where, a, b))
    out = []
    for path in sorted(paths, key=_path_key):
        x, y = _get(a, path), _get(b, path)
        op = "add" if x is MISSING else "remove" if y is MISSING else "change"
        shown = _get(plain, path) if y is not MISSING else MISSING
        y = y if shown is MISSING else shown
        out.append(FieldChange(path, op, None if x is MISSING else _plain(x), None if y is MISSING else _plain(y)))
    return tuple(out)


def _replace_paths(kind: str, before: dict, after: dict, fields: tuple[FieldChange, ...]) -> tuple[tuple, ...]:
    hits = []
    for rule in REPLACE_RULES.get(kind, ()):
        if rule and isinstance(rule[0], tuple):
            prefix, predicate = rule
            if predicate(before, after):
                hits.append(prefix)
            continue
        prefix = rule
        if any(f.path[: len(prefix)] == prefix for f in fields):
            hits.append(prefix)
    return tuple(dict.fromkeys(hits))


def format_path(kind: str, path: tuple) -> str:
    """``containerDefinitions[web].environment[PORT].value``; list indexes as ``[0]``.

    A segment right after a named list of :data:`KEYED` is an item identity; ints are indexes.
    """
    table = KEYED.get(kind, {})
    pat: tuple[str, ...] = ()
    out = ""
    for seg in path:
        if (isinstance(seg, int) and not isinstance(seg, bool)) or pat in table:
            out += f"[{seg}]"
            pat += ("[]",)
        else:
            out += f".{seg}" if out else str(seg)
            pat += (str(seg),)
    return out


def _kind_rank(kind: str) -> int:
    try:
        return KIND_ORDER.index(kind)
    except ValueError:
        return len(KIND_ORDER)


def _change(address: str, want: Desired | None, have: tuple[str, str, dict] | None) -> Change:
    if have is None:
        assert want is not None
        return Change(address, want.kind, want.name, "create", None, want.spec, reason=REASONS["create"])
    kind, name, spec = have
    seal = sealer_of(spec)
    if want is not None and kind == want.kind and _same(spec, seal(want.spec) if seal else want.spec):
        return Change(address, kind, want.name, "no-op", spec, want.spec)  # the common case: nothing to re-derive
    before = canonical(kind, name, spec)
    if want is None:
        return Change(address, kind, name, "delete", before, None, reason=REASONS["delete"])
    after = want.spec
    if kind != want.kind:
        reason = REASONS["kind"].format(before=kind, after=want.kind)
        return Change(address, want.kind, want.name, "replace", before, after, reason=reason)
    fields = diff_fields(kind, before, after, seal)
    if not fields:
        return Change(address, kind, want.name, "no-op", before, after)
    if kind == "TaskDefinition":
        return Change(address, kind, want.name, "update", before, after, fields, reason=REASONS["taskdef"])
    replace = _replace_paths(kind, before, after, fields)
    if replace:
        reason = REASONS["replace"].format(paths=", ".join(format_path(kind, p) for p in replace))
        return Change(address, kind, want.name, "replace", before, after, fields, replace, reason)
    return Change(address, kind, want.name, "update", before, after, fields, reason=REASONS["update"])


def diff(desired: list[Desired], current: dict[str, tuple[str, str, dict]]) -> list[Change]:
    """One ``Change`` per address in ``desired`` or ``current``, in plan order.

    ``current`` maps address → (kind, name, last-applied canonical spec).  Two desired
    resources with one address are a caller error (``ValueError``).
    """
    wanted: dict[str, Desired] = {}
    for d in desired:
        if d.address in wanted:
            raise ValueError(f"two desired resources share the address {d.address!r}")
        wanted[d.address] = d
    changes = [_change(addr, wanted.get(addr), current.get(addr)) for addr in _union(wanted, current)]
    changes.sort(key=lambda c: (_kind_rank(c.kind), c.address))
    return changes
