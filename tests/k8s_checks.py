"""Kubernetes validity beyond the published JSON Schemas: a subset of the API server's checks.

``kubernetes-validate`` checks objects against Kubernetes' OpenAPI-derived schemas (field
names, types, required fields).  The API server checks more (``k8s.io/kubernetes/pkg/apis/
*/validation``); this module re-states the rules a rendered object could break, with the
regular expressions of ``k8s.io/apimachinery/pkg/util/validation`` written out here (not
imported from ecsctl, so the renderer is not checked against itself).
"""

from __future__ import annotations

import re
from zoneinfo import available_timezones

from croniter import croniter

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
ZONES = available_timezones()
SUFFIX = {"": 1, "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}


def _name(value, pattern, limit) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit and bool(pattern.match(value))


def _qualified(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and not _name(prefix, DNS1123_SUBDOMAIN, 253):
        return False
    return _name(name, QUALIFIED_NAME, 63)


def _quantity(value) -> float | None:
    if isinstance(value, (int, float)):
        return float(value)
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(m|Ki|Mi|Gi|Ti|k|M|G)?", str(value))
    return float(m.group(1)) * SUFFIX[m.group(2) or ""] if m else None


def _metadata(obj: dict, where: str, out: list[str]) -> None:
    meta = obj.get("metadata", {})
    kind = obj["kind"]
    name = meta.get("name")
    if kind == "Service":
        ok = _name(name, DNS1035_LABEL, 63)
    elif kind == "CronJob":
        ok = _name(name, DNS1123_SUBDOMAIN, 52)
    elif kind == "Job":
        ok = _name(name, DNS1123_LABEL, 63)
    else:
        ok = _name(name, DNS1123_SUBDOMAIN, 253)
    if not ok:
        out.append(f"{where}: metadata.name {name!r} is not a valid {kind} name")
    _labels(meta.get("labels") or {}, f"{where}.metadata.labels", out)
    for key in (meta.get("annotations") or {}):
        if not _qualified(key):
            out.append(f"{where}: annotation key {key!r} is not a qualified name")


def _labels(labels: dict, where: str, out: list[str]) -> None:
    for key, value in labels.items():
        if not _qualified(key):
            out.append(f"{where}: label key {key!r} is invalid")
        if not (isinstance(value, str) and len(value) <= 63 and LABEL_VALUE.match(value)):
            out.append(f"{where}: label value {value!r} is invalid")


def _container(c: dict, where: str, volumes: set[str], *, init: bool, out: list[str]) -> None:
    if not _name(c.get("name"), DNS1123_LABEL, 63):
        out.append(f"{where}: container name {c.get('name')!r} is not a DNS label")
    if not c.get("image"):
        out.append(f"{where}: image is required")
    sidecar = c.get("restartPolicy") == "Always"
    if "restartPolicy" in c and (not init or c["restartPolicy"] != "Always"):
        out.append(f"{where}: restartPolicy is only for init containers, and only Always")
    if init and not sidecar:
        for probe in ("livenessProbe", "readinessProbe", "startupProbe", "lifecycle"):
            if probe in c:
                out.append(f"{where}: an init container may not have {probe}")
    if not init and "startupProbe" in c and "restartPolicy" in c:
        out.append(f"{where}: startupProbe with restartPolicy")
    names = set()
    for p in c.get("ports") or []:
        if not 1 <= p["containerPort"] <= 65535:
            out.append(f"{where}: containerPort {p['containerPort']}")
        if p.get("protocol", "TCP") not in ("TCP", "UDP", "SCTP"):
            out.append(f"{where}: protocol {p.get('protocol')}")
        if "name" in p:
            if not (_name(p["name"], IANA_SVC_NAME, 15) and re.search("[a-z]", p["name"]) and "--" not in p["name"]):
                out.append(f"{where}: port name {p['name']!r} is not an IANA service name")
            if p["name"] in names:
                out.append(f"{where}: port name {p['name']!r} is used twice")
            names.add(p["name"])
    for e in c.get("env") or []:
        if not e.get("name"):
            out.append(f"{where}: env without a name")
        source = e.get("valueFrom")
        if source is not None:
            if "value" in e:
                out.append(f"{where}: env {e['name']} has both value and valueFrom")
            ref = source.get("secretKeyRef") or source.get("configMapKeyRef")
            if len(source) != 1 or ref is None or not _name(ref.get("name"), DNS1123_SUBDOMAIN, 253) \
                    or not CONFIG_KEY.match(str(ref.get("key", ""))):
                out.append(f"{where}: env {e['name']} has a bad valueFrom {source}")
    for e in c.get("envFrom") or []:
        ref = e.get("configMapRef") or e.get("secretRef")
        if ref is None or not _name(ref.get("name"), DNS1123_SUBDOMAIN, 253):
            out.append(f"{where}: bad envFrom {e}")
    for m in c.get("volumeMounts") or []:
        if m["name"] not in volumes:
            out.append(f"{where}: volumeMount {m['name']!r} names no volume")
        if not str(m.get("mountPath", "")).startswith(("/", "C:", "c:")):
            out.append(f"{where}: mountPath {m.get('mountPath')!r} is not absolute")
    resources = c.get("resources") or {}
    for section in ("requests", "limits"):
        for key, value in (resources.get(section) or {}).items():
            if _quantity(value) is None:
                out.append(f"{where}: {section}.{key} {value!r} is not a quantity")
    for key, request in (resources.get("requests") or {}).items():
        limit = (resources.get("limits") or {}).get(key)
        if limit is not None and _quantity(request) > _quantity(limit):
            out.append(f"{where}: requests.{key} {request} exceeds limits.{key} {limit}")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        p = c.get(probe)
        if p is not None:
            if sum(k in p for k in ("exec", "httpGet", "tcpSocket", "grpc")) != 1:
                out.append(f"{where}: {probe} needs exactly one handler")
            if probe in ("livenessProbe", "startupProbe") and p.get("successThreshold", 1) != 1:
                out.append(f"{where}: {probe} successThreshold must be 1")
            for k in ("periodSeconds", "timeoutSeconds", "failureThreshold"):
                if p.get(k, 1) < 1:
                    out.append(f"{where}: {probe}.{k} must be at least 1")


def _pod(spec: dict, where: str, out: list[str], *, job: bool) -> None:
    volumes = [v["name"] for v in spec.get("volumes") or []]
    for v in volumes:
        if not _name(v, DNS1123_LABEL, 63):
            out.append(f"{where}: volume name {v!r} is not a DNS label")
    if len(set(volumes)) != len(volumes):
        out.append(f"{where}: volume names repeat: {volumes}")
    for v in spec.get("volumes") or []:
        sources = [k for k in v if k != "name"]
        if len(sources) != 1:
            out.append(f"{where}: volume {v['name']} has {len(sources)} sources")
    containers = spec.get("containers") or []
    if not containers:
        out.append(f"{where}: a pod needs a container")
    inits = spec.get("initContainers") or []
    names = [c.get("name") for c in containers + inits]
    if len(set(names)) != len(names):
        out.append(f"{where}: container names repeat: {names}")
    for c in inits:
        _container(c, f"{where}.initContainers[{c.get('name')}]", set(volumes), init=True, out=out)
    for c in containers:
        _container(c, f"{where}.containers[{c.get('name')}]", set(volumes), init=False, out=out)
    policy = spec.get("restartPolicy", "Always")
    if job and policy not in ("Never", "OnFailure"):
        out.append(f"{where}: a Job's pods need restartPolicy Never or OnFailure, not {policy}")
    if not job and policy != "Always":
        out.append(f"{where}: restartPolicy {policy} in a Deployment or DaemonSet")
    if spec.get("terminationGracePeriodSeconds", 0) < 0:
        out.append(f"{where}: negative terminationGracePeriodSeconds")
    if "serviceAccountName" in spec and not _name(spec["serviceAccountName"], DNS1123_SUBDOMAIN, 253):
        out.append(f"{where}: serviceAccountName {spec['serviceAccountName']!r}")
    if spec.get("dnsPolicy") == "None" and not (spec.get("dnsConfig") or {}).get("nameservers"):
        out.append(f"{where}: dnsPolicy None needs dnsConfig.nameservers")
    node = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
    for term in (node or {}).get("nodeSelectorTerms", []):
        for r in term.get("matchExpressions", []):
            op, values = r["operator"], r.get("values") or []
            if not _qualified(r["key"]):
                out.append(f"{where}: node selector key {r['key']!r}")
            if op in ("In", "NotIn") and not values:
                out.append(f"{where}: {op} needs values")
            if op in ("Exists", "DoesNotExist") and values:
                out.append(f"{where}: {op} takes no values")
            if op in ("Gt", "Lt") and (len(values) != 1 or not re.fullmatch(r"-?\d+", values[0])):
                out.append(f"{where}: {op} needs one integer value")
            for value in values:
                if not (len(value) <= 63 and LABEL_VALUE.match(value)):
                    out.append(f"{where}: node selector value {value!r}")
    for t in spec.get("topologySpreadConstraints") or []:
        if t["maxSkew"] < 1 or t["whenUnsatisfiable"] not in ("DoNotSchedule", "ScheduleAnyway"):
            out.append(f"{where}: bad topologySpreadConstraint {t}")
    _labels(spec.get("nodeSelector") or {}, f"{where}.nodeSelector", out)


def _zero(value) -> bool:
    return value in (0, "0%")


def _template(template: dict, selector: dict, where: str, out: list[str], *, job: bool) -> None:
    labels = (template.get("metadata") or {}).get("labels") or {}
    _labels(labels, f"{where}.template.metadata.labels", out)
    for key in ((template.get("metadata") or {}).get("annotations") or {}):
        if not _qualified(key):
            out.append(f"{where}: pod annotation key {key!r}")
    for key, value in (selector or {}).items():
        if labels.get(key) != value:
            out.append(f"{where}: selector {key}={value} does not match the template's labels")
    _pod(template["spec"], f"{where}.template.spec", out, job=job)


def api_problems(obj: dict) -> list[str]:
    """What the API server would refuse in ``obj`` (the subset of checks described above)."""
    out: list[str] = []
    kind = obj["kind"]
    where = f"{kind}/{obj.get('metadata', {}).get('name')}"
    _metadata(obj, where, out)
    spec = obj.get("spec") or {}
    if kind in ("Deployment", "DaemonSet"):
        selector = (spec.get("selector") or {}).get("matchLabels")
        if not selector:
            out.append(f"{where}: a selector is required")
        _template(spec["template"], selector, where, out, job=False)
        rolling = (spec.get("strategy") or spec.get("updateStrategy") or {}).get("rollingUpdate") or {}
        if _zero(rolling.get("maxSurge", 0 if kind == "DaemonSet" else "25%")) and _zero(rolling.get("maxUnavailable", "25%" if kind == "Deployment" else 1)):
            out.append(f"{where}: maxSurge and maxUnavailable may not both be 0")
        if kind == "Deployment" and spec.get("replicas", 1) < 0:
            out.append(f"{where}: negative replicas")
    elif kind == "CronJob":
        schedule = spec.get("schedule", "")
        if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
            out.append(f"{where}: schedule {schedule!r} is not a 5-field cron expression")
        if "timeZone" in spec and spec["timeZone"] not in ZONES:
            out.append(f"{where}: timeZone {spec['timeZone']!r} is not in the time zone database")
        job = spec["jobTemplate"]["spec"]
        _template(job["template"], None, where, out, job=True)
    elif kind == "Job":
        _template(spec["template"], None, where, out, job=True)
    elif kind == "Service":
        ports = spec.get("ports") or []
        if len(ports) > 1 and not all(p.get("name") for p in ports):
            out.append(f"{where}: several ports need names")
        for p in ports:
            target = p.get("targetPort")
            if isinstance(target, int) and not 1 <= target <= 65535:
                out.append(f"{where}: targetPort {target}")
        _labels(spec.get("selector") or {}, f"{where}.spec.selector", out)
    elif kind == "HorizontalPodAutoscaler":
        low, high = spec.get("minReplicas", 1), spec["maxReplicas"]
        if not 1 <= low <= high:
            out.append(f"{where}: minReplicas {low} maxReplicas {high}")
        for m in spec.get("metrics") or []:
            target = m.get("resource", {}).get("target", {})
            if target.get("type") == "Utilization" and not target.get("averageUtilization", 0) > 0:
                out.append(f"{where}: averageUtilization must be positive")
    elif kind in ("PersistentVolume", "PersistentVolumeClaim"):
        if not spec.get("accessModes"):
            out.append(f"{where}: accessModes is required")
        if kind == "PersistentVolume" and not (spec.get("capacity") or {}).get("storage"):
            out.append(f"{where}: capacity.storage is required")
    return out
