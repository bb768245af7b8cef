"""Plans as JSON: the saved plan file (``--out FILE``) and the ``plan -o json`` view.

Two shapes, kept apart on purpose:

* ``plan_to_json`` / ``plan_from_json`` — the saved plan, everything ``apply``
  needs, round-tripping to an equal ``Plan`` (tuples stay tuples).  It holds
  the specs exactly as the manifests give them, so treat it like the manifests.
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
import re
from typing import Any

from ecsctl.core.findings import json_pointer
from ecsctl.core.plan.model import FORMAT_VERSION, Change, Drift, FieldChange, Plan, Step
from ecsctl.errors import InputError

SENSITIVE = "(sensitive)"


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
# Masked unless --show-sensitive: environment values whose variable name looks
# secret, and any string that looks like an AWS access key id or a private key.
# Secret *references* (``secrets[].valueFrom``, an ARN or a name) are not values
# and are shown as they are.

SENSITIVE_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL|AUTH", re.IGNORECASE)
_SENSITIVE_TEXT = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----")


def looks_sensitive(value: Any) -> bool:
    return isinstance(value, str) and bool(_SENSITIVE_TEXT.search(value))


def _mask_env_value(name: Any, value: Any) -> Any:
    if value is not None and isinstance(name, str) and SENSITIVE_NAME.search(name):
        return SENSITIVE
    return mask_value(value)


def _mask_env_entry(entry: Any, name: Any = None) -> Any:
    if isinstance(entry, dict) and "value" in entry:
        return {**entry, "value": _mask_env_value(entry.get("name", name), entry["value"])}
    if isinstance(entry, (dict, list, tuple)):
        return mask_value(entry)
    return _mask_env_value(name, entry)


def _mask_environment(env: Any) -> Any:
    """``environment`` as ECS gives it (a list of ``{name, value}``) or as a ``{name: value}`` mapping."""
    if isinstance(env, dict):
        return {k: _mask_env_value(k, v) for k, v in env.items()}
    if isinstance(env, (list, tuple)):
        return type(env)(_mask_env_entry(e) for e in env)
    return mask_value(env)


def mask_value(value: Any) -> Any:
    """``value`` with every sensitive-looking part replaced by ``(sensitive)``; the input is not changed."""
    if isinstance(value, str):
        return SENSITIVE if looks_sensitive(value) else value
    if isinstance(value, dict):
        return {k: _mask_environment(v) if k == "environment" else mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_value(v) for v in value)
    return value


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


def mask_field_value(path: tuple, value: Any, spec: dict | None) -> Any:
    """Mask one side of a field change at ``path``; ``spec`` (that side's whole spec) names list entries."""
    if "environment" in path:
        k = path.index("environment")
        rest = path[k + 1 :]
        if not rest:
            return _mask_environment(value)
        entry = rest[0] if isinstance(rest[0], str) else None
        if entry is None:
            found = _walk(spec, path[: k + 2])
            entry = found.get("name") if isinstance(found, dict) else None
        if len(rest) == 1:
            return _mask_env_entry(value, entry)
        if rest[1] == "value":
            return _mask_env_value(entry, value)
    return mask_value(value)


# --- lossless values ---------------------------------------------------------


def _enc(value: Any) -> Any:
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
        "summary": summary,
    }
