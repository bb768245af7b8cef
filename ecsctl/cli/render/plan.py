"""Plans for people (Terraform-style text) and for scripts (the ``-o json`` view).

One block per change that is not a no-op::

      # taskdef/web will register a new revision (task definition changed)
      ~ taskdef/web
          ~ containerDefinitions[web].image: "nginx:1.26" -> "nginx:1.27"
          + containerDefinitions[web].environment[LOG_LEVEL]: "debug"
            (14 unchanged fields hidden; --full shows them)

then drift (apart from the changes), the placement prediction (``!`` marks a service whose
tasks cannot all be placed), deployments, and the summary line (plus a placement line when
some task cannot be placed).
Values that look sensitive are ``(sensitive)`` unless ``show_sensitive``
(see ``ecsctl.core.plan.codec``); secret references are printed as they are.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from ecsctl.core.aws.drift import CHECKED_ONLY
from ecsctl.cli.render.words import plural
from ecsctl.core.plan.codec import SENSITIVE, mask_field_value, mask_value, plan_json_view
from ecsctl.core.plan.model import Change, FieldChange, Plan
from ecsctl.core.scaling.capacity import beyond_max_size_text

_GREEN, _YELLOW, _RED, _MAGENTA, _BOLD, _RESET = "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[35m", "\x1b[1m", "\x1b[0m"

SYMBOL = {"create": "+", "update": "~", "replace": "-/+", "delete": "-"}
_COLOR = {"+": _GREEN, "~": _YELLOW, "-/+": _MAGENTA, "-": _RED}
_LEGEND = {"create": "create", "update": "update in place", "replace": "destroy and then create", "delete": "destroy"}
_ORDER = ("create", "update", "replace", "delete")
HEALTH_CHECKS = "Task failed ELB health checks"  # a prediction whose reason says it all (backends.local.health)


def _paint(symbol: str, color: bool) -> str:
    return f"{_COLOR[symbol]}{symbol}{_RESET}" if color else symbol


def _gutter(symbol: str, color: bool) -> str:
    """The symbol right-aligned in three columns, so ``-/+`` and ``+`` put addresses in one column."""
    return " " * (3 - len(symbol)) + _paint(symbol, color)


# --- values and paths --------------------------------------------------------


def _scalar(value: Any) -> str:
    if value == SENSITIVE:
        return SENSITIVE
    if isinstance(value, (list, tuple)) and not value:
        return "[]"
    if isinstance(value, dict) and not value:
        return "{}"
    return json.dumps(value, ensure_ascii=False, default=str)


def _is_leaf(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple)) or not value


def _is_pair(item: Any) -> bool:
    """An ``{name, value}`` entry (environment variables, settings): shown as ``name: value``."""
    return isinstance(item, dict) and set(item) == {"name", "value"}


def _named(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(i, dict) and "name" in i for i in value)


def _inline(value: Any) -> str:
    """A value on one line: scalars as JSON, a name/value entry as its value, containers as compact JSON."""
    if _is_pair(value):
        return _scalar(value["value"])
    if _is_leaf(value):
        return _scalar(value)
    return json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": ")).replace(f'"{SENSITIVE}"', SENSITIVE)


def display_path(path: tuple, *specs: dict | None) -> str:
    """``("containerDefinitions", 0, "image")`` -> ``containerDefinitions[web].image``.

    A list entry with a ``name`` is shown by name whether the path indexes it
    by position or by name; ``specs`` (before, after) are consulted in turn.
    """
    out = ""
    nodes = list(specs)
    for part in path:
        if part == "value" and any(_is_pair(n) for n in nodes):
            break  # environment[NAME] stands for its value
        in_list = any(isinstance(n, (list, tuple)) for n in nodes)
        label = part
        nxt = []
        for node in nodes:
            if isinstance(node, dict):
                nxt.append(node.get(part))
            elif isinstance(node, (list, tuple)) and isinstance(part, int):
                item = node[part] if -len(node) <= part < len(node) else None
                if isinstance(item, dict) and "name" in item and label == part:
                    label = item["name"]
                nxt.append(item)
            elif isinstance(node, (list, tuple)):
                nxt.append(next((i for i in node if isinstance(i, dict) and i.get("name") == part), None))
        nodes = nxt
        if in_list or isinstance(part, int):
            out += f"[{label}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves by display path; named list entries are keyed by name (and their ``name`` is not a leaf)."""
    if _is_leaf(value) or _is_pair(value):
        return {prefix: value}
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    named = _named(value)
    for i, item in enumerate(value):
        if _is_pair(item):
            out[f"{prefix}[{item['name']}]"] = item["value"]
        elif named:
            rest = {k: v for k, v in item.items() if k != "name"}
            out.update(_flatten(rest if rest else item["name"], f"{prefix}[{item['name']}]"))
        else:
            out.update(_flatten(item, f"{prefix}[{i}]"))
    return out


def _nested(value: Any, indent: int) -> list[str]:
    """A container as indented YAML-like lines (scalars as JSON); name/value lists read as mappings."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            lines += _entry(str(k), v, indent)
    elif value and all(_is_pair(i) for i in value):
        for item in value:
            lines.append(f"{pad}{item['name']}: {_scalar(item['value'])}")
    else:
        for item in value:
            if isinstance(item, dict) and item:
                keys = sorted(item, key=lambda k: k != "name")  # name first, then as given
                sub = _nested({k: item[k] for k in keys}, indent + 2)
                lines.append(f"{pad}- {sub[0].lstrip()}")
                lines += sub[1:]
            else:
                lines += [f"{pad}- {line.lstrip()}" if j == 0 else line for j, line in enumerate(_value_lines(item, indent + 2))]
    return lines


def _value_lines(value: Any, indent: int) -> list[str]:
    if _is_leaf(value) or (isinstance(value, (list, tuple)) and all(_is_leaf(i) for i in value)):
        return [" " * indent + _inline(value)]
    return _nested(value, indent)


def _entry(key: str, value: Any, indent: int, symbol: str = "") -> list[str]:
    """``key: value`` on one line when it fits there, else ``key:`` and the value nested below."""
    head = " " * indent + (f"{symbol} " if symbol else "") + key + ":"
    if _is_leaf(value) or (isinstance(value, (list, tuple)) and all(_is_leaf(i) for i in value)):
        return [f"{head} {_inline(value)}"]
    return [head] + _nested(value, indent + (len(symbol) + 1 if symbol else 0) + 2)


# --- one change --------------------------------------------------------------


# what apply does to a kind the AWS backend only checks (core.aws.drift.CHECKED_ONLY)
_CHECKED = {"create": "will be checked to exist in AWS (ecsctl never creates it)",
            "update": "will be checked again in AWS (ecsctl never changes it)",
            "replace": "will be checked again in AWS (ecsctl never changes it)",
            "delete": "will be forgotten by the state (ecsctl never deletes it in AWS)"}


def _headline(c: Change, backend: str = "local") -> str:
    taskdef = c.kind == "TaskDefinition"
    what = _CHECKED[c.action] if backend == "aws" and c.kind in CHECKED_ONLY else {
        "create": "will be registered" if taskdef else "will be created",
        "update": "will register a new revision" if taskdef else "will be updated in-place",
        "replace": "must be replaced",
        "delete": "will be deregistered" if taskdef else "will be destroyed",
    }[c.action]
    return f"  # {c.address} {what}" + (f" ({c.reason})" if c.reason else "")


def _forces_replacement(f: FieldChange, c: Change) -> bool:
    return any(f.path[: len(p)] == tuple(p) or tuple(p)[: len(f.path)] == f.path for p in c.replace_paths)


def _field_line(c: Change, f: FieldChange, color: bool, show_sensitive: bool) -> str:
    before, after = f.before, f.after
    if not show_sensitive:
        before = mask_field_value(f.path, before, c.before)
        after = mask_field_value(f.path, after, c.after)
    path = display_path(f.path, c.before, c.after)
    if f.op == "add":
        symbol, text = "+", _inline(after)
    elif f.op == "remove":
        symbol, text = "-", _inline(before)
    elif before == after == SENSITIVE:
        symbol, text = "~", "(sensitive value changed)"
    else:
        symbol, text = "~", f"{_inline(before)} -> {_inline(after)}"
    line = f"      {_paint(symbol, color)} {path}: {text}"
    return line + ("  # forces replacement" if _forces_replacement(f, c) else "")


def _whole(spec: dict | None, symbol: str, color: bool, show_sensitive: bool) -> list[str]:
    spec = spec if show_sensitive else mask_value(spec or {})
    lines = []
    for key, value in (spec or {}).items():
        entry = _entry(key, value, 6, symbol)
        lines += [" " * 6 + _paint(symbol, color) + entry[0][7:]] + entry[1:]
    return lines


def _delete_summary(c: Change, color: bool) -> list[str]:
    """What goes: the top-level scalars (family, cluster, desiredCount, …) and a count of the rest."""
    spec = mask_value(c.before or {})
    shown = {k: v for k, v in spec.items() if _is_leaf(v)}
    hidden = sum(len(_flatten(v)) for k, v in spec.items() if k not in shown)
    lines = [f"      {_paint('-', color)} {k}: {_scalar(v)}" for k, v in shown.items()]
    if hidden:
        lines.append(f"        ({plural(hidden, 'nested field')} hidden; --full shows them)")
    return lines


def _changed_fields(c: Change, color: bool, full: bool, show_sensitive: bool) -> list[str]:
    lines = [_field_line(c, f, color, show_sensitive) for f in c.fields]
    before, after = _flatten(c.before or {}), _flatten(c.after or {})
    unchanged = [k for k, v in after.items() if k in before and before[k] == v and k]
    if not unchanged:
        return lines
    if full:
        shown = _flatten(c.after if show_sensitive else mask_value(c.after or {}))
        lines += [f"        {k}: {_inline(shown[k])}" for k in unchanged]
    else:
        lines.append(f"        ({plural(len(unchanged), 'unchanged field')} hidden; --full shows them)")
    return lines


def render_change(c: Change, *, color: bool = False, full: bool = False, show_sensitive: bool = False,
                  backend: str = "local") -> list[str]:
    symbol = SYMBOL[c.action]
    lines = [_headline(c, backend), f"{_gutter(symbol, color)} {c.address}"]
    if c.action == "create":
        lines += _whole(c.after, "+", color, show_sensitive)
    elif c.action == "delete":
        lines += _whole(c.before, "-", color, show_sensitive) if full else _delete_summary(c, color)
    else:
        lines += _changed_fields(c, color, full, show_sensitive)
    return lines


# --- the plan ----------------------------------------------------------------


def _drift(plan: Plan, color: bool, show_sensitive: bool) -> list[str]:
    mask = (lambda v: v) if show_sensitive else mask_value
    lines = ["Drift (the state differs from what was last applied):", ""]
    for d in sorted(plan.drift, key=lambda d: (d.address, d.field)):
        line = f"  {_paint('~', color)} {d.address} {d.field}: {_inline(mask(d.expected))} -> {_inline(mask(d.actual))}"
        lines.append(line + (f"  # {d.reason}" if d.reason else ""))
    return lines


def step_text(st: dict) -> str:
    """A deployment step as the plan and ``rollout`` word it: ``stop 3 old, start 3 new (3 fail to
    start) -> 3 old, 0 new running``."""
    failed = f" ({st['failedNew']} fail to start)" if st.get("failedNew") else ""
    return (f"stop {st.get('stopOld', 0)} old, start {st.get('startNew', 0)} new{failed} -> "
            f"{st.get('oldRunning', 0)} old, {st.get('newRunning', 0)} new running")


def apply_counts(summary: dict, applied: int, checked: Mapping[str, int] | None = None) -> str:
    """``4 step(s): 1 created, 3 updated, 0 replaced, 0 destroyed``: what an apply's last line counts
    (``checked``: per action, the steps of them that only checked a resource on AWS, counted apart;
    a checked delete only forgets it, and counts as destroyed in no account)."""
    checked = checked or {}
    n = {a: summary[a] - checked.get(a, 0) for a in ("create", "update", "replace", "delete")}
    looked = sum(checked.get(a, 0) for a in ("create", "update", "replace"))
    return (f"{applied} step(s): {n['create']} created, {n['update']} updated, {n['replace']} replaced, "
            f"{n['delete']} destroyed" + (f", {looked} checked" if looked else "")
            + (f", {checked['delete']} forgotten" if checked.get("delete") else ""))


def _deployments(plan: Plan, color: bool = False) -> list[str]:
    """``plan.deployments`` are dicts (DESIGN §6): a block per deployment, one line per step, the outcome."""
    lines = ["Deployments:"]
    for d in plan.deployments:
        steps = d.get("steps") or []
        head = (f"deployment of {d.get('service', '?')}: {d.get('from') or '(none)'} -> {d.get('to', '?')} "
                f"(desired {d.get('desiredCount', '?')}, min {d.get('minimumHealthyPercent', '?')}%, "
                f"max {d.get('maximumPercent', '?')}%)")
        lines += ["", f"{_gutter(SYMBOL['update'], color)} {head}"]
        for n, st in enumerate(steps, start=1):
            if st.get("rollback"):
                lines.append(f"      step {n} (rollback): stop {st.get('stopNew', 0)} new, start {st.get('startOld', 0)} old"
                             f" -> {st.get('oldRunning', 0)} old, {st.get('newRunning', 0)} new running")
                continue
            lines.append(f"      step {n}: {step_text(st)}")
        outcome = str(d.get("outcome", "unknown"))
        if outcome == "complete":
            lines.append(f"      complete in {plural(len(steps), 'step')}")
        else:
            word = "FAILED" if outcome == "failed" else "STALLED" if outcome == "stalled" else outcome.upper()
            lines.append(f"      {word}: {d.get('reason') or 'no reason given'}")
            lines += _fix_lines(d)
    return lines


def deployments_line(plan: Plan) -> str:
    """``Deployments: 1 would stall, 1 would fail.`` (empty when every deployment completes)."""
    stalled = sum(1 for d in plan.deployments if d.get("outcome") == "stalled")
    failed = sum(1 for d in plan.deployments if d.get("outcome") == "failed")
    parts = [f"{n} would {verb}" for n, verb in ((stalled, "stall"), (failed, "fail")) if n]
    return f"{plural(stalled + failed, 'deployment')}: " + ", ".join(parts) + "." if parts else ""


def _short_id(instance: str) -> str:
    return instance if len(instance) <= 12 else instance[:8] + "…"


def closest_phrase(prediction: dict) -> str:
    """``has insufficient memory available`` — what the message says of the closest instance."""
    message, closest = str(prediction.get("message") or ""), prediction.get("closestInstance")
    if closest and f"{closest} " in message:
        return message.split(f"{closest} ", 1)[1].rstrip(".")
    return ""


def _after_apply(p: dict) -> str:
    """``; after apply: web:1 ×2, web:2 ×4`` (what the service runs once apply is done)."""
    tasks = p.get("tasks")
    if tasks is None:
        return ""
    if not tasks:
        return "; after apply: no task running"
    return "; after apply: " + ", ".join(f"{rev} ×{n}" for rev, n in tasks.items())


def _fix_lines(p: dict) -> list[str]:
    """The ``fix:`` line under a forecast line that has one."""
    return [f"      fix: {p['fix']}"] if p.get("fix") else []


def _placement(plan: Plan, color: bool) -> list[str]:
    """One line per service the plan touches: what it runs after apply, ``!`` and the closest
    instance's reason when tasks cannot be placed (or fail to start)."""
    lines = ["Placement (forecast: what each service runs after apply, placed as the scheduler will):", ""]
    mark = f"{_RED}!{_RESET}" if color else "!"
    for p in plan.predictions:
        wanted, bad = int(p.get("wanted") or 0), int(p.get("unplaceable") or 0)
        noun = "task" if wanted == 1 else "tasks"
        if p.get("kind") == "ScheduledTask":
            lines.append(f"  {mark} {p['address']}: its {noun} will not run when it fires: {p['failing']}")
            lines += _fix_lines(p)
            continue
        if p.get("failing") and not bad:
            short = int(p.get("short") or 0)
            failing = str(p["failing"])
            why = failing if failing.startswith(HEALTH_CHECKS) else f"{failing.split(':', 1)[0]} (its tasks fail to start)"
            lines.append(f"  {mark} {p['address']}: {short} of {wanted} {noun} will not run: {why}{_after_apply(p)}")
            lines += _fix_lines(p)
            continue
        if p.get("stalled") and not bad:
            short = int(p.get("short") or 0)
            lines.append(f"  {mark} {p['address']}: {short} of {wanted} {noun} will not run: {p['stalled']}{_after_apply(p)}")
            lines += _fix_lines(p)
            continue
        if p.get("provisioning") and not bad:
            capped = [c for c in plan.capacity if p["address"] in (c.get("services") or ())]
            where = "".join(f" (capacityprovider/{c['capacityProvider']} cannot grow past maxSize {c['maxSize']})"
                            for c in capped)
            lines.append(f"  {mark if capped else ' '} {p['address']}: {p['provisioning']} of {wanted} {noun} wait in "
                         f"PROVISIONING for capacity provider instances{where}{_after_apply(p)}")
            continue
        if not bad:
            lines.append(f"    {p['address']}: {'the task' if wanted == 1 else f'all {wanted} tasks'} can be placed{_after_apply(p)}")
            continue
        closest, phrase = p.get("closestInstance"), closest_phrase(p)
        detail = f" (closest instance {_short_id(closest)} {phrase})" if closest and phrase else ""
        if p.get("reason") == "NO_INSTANCES":
            detail = " (no container instances in the cluster)"
        lines.append(f"  {mark} {p['address']}: {bad} of {wanted} {noun} cannot be placed: "
                     f"{p.get('reason') or 'unknown'}{detail}{_after_apply(p)}")
    return lines


def _capacity(plan: Plan, color: bool) -> list[str]:
    """One line per capacity provider whose managed scaling must grow its group for the change,
    whose group cannot grow enough (``!``: tasks that stay PROVISIONING at its maxSize), or that
    keeps instances above its desired capacity (protected from scale-in while they run tasks)."""
    lines = ["Capacity (forecast: what each Auto Scaling group does at the next tick, managed scaling included):", ""]
    mark = f"{_RED}!{_RESET}" if color else "!"
    for c in plan.capacity:
        n = int(c.get("provisioningTasks") or 0)
        stuck, kept = int(c.get("staysProvisioning") or 0), int(c.get("protectedAbove") or 0)
        head = f"capacityprovider/{c['capacityProvider']} ({c['cluster']}): {c['message']}"
        if c["count"]:
            line = f"{head} (desired capacity {c['from']} -> {c['to']}, "
        elif stuck and int(c["to"]) >= int(c["maxSize"]):
            line = f"{head} (at maxSize {c.get('maxSize')} with {plural(int(c['to']), 'instance')}, "
        elif c.get("afterWarmup"):
            line = f"{head} (desired capacity {c['from']} now, {c['afterWarmup']['to']} after the warm-up, "
        else:
            line = f"{head} (desired capacity {c.get('desired')} with {plural(int(c['to']), 'instance')}, "
        line += f"CapacityProviderReservation {c['reservation']:g} %, {plural(n, 'task')} PROVISIONING)"
        if kept:
            line += (f"; {plural(kept, 'instance')} above the desired capacity {'runs' if kept == 1 else 'run'} tasks "
                     "and stay until empty (managed termination protection)")
        lines.append(f"  {mark} {line}; {beyond_max_size_text(stuck, int(c['maxSize']))}" if stuck else f"    {line}")
    return lines


def placement_line(plan: Plan) -> str:
    """``Placement: 2 tasks of 1 service cannot be placed.`` (empty when everything fits)."""
    blocked = [p for p in plan.predictions if p.get("unplaceable")]
    if not blocked:
        return ""
    tasks = sum(int(p["unplaceable"]) for p in blocked)
    return f"Placement: {plural(tasks, 'task')} of {plural(len(blocked), 'service')} cannot be placed."


def capacity_line(plan: Plan) -> str:
    """``Capacity: 2 tasks stay PROVISIONING, 1 capacity provider cannot grow past its maxSize.`` (or empty)."""
    capped = [c for c in plan.capacity if c.get("staysProvisioning")]
    if not capped:
        return ""
    tasks = sum(int(c["staysProvisioning"]) for c in capped)
    verb = "stays" if tasks == 1 else "stay"
    return (f"Capacity: {plural(tasks, 'task')} {verb} PROVISIONING, {plural(len(capped), 'capacity provider')} "
            f"cannot grow past {'its' if len(capped) == 1 else 'their'} maxSize.")


def summary_line(plan: Plan) -> str:
    if not plan.has_changes and plan.reconcile:
        return (f"No changes to the manifests' resources; apply would start or stop tasks in cluster "
                f"{', '.join(plan.reconcile)} (the scheduler's work: tasks lost or not yet started, a deployment to continue).")
    if not plan.has_changes and plan.drift:  # the state is not what was applied: it does not "match"
        return "No changes to apply. The drift above stays as it is."
    if not plan.has_changes:
        return "No changes. The state matches the manifests."
    s = plan.summary
    return f"Plan: {s['create']} to create, {s['update']} to update, {s['replace']} to replace, {s['delete']} to destroy."


def render_plan_text(plan: Plan, *, color: bool = False, full: bool = False, show_sensitive: bool = False) -> str:
    """The plan for a reviewer: changes (no-ops counted, not shown), drift, deployments, summary."""
    changes = sorted((c for c in plan.changes if c.action != "no-op"), key=lambda c: c.address)
    unchanged = len(plan.changes) - len(changes)
    state = f"lineage {plan.lineage}, serial {plan.serial}" if plan.lineage else "an empty state"
    lines = [f"Planned against {state}."]
    if changes:
        used = [a for a in _ORDER if any(c.action == a for c in changes)]
        lines += ["", "Resource actions are indicated with the following symbols:"]
        lines += [f"  {_gutter(SYMBOL[a], color)} {_LEGEND[a]}" for a in used]
        tail = f" ({plural(unchanged, 'unchanged resource')} not shown)" if unchanged else ""
        lines += ["", f"ecsctl will perform the following actions{tail}:"]
        for c in changes:
            lines += [""] + render_change(c, color=color, full=full, show_sensitive=show_sensitive,
                                          backend=plan.backend or "local")
    if plan.drift:
        lines += [""] + _drift(plan, color, show_sensitive)
    if plan.predictions:
        lines += [""] + _placement(plan, color)
    if plan.capacity:
        lines += [""] + _capacity(plan, color)
    if plan.deployments:
        lines += [""] + _deployments(plan, color)
    summary = summary_line(plan)
    if deployments_line(plan):
        summary += " " + deployments_line(plan)
    lines += ["", f"{_BOLD}{summary}{_RESET}" if color else summary]
    if placement_line(plan):
        lines.append(placement_line(plan))
    if capacity_line(plan):
        lines.append(capacity_line(plan))
    return "\n".join(lines) + "\n"


def render_plan_json(plan: Plan, show_sensitive: bool = False) -> str:
    return json.dumps(plan_json_view(plan, show_sensitive=show_sensitive), indent=2, ensure_ascii=False) + "\n"
