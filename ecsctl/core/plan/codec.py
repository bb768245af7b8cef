"""Plans as JSON: the saved plan file (``--out FILE``) and the ``plan -o json`` view.

Two shapes, kept apart on purpose:

* ``plan_to_json`` / ``plan_from_json`` — the saved plan, everything ``apply``
  needs, round-tripping to an equal ``Plan`` (tuples stay tuples).  A plan file
  holds no sensitive-looking value: ``plan_for_file`` replaces each with
  ``MASKED`` (``{"$sensitive": null}`` in the file) before it is written, and
  ``restore_masked`` puts them back from the manifests, which the plan names
  and is bound to by ``manifests_hash``.
* ``plan_json_view`` — the stable machine-readable view of DESIGN §4/§5 for
  scripts: JSON Pointer paths, masked sensitive values, no specs.

Values typed ``Any`` (field before/after, drift values, specs, deployments)
are encoded losslessly: a tuple becomes ``{"$tuple": [...]}``, a dict with
non-string keys ``{"$items": [[k, v], ...]}``, and a dict that would be
mistaken for one of these (one key starting with ``$``) is wrapped as
``{"$dict": {...}}``.  Plain JSON data is stored as it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any, Callable

from ecsctl.core.findings import json_pointer
from ecsctl.core.plan.model import FORMAT_VERSION, Change, Drift, FieldChange, Plan, Step
from ecsctl.core.sensitive import SENSITIVE, Hit, is_digest, mask, redact, text_reason
from ecsctl.errors import InputError


def manifests_hash(files: dict[str, bytes]) -> str:
    """sha256 over the sorted file names and their contents (length-prefixed, so no two inputs collide)."""
    h = hashlib.sha256()
    for name in sorted(files):
        raw_name = name.encode("utf-8")
        content = files[name]
        h.update(len(raw_name).to_bytes(8, "big") + raw_name)
        h.update(len(content).to_bytes(8, "big") + content)
    return "sha256:" + h.hexdigest()


# --- sensitive values --------------------------------------------------------
#
# Masked unless --show-sensitive: whatever ``ecsctl.core.sensitive`` finds (the one list shared
# with validate's W7001 and the state file), and the digests the state keeps in place of such
# values.  Secret *references* (``secrets[].valueFrom``, an ARN or a name) are not values and
# are shown as they are.


def looks_sensitive(value: Any) -> bool:
    """Whether a string looks sensitive by its text alone (an access key id, a private key, …)."""
    return text_reason(value) is not None


def mask_value(value: Any) -> Any:
    """``value`` with every sensitive-looking part replaced by ``(sensitive)``; the input is not changed."""
    return mask(value)


def _walk(spec: Any, path: tuple) -> Any:
    """Follow ``path`` into ``spec``; a string step into a list picks the item of that ``name``."""
    node = spec
    for part in path:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, (list, tuple)) and isinstance(part, int):
            node = node[part] if -len(node) <= part < len(node) else None
        elif isinstance(node, (list, tuple)):
            node = next((i for i in node if isinstance(i, dict) and i.get("name") == part), None)
        else:
            return None
    return node


def _in_context(path: tuple, value: Any, spec: Any, redactor: Callable[[Any], Any]) -> Any:
    """``value`` at ``path`` when ``spec`` does not hold it there: redact it inside as much
    context as there is (its parent in ``spec``, else the names the path gives)."""
    if not path:
        return redactor(value)
    last = path[-1]
    parent = _walk(spec, path[:-1]) if spec is not None else None
    if isinstance(parent, dict):
        return redactor({**parent, last: value})[last]
    if last == "value" and len(path) >= 2 and isinstance(path[-2], str):
        return redactor({"name": path[-2], "value": value})["value"]
    if isinstance(last, str) and not isinstance(value, dict):
        return redactor({last: value})[last]
    if isinstance(last, str) and "value" in value and "name" not in value:  # environment[NAME] as {value: …}
        return {k: v for k, v in redactor({"name": last, **value}).items() if k != "name"}
    return redactor(value)


def _field_masked(path: tuple, value: Any, spec: Any, redactor: Callable[[Any], Any]) -> Any:
    if value is None:
        return None
    if spec is not None:
        raw = _walk(spec, path)
        if raw is not None and raw == value:
            found = _walk(redactor(spec), path)
            if found is not None:
                return found
    return _in_context(path, value, spec, redactor)


def mask_field_value(path: tuple, value: Any, spec: dict | None) -> Any:
    """Mask one side of a field change at ``path``; ``spec`` (that side's whole spec) gives the context."""
    return _field_masked(path, value, spec, mask)


# --- saved plan files hold no sensitive value --------------------------------


class Masked(str):
    """A sensitive value left out of a saved plan file (``{"$sensitive": null}`` there);
    ``restore_masked`` puts it back from the manifests the plan is bound to by hash."""

    __slots__ = ()


MASKED = Masked(SENSITIVE)


def _leave_out(hit: Hit) -> Any:
    return hit.value if is_digest(hit.value) else MASKED


def _file_redact(value: Any) -> Any:
    return redact(value, _leave_out)


def has_masked(value: Any) -> bool:
    if isinstance(value, Masked):
        return True
    if isinstance(value, dict):
        return any(has_masked(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_masked(v) for v in value)
    return False


def plan_for_file(plan: Plan) -> Plan:
    """``plan`` with every sensitive-looking value replaced by ``MASKED`` (the digests the state
    keeps stay: they are not values)."""
    changes = [
        replace(
            c,
            before=_file_redact(c.before),
            after=_file_redact(c.after),
            fields=tuple(
                replace(f, before=_field_masked(f.path, f.before, c.before, _file_redact),
                        after=_field_masked(f.path, f.after, c.after, _file_redact))
                for f in c.fields
            ),
        )
        for c in plan.changes
    ]
    return replace(
        plan,
        changes=changes,
        steps=[replace(s, spec=_file_redact(s.spec), before=_file_redact(s.before)) for s in plan.steps],
        drift=[replace(d, expected=_file_redact(d.expected), actual=_file_redact(d.actual)) for d in plan.drift],
        deployments=[_file_redact(d) for d in plan.deployments],
        predictions=[_file_redact(p) for p in plan.predictions],
    )


def plan_has_masked(plan: Plan) -> bool:
    """Whether ``plan`` (as loaded from a file) left values out that apply needs."""
    return any(has_masked(c.after) for c in plan.changes) or any(has_masked(s.spec) for s in plan.steps)


def _restore(saved: Any, real: Any, where: str) -> Any:
    if isinstance(saved, Masked):
        return real
    if isinstance(saved, dict) and isinstance(real, dict) and saved.keys() == real.keys():
        return {k: _restore(v, real[k], where) for k, v in saved.items()}
    if isinstance(saved, (list, tuple)) and isinstance(real, (list, tuple)) and len(saved) == len(real):
        return type(saved)(_restore(v, r, where) for v, r in zip(saved, real))
    if not isinstance(saved, (dict, list, tuple)) and saved == real and isinstance(saved, bool) == isinstance(real, bool):
        return saved
    raise InputError(f"{where}: the manifests no longer give the values this plan was made with; run plan again")


def restore_masked(plan: Plan, desired: dict[str, dict]) -> Plan:
    """A saved plan with the values it left out put back from ``desired`` (address -> canonical
    spec from the manifests the plan was made of).  Every value the plan kept must agree."""

    def restored(value: Any, address: str) -> Any:
        if not has_masked(value):
            return value
        if address not in desired:
            raise InputError(f"{address}: the plan's manifests no longer describe it; run plan again")
        return _restore(value, desired[address], address)

    changes = []
    for c in plan.changes:
        after = restored(c.after, c.address)
        fields = tuple(replace(f, after=_restored_field(f, after)) for f in c.fields)
        changes.append(replace(c, after=after, fields=fields))
    return replace(plan, changes=changes, steps=[replace(s, spec=restored(s.spec, s.address)) for s in plan.steps])


def _restored_field(f: FieldChange, after: Any) -> Any:
    if not has_masked(f.after):
        return f.after
    found = _walk(after, f.path)
    return f.after if found is None else found


# --- lossless values ---------------------------------------------------------


def _enc(value: Any) -> Any:
    if isinstance(value, Masked):
        return {"$sensitive": None}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"$tuple": [_enc(v) for v in value]}
    if isinstance(value, list):
        return [_enc(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return {"$items": [[_enc(k), _enc(v)] for k, v in value.items()]}
        encoded = {k: _enc(v) for k, v in value.items()}
        if len(value) == 1 and next(iter(value)).startswith("$"):
            return {"$dict": encoded}
        return encoded
    raise TypeError(f"cannot save a {type(value).__name__} in a plan file: {value!r}")


def _dec(value: Any) -> Any:
    if isinstance(value, list):
        return [_dec(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (tag, inner), = value.items()
            if tag == "$tuple":
                return tuple(_dec(v) for v in inner)
            if tag == "$items":
                return {_dec(k): _dec(v) for k, v in inner}
            if tag == "$dict":
                return {k: _dec(v) for k, v in inner.items()}
            if tag == "$sensitive":
                return MASKED
        return {k: _dec(v) for k, v in value.items()}
    return value


# --- the saved plan ----------------------------------------------------------


def _change_to_json(c: Change) -> dict:
    return {
        "address": c.address,
        "kind": c.kind,
        "name": c.name,
        "action": c.action,
        "reason": c.reason,
        "before": _enc(c.before),
        "after": _enc(c.after),
        "fields": [{"path": _enc(f.path), "op": f.op, "before": _enc(f.before), "after": _enc(f.after)} for f in c.fields],
        "replace_paths": [_enc(p) for p in c.replace_paths],
    }


def _step_to_json(s: Step) -> dict:
    return {
        "id": s.id,
        "action": s.action,
        "address": s.address,
        "kind": s.kind,
        "name": s.name,
        "spec": _enc(s.spec),
        "before": _enc(s.before),
        "depends_on": list(s.depends_on),
    }


def _drift_to_json(d: Drift) -> dict:
    return {"address": d.address, "field": d.field, "expected": _enc(d.expected), "actual": _enc(d.actual), "reason": d.reason}


def plan_to_json(plan: Plan) -> dict:
    """Everything in ``plan``, as JSON data that ``plan_from_json`` turns back into an equal plan."""
    return {
        "format_version": plan.format_version,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "manifests_hash": plan.manifests_hash,
        "changes": [_change_to_json(c) for c in plan.changes],
        "steps": [_step_to_json(s) for s in plan.steps],
        "drift": [_drift_to_json(d) for d in plan.drift],
        "deployments": [_enc(d) for d in plan.deployments],
        "predictions": [_enc(p) for p in plan.predictions],
        "reconcile": list(plan.reconcile),
        "capacity": [_enc(c) for c in plan.capacity],
    }


def _path(value: Any) -> tuple:
    decoded = _dec(value)
    return tuple(decoded) if isinstance(decoded, (list, tuple)) else (decoded,)


def plan_from_json(data: Any) -> Plan:
    """The plan saved by ``plan_to_json``; an unknown format version or a damaged file is an ``InputError``."""
    if not isinstance(data, dict) or "format_version" not in data:
        raise InputError("not an ecsctl plan file (no format_version)")
    version = data["format_version"]
    if version != FORMAT_VERSION:
        raise InputError(
            f"plan file format version {version!r} is not supported by this ecsctl (it reads version {FORMAT_VERSION}); "
            "make the plan again with this version"
        )
    try:
        return Plan(
            lineage=data["lineage"],
            serial=int(data["serial"]),
            manifests_hash=data["manifests_hash"],
            changes=[
                Change(
                    address=c["address"],
                    kind=c["kind"],
                    name=c["name"],
                    action=c["action"],
                    reason=c.get("reason", ""),
                    before=_dec(c.get("before")),
                    after=_dec(c.get("after")),
                    fields=tuple(
                        FieldChange(path=_path(f["path"]), op=f["op"], before=_dec(f.get("before")), after=_dec(f.get("after")))
                        for f in c.get("fields", ())
                    ),
                    replace_paths=tuple(_path(p) for p in c.get("replace_paths", ())),
                )
                for c in data["changes"]
            ],
            steps=[
                Step(
                    id=s["id"],
                    action=s["action"],
                    address=s["address"],
                    kind=s["kind"],
                    name=s["name"],
                    spec=_dec(s.get("spec")),
                    before=_dec(s.get("before")),
                    depends_on=tuple(s.get("depends_on", ())),
                )
                for s in data["steps"]
            ],
            drift=[
                Drift(address=d["address"], field=d["field"], expected=_dec(d["expected"]), actual=_dec(d["actual"]), reason=d["reason"])
                for d in data.get("drift", ())
            ],
            deployments=[_dec(d) for d in data.get("deployments", ())],
            predictions=[_dec(p) for p in data.get("predictions", ())],
            reconcile=[str(c) for c in data.get("reconcile", ())],
            capacity=[_dec(c) for c in data.get("capacity", ())],
            format_version=version,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"damaged plan file: {type(exc).__name__}: {exc}") from exc


# --- the -o json view --------------------------------------------------------


def _plain(value: Any) -> Any:
    """JSON data for the view: tuples become lists, non-string keys strings."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _field_view(c: Change, f: FieldChange, show_sensitive: bool) -> dict:
    before, after = f.before, f.after
    if not show_sensitive:
        before = mask_field_value(f.path, before, c.before)
        after = mask_field_value(f.path, after, c.after)
    return {"path": json_pointer(f.path), "op": f.op, "before": _plain(before), "after": _plain(after)}


def plan_json_view(plan: Plan, show_sensitive: bool = False) -> dict:
    """The stable ``plan -o json`` shape; values that look sensitive are masked unless ``show_sensitive``."""
    summary = dict(plan.summary)
    summary["no_op"] = sum(1 for c in plan.changes if c.action == "no-op")
    summary["reconcile"] = len(plan.reconcile)  # clusters where apply's scheduler acts without a change
    mask = (lambda v: v) if show_sensitive else mask_value
    return {
        "format_version": plan.format_version,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "changes": [
            {
                "address": c.address,
                "kind": c.kind,
                "name": c.name,
                "action": c.action,
                "reason": c.reason,
                "fields": [_field_view(c, f, show_sensitive) for f in c.fields],
                "replace_paths": [json_pointer(p) for p in c.replace_paths],
            }
            for c in plan.changes
        ],
        "steps": [{"id": s.id, "action": s.action, "address": s.address, "depends_on": list(s.depends_on)} for s in plan.steps],
        "drift": [
            {"address": d.address, "field": d.field, "expected": _plain(mask(d.expected)), "actual": _plain(mask(d.actual)), "reason": d.reason}
            for d in plan.drift
        ],
        "deployments": [_plain(d) for d in plan.deployments],
        "placement": [_plain(p) for p in plan.predictions],
        "capacity": [_plain(c) for c in plan.capacity],
        "reconcile": list(plan.reconcile),
        "summary": summary,
    }
