"""A task definition as a Kubernetes pod: containers, resources, environment, volumes, probes.

Container roles follow ``essential`` and ``dependsOn``:

* a container others wait for with ``SUCCESS`` or ``COMPLETE`` runs to completion first:
  an init container;
* a container others wait for with ``START`` or ``HEALTHY``, and a non-essential container,
  runs beside the main ones: a native sidecar (an init container with ``restartPolicy:
  Always``, Kubernetes 1.29+), which Kubernetes starts first and, with a ``startupProbe``
  from its health check, waits for until it is healthy — ECS's ``HEALTHY`` condition;
* the other essential containers are the pod's main containers.

Resources: ``cpu`` (1,024 units per vCPU) is the CPU request (ECS reserves it and weights
CPU shares by it, as Kubernetes does with requests), ``memory`` the memory limit,
``memoryReservation`` the memory request; task-level ``cpu``/``memory`` cap the whole task,
which Kubernetes cannot do for a pod, so each container without its own value gets a share
of what the containers running at the same time leave (noted): init containers run before
the main ones, so each may have the whole size (less the sidecars started before it).  Secrets become ``secretKeyRef``s to Secrets named after the parameter or secret,
environment files ``envFrom`` a ConfigMap (or a Secret, when its variables look secret);
no value is ever written.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass, field

from ecsctl.core.render.kubernetes.names import Namer, config_key, dns_label, dns_subdomain, is_label_key, port_name
from ecsctl.core.render.kubernetes.stack import Stack
from ecsctl.core.render.kubernetes.yaml_text import Items, Node
from ecsctl.core.sensitive import find_sensitive, secret_reason, sensitive_name
from ecsctl.core.rules.service.refs import as_dict, as_list, network_mode
from ecsctl.core.units import parse_cpu, parse_memory

EFS_DRIVER = "efs.csi.aws.com"
GPU_RESOURCE = "nvidia.com/gpu"
DEFAULT_STOP_TIMEOUT = 30  # ECS and Kubernetes alike
HEALTH_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0}

CONTAINER_FIELDS_DONE = frozenset({
    "name", "image", "essential", "cpu", "memory", "memoryReservation", "portMappings", "environment",
    "environmentFiles", "secrets", "mountPoints", "volumesFrom", "healthCheck", "dependsOn", "entryPoint",
    "command", "workingDirectory", "user", "privileged", "readonlyRootFilesystem", "linuxParameters",
    "interactive", "pseudoTerminal", "stopTimeout", "hostname", "extraHosts", "dnsServers", "dnsSearchDomains",
    "dockerLabels", "systemControls", "resourceRequirements", "repositoryCredentials",
})
CONTAINER_NOTES = {
    "logConfiguration": lambda v: (f"logConfiguration ({as_dict(v).get('logDriver', '?')}): Kubernetes keeps container output on the "
                                   "node; ship it with a log agent DaemonSet (e.g. Fluent Bit to CloudWatch Logs)"),
    "firelensConfiguration": lambda v: "firelensConfiguration: no equivalent; run Fluent Bit as a DaemonSet or a sidecar of your own",
    "ulimits": lambda v: ("ulimits (" + ", ".join(str(as_dict(u).get("name")) for u in as_list(v))
                          + "): set by the node's container runtime in Kubernetes, not per pod"),
    "links": lambda v: "links: the containers of a pod share one network namespace; reach them on localhost",
    "startTimeout": lambda v: f"startTimeout {v}s (how long ECS waits for this container's dependencies): no equivalent",
    "disableNetworking": lambda v: "disableNetworking: no equivalent (a pod always has a network)",
    "dockerSecurityOptions": lambda v: "dockerSecurityOptions: use securityContext (seLinuxOptions, appArmorProfile, seccompProfile) instead",
    "restartPolicy": lambda v: "restartPolicy (ECS container restarts): Kubernetes restarts containers per the pod's restartPolicy",
    "credentialSpecs": lambda v: "credentialSpecs (gMSA): use securityContext.windowsOptions.gmsaCredentialSpec",
    "versionConsistency": lambda v: "versionConsistency: Kubernetes resolves the image when each pod starts; pin a digest for the same effect",
}
TASK_FIELDS_DONE = frozenset({
    "family", "containerDefinitions", "volumes", "cpu", "memory", "networkMode", "taskRoleArn", "pidMode", "ipcMode",
    "runtimePlatform", "requiresCompatibilities", "placementConstraints",
})
TASK_NOTES = {
    "executionRoleArn": lambda v: ("executionRoleArn: the kubelet pulls images with the node's IAM role, and secrets come from "
                                   "Kubernetes Secrets; no pod field"),
    "ephemeralStorage": lambda v: (f"ephemeralStorage {as_dict(v).get('sizeInGiB')} GiB for the task: set "
                                   "resources.requests['ephemeral-storage'] per container (EKS Fargate gives pods 20 GiB)"),
    "proxyConfiguration": lambda v: "proxyConfiguration (App Mesh): no equivalent; use a service mesh's own injection",
    "inferenceAccelerators": lambda v: "inferenceAccelerators: no equivalent",
    "tags": lambda v: "tags: AWS resource tags have no pod equivalent (use labels)",
    "enableFaultInjection": lambda v: "enableFaultInjection: no equivalent",
}


@dataclass
class PodInput:
    """What a pod translation needs besides the task definition."""

    workload: str  # the Kubernetes name of the workload: prefix of derived object names
    selector: dict  # the pod's own labels
    stack: Stack
    fargate: bool = False
    job: bool = False  # a Job's pods: restartPolicy Never, no liveness
    service: dict = field(default_factory=dict)  # the ECS service (volumeConfigurations)
    storage_names: Namer = field(default_factory=lambda: Namer(dns_subdomain))  # PersistentVolume names, stack-wide
    plain_text: str = "the ECS task definition"  # where the plain-text values come from (notes on secret-looking ones)


@dataclass
class Pod:
    spec: Node
    annotations: dict
    objects: list  # ServiceAccount, PersistentVolume, PersistentVolumeClaim
    needs: list  # one line per Secret / ConfigMap the user must create


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def cpu_quantity(units: int) -> tuple[str, bool]:
    """CPU units as a Kubernetes quantity, and whether it is exact (1,024 units = 1 CPU = 1000m)."""
    milli = units * 1000 / 1024
    whole = math.ceil(milli)
    if whole % 1000 == 0:
        return str(whole // 1000), milli == whole
    return f"{whole}m", milli == whole


def mib(value: int) -> str:
    return f"{value}Mi"


def secret_reference(value_from: str, stack: Stack) -> tuple[str, str, str, str]:
    """``(secret name, key, what it is, extra note)`` for a ``valueFrom``; never a value."""
    value = str(value_from)
    found = stack.secret_source(value)
    extra = ""
    if value.startswith("arn:") and ":secretsmanager:" in value:
        parts = value.split(":")
        name = parts[6] if len(parts) > 6 else value
        json_key = parts[7] if len(parts) > 7 else ""
        stage = parts[8] if len(parts) > 8 else ""
        version = parts[9] if len(parts) > 9 else ""
        name = found[1] if found else re.sub(r"-[A-Za-z0-9]{6}$", "", name)
        what = f"Secrets Manager secret {name}" + (f", JSON key {json_key}" if json_key else "")
        if stage or version:
            extra = f"version {stage or version} of the secret: a Kubernetes Secret holds one version"
        return dns_subdomain(name.replace("/", "-")), config_key(json_key) if json_key else "value", what, extra
    if value.startswith("arn:"):
        # the ARN drops the leading slash of a hierarchical name: parameter/prod/db is /prod/db
        name = value.split(":", 5)[-1].removeprefix("parameter/")
        name = f"/{name}" if "/" in name else name
    else:
        name = value
    name = found[1] if found else name
    return dns_subdomain(name.replace("/", "-")), "value", f"SSM parameter {name}", extra


def _shell(command: list) -> tuple[list[str], str]:
    if command and command[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(str(c) for c in command[1:])], ""
    if command and command[0] == "CMD":
        return [str(c) for c in command[1:]], ""
    return [str(c) for c in command], "the health check command has no CMD or CMD-SHELL prefix; run as given"


class PodBuilder:
    """One task definition's pod; ``build()`` returns it with the objects it needs."""

    def __init__(self, td: dict, given: PodInput) -> None:
        self.td = td
        self.given = given
        self.mode = network_mode(td)
        self.containers = [c for c in as_list(td.get("containerDefinitions")) if isinstance(c, dict)]
        self.container_names = Namer()
        self.volume_names = Namer()
        self.spec = Node()
        self.objects: list[Node] = []
        self.needs: list[str] = []
        self.annotations: dict[str, str] = {}
        self.volumes = Items()
        self.volume_of: dict[str, str] = {}  # ECS volume name -> pod volume name
        self._init: set[str] = set()  # the init containers' names (run to completion first)
        self._running: list[list[dict]] = []  # the groups of containers that run at the same time (_phases)
        self._beside: dict[str, list[dict]] = {}  # container name -> the others of its group

    # -- roles ------------------------------------------------------------------------------

    def _roles(self) -> tuple[list[dict], list[dict], set[str], set[str]]:
        """(init containers in start order, main containers, init names, names others wait to start)."""
        init, ordered = set(), set()
        for c in self.containers:
            for dep in as_list(c.get("dependsOn")):
                dep = as_dict(dep)
                (init if dep.get("condition") in ("SUCCESS", "COMPLETE") else ordered).add(dep.get("containerName"))
        ordered -= init
        names = [c.get("name") for c in self.containers]
        main = [n for n in names if self._essential(n) and n not in init | ordered]
        if not main:
            main = [n for n in names if n not in init | ordered] or names[-1:]
        sidecars = {n for n in names if n not in init and n not in main}
        first = self._start_order([n for n in names if (n in init or n in sidecars) and n not in main])
        by_name = {c.get("name"): c for c in self.containers}
        return [by_name[n] for n in first], [by_name[n] for n in main], init, ordered

    def _essential(self, name: str) -> bool:
        c = next(c for c in self.containers if c.get("name") == name)
        return c.get("essential", True) is not False

    def _start_order(self, names: list[str]) -> list[str]:
        """``names`` with every container after the ones it depends on (manifest order otherwise)."""
        deps = {c.get("name"): {as_dict(d).get("containerName") for d in as_list(c.get("dependsOn"))} for c in self.containers}
        out: list[str] = []
        pending = list(names)
        while pending:
            ready = next((n for n in pending if not (deps.get(n, set()) & set(pending))), pending[0])  # a cycle: E2082
            out.append(ready)
            pending.remove(ready)
        return out

    # -- resources ------------------------------------------------------------------------

    @staticmethod
    def _phases(first: list[dict], main: list[dict], init: set[str]) -> list[list[dict]]:
        """The groups of containers that run at the same time: the main containers with the native
        sidecars, then each init container with the sidecars started before it (init containers run
        one by one, to completion, before the main ones).  Kubernetes' pod request is the largest
        phase's, not the sum of all
        (https://kubernetes.io/docs/concepts/workloads/pods/init-containers/#resource-sharing-within-containers)."""
        sidecars = [c for c in first if c.get("name") not in init]
        phases = [sidecars + main]
        for i, c in enumerate(first):
            if c.get("name") in init:
                phases.append([c] + [o for o in first[:i] if o.get("name") not in init])
        return phases

    def _shares(self) -> tuple[dict[str, int], dict[str, int], int | None, int | None]:
        """Per-container CPU and memory shares of the task-level sizes, for containers without their
        own: what the containers running beside it do not reserve, split equally among those
        running together that have none (an init container runs with the sidecars before it only)."""
        task_cpu = parse_cpu(self.td["cpu"]) if self.td.get("cpu") not in (None, "") else None
        task_mem = parse_memory(self.td["memory"]) if self.td.get("memory") not in (None, "") else None
        cpu_share = self._share(task_cpu, lambda c: _int(c.get("cpu"))) if task_cpu else {}
        mem_share = self._share(task_mem, lambda c: _int(c.get("memoryReservation")) or _int(c.get("memory"))) if task_mem else {}
        return cpu_share, mem_share, task_cpu, task_mem

    def _share(self, total: int, own) -> dict[str, int]:
        share: dict[str, int] = {}

        def reserved(c: dict) -> int:
            return own(c) or share.get(c.get("name"), 0)

        for phase in self._running:
            lacking = [c.get("name") for c in phase if not own(c) and c.get("name") not in share]
            if lacking:
                each = max(0, total - sum(reserved(c) for c in phase)) // len(lacking)
                share.update({n: each for n in lacking})
        return share

    def _resources(self, c: dict, node: Node, shares) -> None:
        cpu_share, mem_share, task_cpu, task_mem = shares
        name = c.get("name")
        beside = self._beside.get(name, [])
        alone = not beside
        init = name in self._init
        requests, limits = Node(), Node()
        notes: list[str] = []
        if init and (name in cpu_share or name in mem_share):
            notes.append("an init container runs before the main containers, and Kubernetes counts the larger of the two, "
                         "not the sum: this one may have the whole task size" + ("" if alone else ", less what the sidecars "
                                                                                  "started before it reserve"))
        cpu = _int(c.get("cpu")) or cpu_share.get(name)
        if cpu:
            quantity, exact = cpu_quantity(cpu)
            requests["cpu"] = quantity
            if not exact:
                notes.append(f"{cpu} CPU units are {cpu * 1000 / 1024:g} millicores; Kubernetes counts whole millicores")
            if name in cpu_share and not alone and not init:
                notes.append(f"ECS sizes the task as a whole ({task_cpu} CPU units); this container gets an equal share of what the others do not reserve")
        if task_cpu:
            others = sum(_int(o.get("cpu")) or cpu_share.get(o.get("name"), 0) for o in beside)
            limits["cpu"] = cpu_quantity(max(task_cpu - others, cpu or 0, 1))[0]
            if not alone:
                notes.append(f"task-level cpu {task_cpu} caps the whole task; Kubernetes caps each container: this one may "
                             "use what the others do not reserve")
        hard, soft = _int(c.get("memory")), _int(c.get("memoryReservation"))
        request = soft or hard or mem_share.get(name)
        if request:
            requests["memory"] = mib(request)
        if hard:
            limits["memory"] = mib(hard)
        elif task_mem:
            others = sum(_int(o.get("memoryReservation")) or _int(o.get("memory")) or mem_share.get(o.get("name"), 0)
                         for o in beside)
            limits["memory"] = mib(max(task_mem - others, request or 0))
            if not alone:
                notes.append(f"task-level memory {task_mem} MiB caps the whole task; Kubernetes caps each container: "
                             "this one may use what the others reserve for themselves")
        elif soft:
            notes.append("memoryReservation without memory: no limit, as in ECS (the container may use the node's free memory)")
        for item in as_list(c.get("resourceRequirements")):
            item = as_dict(item)
            if item.get("type") == "GPU" and str(item.get("value", "")).isdigit():
                limits[GPU_RESOURCE] = int(item["value"])
                notes.append("GPU: the NVIDIA device plugin's nvidia.com/gpu resource")
            elif item:
                notes.append(f"resourceRequirements {item.get('type')}: no equivalent")
        if not requests and not limits:
            notes.append("no cpu or memory in the task definition: no requests or limits (Kubernetes BestEffort)")
            return
        resources = Node()
        if limits:
            resources["limits"] = limits
        if requests:
            resources["requests"] = requests
        node["resources"] = resources
        for n in notes:
            node.note("resources", n)

    # -- environment ------------------------------------------------------------------------

    def _secret_env(self, name: str, key: str, what: str) -> Node:
        """An environment variable set from the workload's Secret, for a plain-text value of the
        task definition that looks like a secret (W7001): the value itself is never written."""
        secret = dns_subdomain(f"{self.given.workload}-env")
        self._need(f"Secret '{secret}' key '{key}': {what} (plain text in {self.given.plain_text})")
        return Node(name=name, valueFrom=Node(secretKeyRef=Node(name=secret, key=key)))

    @staticmethod
    def _free_name(base: str, taken: set[str]) -> str:
        """``base``, or ``base_1``, ``base_2`` … when the container has a variable of that name."""
        name, n = base, 0
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        return name

    def _arguments(self, c: dict, field: str, hidden: list[Node], taken: set[str]) -> Items:
        """``command``/``entryPoint`` as Kubernetes arguments.  An argument that looks like a
        secret (W7001) becomes ``$(VAR)``, which the kubelet expands from the container's
        environment variable ``VAR``, set from the workload's Secret (appended to ``hidden``;
        ``taken``: the container's variable names).  Every other ``$(`` is written ``$$(``: ECS
        passes ``$(NAME)`` as it is, the kubelet would expand it."""
        args = [str(x) for x in c[field]]
        secretish = {h.path[1] for h in find_sensitive({field: args}) if h.where == "argument"}
        out = Items()
        for i, arg in enumerate(args):
            if i not in secretish:
                out.append(arg.replace("$(", "$$("))
                if "$(" in arg:
                    out.note(len(out) - 1, "ECS passes $(…) as written; $$( keeps the kubelet from expanding it")
                continue
            var = self._free_name(f"ECS_{field.upper()}_{i}", taken)
            hidden.append(self._secret_env(var, config_key(f"{c.get('name')}-{field}-{i}"), f"argument {field}[{i}] of {c.get('name')}"))
            out.append(f"$({var})")
            out.note(len(out) - 1, f"{field}[{i}] looks like a plain-text secret (W7001): read from the environment "
                                   f"variable {var}, set from a Secret; the value is not written here")
        return out

    def _probe_command(self, c: dict, command: list, node: Node) -> tuple[list[str], str]:
        """The probe's ``exec.command`` and a note.  A probe's command takes no ``$(VAR)``, so a
        health check with an argument that looks like a secret (W7001) runs through ``/bin/sh``,
        reading it from an environment variable set from the workload's Secret."""
        args = [str(x) for x in command]
        secretish = sorted(h.path[1] for h in find_sensitive({"command": args}) if h.where == "argument")
        if not secretish:
            return _shell(command)
        env = node.get("env")
        if env is None:
            env = node["env"] = Items()
        taken = {str(e.get("name")) for e in env}
        name = c.get("name")
        shell = bool(args) and args[0] == "CMD-SHELL"
        refs = {}
        for i in ([1] if shell else secretish):
            var = self._free_name(f"ECS_HEALTHCHECK_{i}" if not shell else "ECS_HEALTHCHECK", taken)
            what = f"the health check's shell command of {name}" if shell else f"argument healthCheck.command[{i}] of {name}"
            env.append(self._secret_env(var, config_key(f"{name}-healthCheck" + ("" if shell else f"-{i}")), what))
            env.note(len(env) - 1, f"{what} looks like a plain-text secret (W7001): the probe reads it from here")
            refs[i] = var
        if shell:
            return ["/bin/sh", "-c", f'eval "${refs[1]}"'], ("the health check's shell command holds what looks like a "
                                                              f"secret: it is read from ${refs[1]}, never written here")
        start = 1 if args and args[0] == "CMD" else 0
        script = " ".join(f'"${refs[i]}"' if i in refs else shlex.quote(a) for i, a in enumerate(args) if i >= start)
        return ["/bin/sh", "-c", f"exec {script}"], ("the health check has an argument that looks like a secret: run "
                                                     "through /bin/sh (the image needs one) to read it from the environment")

    def _env(self, c: dict, node: Node, hidden: list[Node] = ()) -> None:
        env = Items()
        stack = self.given.stack
        for item in as_list(c.get("environment")):
            item = as_dict(item)
            name, value = str(item.get("name", "")), item.get("value")
            if value is not None and secret_reason(name, str(value)):
                env.append(self._secret_env(name, config_key(name), f"the value of {name}"))
                env.note(len(env) - 1, f"a plain-text value in {self.given.plain_text} that looks like a secret (W7001): "
                                       f"referenced from Secret '{env[-1]['valueFrom']['secretKeyRef']['name']}' instead; "
                                       "the value is not written here")
            else:
                env.append(Node(name=name, value="" if value is None else str(value)))
        for item in as_list(c.get("secrets")):
            item = as_dict(item)
            secret, key, what, extra = secret_reference(item.get("valueFrom", ""), stack)
            env.append(Node(name=str(item.get("name", "")), valueFrom=Node(secretKeyRef=Node(name=secret, key=key))))
            env.note(len(env) - 1, f"from {what}: create Secret '{secret}' (key '{key}'), e.g. with the External Secrets Operator")
            if extra:
                env.note(len(env) - 1, extra)
            self._need(f"Secret '{secret}' key '{key}': {what}")
        for item in hidden:
            env.append(item)
            env.note(len(env) - 1, "an argument that looks like a secret, expanded by the kubelet as $(" + item["name"] + ")")
        if env:
            node["env"] = env
        sources = Items()
        for item in as_list(c.get("environmentFiles")):
            value = str(as_dict(item).get("value", ""))
            doc = stack.environment_file(value)
            base = doc.name if doc else value.rsplit("/", 1)[-1].removesuffix(".env")
            name = dns_subdomain(base)
            variables = [str(v) for v in as_list((doc.spec if doc else {}).get("variables"))]
            secretish = any(sensitive_name(v) for v in variables)
            where = "s3://" + value.split(":::", 1)[-1] if value.startswith("arn:") else value
            if secretish:
                sources.append(Node(secretRef=Node(name=name)))
                sources.note(len(sources) - 1, f"S3 environment file {where} (its variables look secret): create Secret '{name}' "
                                               f"from it, e.g. kubectl create secret generic {name} --from-env-file=FILE")
                self._need(f"Secret '{name}': the variables of {where}")
            else:
                sources.append(Node(configMapRef=Node(name=name)))
                sources.note(len(sources) - 1, f"S3 environment file {where}: create ConfigMap '{name}' from it, "
                                               f"e.g. kubectl create configmap {name} --from-env-file=FILE")
                self._need(f"ConfigMap '{name}': the variables of {where}")
        if len(sources) > 1:
            sources.note(0, "ECS reads several environment files top down; in envFrom a later source wins a clash: keep names unique")
        if sources:
            node["envFrom"] = sources

    def _need(self, line: str) -> None:
        if line not in self.needs:
            self.needs.append(line)

    # -- volumes ------------------------------------------------------------------------------

    def _volume(self, v: dict) -> None:
        ecs_name = str(v.get("name"))
        name = self.volume_names(ecs_name)
        self.volume_of[ecs_name] = name
        node = Node(name=name)
        host = as_dict(v.get("host"))
        docker = as_dict(v.get("dockerVolumeConfiguration"))
        efs = as_dict(v.get("efsVolumeConfiguration"))
        if host.get("sourcePath"):
            node["hostPath"] = Node(path=str(host["sourcePath"]), type="DirectoryOrCreate")
            node.note("hostPath", f"ECS bind mount of the instance's {host['sourcePath']}: the node's directory "
                                  "(EKS Fargate allows no hostPath)")
        elif efs:
            claim = self._efs(ecs_name, efs)
            node["persistentVolumeClaim"] = Node(claimName=claim)
            node.note("persistentVolumeClaim", f"Amazon EFS {efs.get('fileSystemId')}: a PersistentVolumeClaim bound to a "
                                               f"PersistentVolume of the EFS CSI driver ({EFS_DRIVER}), below")
        elif docker:
            driver, scope = docker.get("driver", "local"), docker.get("scope", "task")
            if scope == "task" and driver == "local" and not docker.get("driverOpts"):
                node["emptyDir"] = Node()
                node.note("emptyDir", "Docker volume of task scope: an emptyDir lives as long as the pod")
            else:
                node["persistentVolumeClaim"] = Node(claimName=name)
                node.note("persistentVolumeClaim", f"Docker volume (driver {driver}, scope {scope}): no equivalent; "
                                                   f"create a PersistentVolumeClaim '{name}' with a storage class of your own")
                self._need(f"PersistentVolumeClaim '{name}': for the Docker volume {ecs_name}")
        elif v.get("fsxWindowsFileServerVolumeConfiguration"):
            node["emptyDir"] = Node()
            node.note("emptyDir", "not translatable: FSx for Windows File Server volume; replace this emptyDir with an SMB CSI "
                                  "driver volume")
        elif v.get("configuredAtLaunch"):
            self._ebs(ecs_name, node)
        else:
            node["emptyDir"] = Node()  # a bind mount without a host path: task storage, shared by its containers
        self.volumes.append(node)

    def _efs(self, ecs_name: str, efs: dict) -> str:
        auth = as_dict(efs.get("authorizationConfig"))
        access_point = auth.get("accessPointId") or ""
        root = efs.get("rootDirectory") or "/"
        path = "" if access_point or root == "/" else root
        handle = f"{efs.get('fileSystemId')}:{path}:{access_point}".rstrip(":")
        name = self.given.storage_names(f"{self.given.workload}-{ecs_name}", key=(self.given.workload, ecs_name))
        csi = Node(driver=EFS_DRIVER, volumeHandle=handle)
        options: list[str] = []
        notes: list[str] = []
        if efs.get("transitEncryption") == "ENABLED":
            options.append("tls")
        else:
            csi["volumeAttributes"] = Node(encryptInTransit="false")
        if auth.get("iam") == "ENABLED":
            options.append("iam")
            notes.append("iam: the EFS CSI driver mounts with its own IAM role, not the task role")
        if efs.get("transitEncryptionPort"):
            notes.append(f"transitEncryptionPort {efs['transitEncryptionPort']}: the EFS mount helper picks its own port")
        spec = Node(capacity=Node(storage="5Gi"), volumeMode="Filesystem", accessModes=["ReadWriteMany"],
                    persistentVolumeReclaimPolicy="Retain", storageClassName="")
        spec.note("capacity", "EFS is elastic: Kubernetes needs a size, the EFS CSI driver ignores it")
        if options:
            spec["mountOptions"] = options
        spec["csi"] = csi
        for n in notes:
            spec.note("csi", n)
        self.objects.append(Node(apiVersion="v1", kind="PersistentVolume", metadata=Node(name=name, labels=dict(self.given.selector)),
                                 spec=spec))
        self.objects.append(Node(apiVersion="v1", kind="PersistentVolumeClaim", metadata=Node(name=name, labels=dict(self.given.selector)),
                                 spec=Node(accessModes=["ReadWriteMany"], storageClassName="", volumeName=name,
                                           resources=Node(requests=Node(storage="5Gi")))))
        return name

    def _ebs(self, ecs_name: str, node: Node) -> None:
        configs = {as_dict(c).get("name"): as_dict(as_dict(c).get("managedEBSVolume"))
                   for c in as_list(self.given.service.get("volumeConfigurations"))}
        ebs = configs.get(ecs_name)
        if not ebs:
            node["emptyDir"] = Node()
            node.note("emptyDir", "not translatable: a volume configured at launch, and no volumeConfigurations here; "
                                  "replace this emptyDir with the volume you attach")
            return
        size = _int(ebs.get("sizeInGiB")) or 1
        template = Node(spec=Node(accessModes=["ReadWriteOnce"], storageClassName=dns_subdomain(f"ebs-{ebs.get('volumeType', 'gp3')}"),
                                  resources=Node(requests=Node(storage=f"{size}Gi"))))
        template["spec"].note("storageClassName", f"a StorageClass of the EBS CSI driver (ebs.csi.aws.com) with type "
                                                  f"{ebs.get('volumeType', 'gp3')}, encryption and IOPS as ECS had them")
        node["ephemeral"] = Node(volumeClaimTemplate=template)
        node.note("ephemeral", "ECS attaches a new EBS volume to each task: a generic ephemeral volume does the same")
        self._need(f"StorageClass 'ebs-{ebs.get('volumeType', 'gp3')}': for the EBS volume {ecs_name}")

    def _mounts(self, c: dict) -> Items:
        mounts = Items()
        for m in as_list(c.get("mountPoints")):
            m = as_dict(m)
            target = self.volume_of.get(str(m.get("sourceVolume")))
            if target is None:
                continue  # E2071
            mount = Node(name=target, mountPath=str(m.get("containerPath", "")))
            if m.get("readOnly"):
                mount["readOnly"] = True
            mounts.append(mount)
        return mounts

    def _tmpfs(self, c: dict, mounts: Items) -> list[str]:
        notes = []
        linux = as_dict(c.get("linuxParameters"))
        base = self.container_names(str(c.get("name")))
        shm = _int(linux.get("sharedMemorySize"))
        if shm:
            name = self.volume_names(f"{base}-shm")
            self.volumes.append(Node(name=name, emptyDir=Node(medium="Memory", sizeLimit=mib(shm))))
            mounts.append(Node(name=name, mountPath="/dev/shm"))
            notes.append(f"sharedMemorySize {shm} MiB: a memory-backed emptyDir on /dev/shm")
        for i, t in enumerate(as_list(linux.get("tmpfs"))):
            t = as_dict(t)
            name = self.volume_names(f"{base}-tmpfs-{i}")
            empty = Node(medium="Memory")
            if _int(t.get("size")):
                empty["sizeLimit"] = mib(t["size"])
            self.volumes.append(Node(name=name, emptyDir=empty))
            mounts.append(Node(name=name, mountPath=str(t.get("containerPath", ""))))
            if t.get("mountOptions"):
                notes.append(f"tmpfs mount options {', '.join(map(str, t['mountOptions']))}: no equivalent")
        return notes

    # -- one container -----------------------------------------------------------------------------

    def _container(self, c: dict, role: str, shares, needed_healthy: bool, waited_for: bool = False) -> Node:
        ecs_name = str(c.get("name"))
        node = Node(name=self.container_names(ecs_name), image=str(c.get("image", "")))
        notes: list[str] = []
        if node["name"] != ecs_name:
            notes.append(f"ECS container '{ecs_name}' (Kubernetes names are lowercase DNS labels)")
        if role == "sidecar":
            node["restartPolicy"] = "Always"
            why = "others wait for it (dependsOn START/HEALTHY)" if waited_for else "it is not essential"
            notes.append(f"a native sidecar, as {why}: Kubernetes starts it before the main containers"
                         + ("; ECS stops the task when an essential container exits, Kubernetes restarts the sidecar"
                            if c.get("essential", True) is not False else ""))
        elif role == "init":
            notes.append("others wait for it to complete (dependsOn SUCCESS/COMPLETE): an init container, run to completion "
                         "before every main container (ECS starts unrelated containers meanwhile)")
        hidden: list[Node] = []
        taken = {str(as_dict(e).get("name")) for e in as_list(c.get("environment")) + as_list(c.get("secrets"))}
        if c.get("entryPoint"):
            node["command"] = self._arguments(c, "entryPoint", hidden, taken)
        if c.get("command"):
            node["args"] = self._arguments(c, "command", hidden, taken)
        if c.get("workingDirectory"):
            node["workingDir"] = str(c["workingDirectory"])
        self._ports(c, node)
        self._env(c, node, hidden)
        self._resources(c, node, shares)
        mounts = self._mounts(c)
        for ref in as_list(c.get("volumesFrom")):
            ref = as_dict(ref)
            source = next((o for o in self.containers if o.get("name") == ref.get("sourceContainer")), None)
            for m in self._mounts(source or {}):
                if ref.get("readOnly"):
                    m["readOnly"] = True
                mounts.append(m)
            if source is not None:
                notes.append(f"volumesFrom {ref.get('sourceContainer')}: its volume mounts, repeated here")
        notes += self._tmpfs(c, mounts)
        if mounts:
            node["volumeMounts"] = mounts
        self._probes(c, node, role, needed_healthy)
        self._security(c, node, notes)
        if c.get("interactive"):
            node["stdin"] = True
        if c.get("pseudoTerminal"):
            node["tty"] = True
        for key, value in c.items():
            if key in CONTAINER_FIELDS_DONE:
                continue
            notes.append(CONTAINER_NOTES[key](value) if key in CONTAINER_NOTES else f"{key}: no Kubernetes equivalent; not rendered")
        for n in notes:
            node.note("name", n)
        return node

    def _ports(self, c: dict, node: Node) -> None:
        ports = Items()
        names: set[str] = set()
        for m in as_list(c.get("portMappings")):
            m = as_dict(m)
            port = _int(m.get("containerPort"))
            if port is None:
                if m.get("containerPortRange"):
                    node.note("name", f"containerPortRange {m['containerPortRange']}: Kubernetes lists single ports; the pod "
                                      "has its own IP, so every port of the range reaches the container anyway")
                continue
            entry = Node(containerPort=port, protocol=str(m.get("protocol") or "tcp").upper())
            if m.get("name"):
                pname = port_name(m["name"])
                if pname and pname not in names:
                    entry = Node(name=pname, **entry)
                    names.add(pname)
                    if pname != m["name"]:
                        entry.note("name", f"ECS port name '{m['name']}' (Kubernetes port names are at most 15 lowercase characters)")
                if m.get("appProtocol"):
                    entry.note("containerPort", f"appProtocol {m['appProtocol']}: set it on the Service port (appProtocol)")
            host = _int(m.get("hostPort"))
            if self.mode == "bridge" and host:
                entry["hostPort"] = host
                entry.note("hostPort", "a static host port: binds the node's port, as ECS does, so one such pod per node")
            elif self.mode == "bridge":
                entry.note("containerPort", "dynamic host port in ECS: a pod has its own IP address and needs no host port")
            ports.append(entry)
        if ports:
            node["ports"] = ports

    def _probes(self, c: dict, node: Node, role: str, needed_healthy: bool) -> None:
        check = as_dict(c.get("healthCheck"))
        command = as_list(check.get("command"))
        if not command:
            return
        h = {k: _int(check.get(k)) if _int(check.get(k)) is not None else d for k, d in HEALTH_DEFAULTS.items()}
        essential = c.get("essential", True) is not False
        if role == "init":
            node.note("name", "healthCheck: init containers take no probes (it runs to completion first)")
            return
        if self.given.job and not needed_healthy:
            node.note("name", "healthCheck: ECS does not act on the health of a standalone task; no probe")
            return

        exe, why = self._probe_command(c, command, node)

        def probe(failures: int) -> Node:
            return Node(exec=Node(command=list(exe)), periodSeconds=h["interval"], timeoutSeconds=h["timeout"],
                        failureThreshold=failures)

        if h["startPeriod"] or needed_healthy:
            failures = math.ceil(h["startPeriod"] / h["interval"]) + h["retries"]
            node["startupProbe"] = probe(failures)
            node.note("startupProbe", f"ECS health check startPeriod {h['startPeriod']}s: failures in it do not count; "
                                      f"here up to {failures} checks every {h['interval']}s"
                      + (" (others wait for it to be HEALTHY)" if needed_healthy else ""))
        if essential and not self.given.job:
            node["readinessProbe"] = probe(h["retries"])
            node["livenessProbe"] = probe(h["retries"])
            node.note("livenessProbe", "an unhealthy essential container makes ECS replace the task; Kubernetes restarts the container")
        elif not essential:
            node.note("name", "healthCheck of a non-essential container: ECS ignores it for the task's health")
        if why:
            node.note("name", why)

    def _security(self, c: dict, node: Node, notes: list[str]) -> None:
        context = Node()
        if c.get("privileged"):
            context["privileged"] = True
        if c.get("readonlyRootFilesystem"):
            context["readOnlyRootFilesystem"] = True
        linux = as_dict(c.get("linuxParameters"))
        caps = as_dict(linux.get("capabilities"))
        if caps.get("add") or caps.get("drop"):
            context["capabilities"] = Node({k: [str(x) for x in caps[k]] for k in ("add", "drop") if caps.get(k)})
        user = c.get("user")
        if isinstance(user, str) and user:
            uid, _, gid = user.partition(":")
            if uid.isdigit() and (not gid or gid.isdigit()):
                context["runAsUser"] = int(uid)
                if gid:
                    context["runAsGroup"] = int(gid)
            else:
                notes.append(f"user '{user}': Kubernetes runs as numeric ids only (runAsUser/runAsGroup); set the image's USER instead")
        if linux.get("initProcessEnabled"):
            notes.append("initProcessEnabled: no per-container init; shareProcessNamespace gives the pod one that reaps zombies")
        for key in ("devices", "maxSwap", "swappiness"):
            if linux.get(key) is not None:
                notes.append(f"linuxParameters.{key}: no equivalent")
        if context:
            node["securityContext"] = context

    # -- the pod ---------------------------------------------------------------------------------

    def build(self) -> Pod:
        for v in as_list(self.td.get("volumes")):
            if isinstance(v, dict):
                self._volume(v)
        first, main, init, waited = self._roles()
        healthy = {as_dict(d).get("containerName") for c in self.containers for d in as_list(c.get("dependsOn"))
                   if as_dict(d).get("condition") == "HEALTHY"}
        self._init = init
        self._running = self._phases(first, main, init)
        self._beside = {c.get("name"): [o for o in self._running[0] if o is not c] for c in self._running[0]}
        self._beside.update({phase[0].get("name"): phase[1:] for phase in self._running[1:]})
        shares = self._shares()
        init_nodes = Items(self._container(c, "init" if c.get("name") in init else "sidecar", shares, c.get("name") in healthy,
                                           c.get("name") in waited) for c in first)
        main_nodes = Items(self._container(c, "main", shares, c.get("name") in healthy) for c in main)
        spec = self.spec
        self._pod_level(spec)
        if self.given.job:
            spec["restartPolicy"] = "Never"
            spec.note("restartPolicy", "ECS does not rerun a task that exits")
        if init_nodes:
            spec["initContainers"] = init_nodes
        spec["containers"] = main_nodes
        orders = [f"{c.get('name')} waits for {as_dict(d).get('containerName')} ({as_dict(d).get('condition')})"
                  for c in main for d in as_list(c.get("dependsOn"))]
        if orders:
            spec.note("containers", "dependsOn: " + "; ".join(orders) + " — kept by starting those containers first (initContainers)")
        if self.volumes:
            spec["volumes"] = self.volumes
        return Pod(spec, self.annotations, self.objects, self.needs)

    def _pod_level(self, spec: Node) -> None:
        td, given = self.td, self.given
        role = td.get("taskRoleArn")
        if isinstance(role, str) and role:
            name = dns_subdomain(given.workload)
            account = Node(apiVersion="v1", kind="ServiceAccount",
                           metadata=Node(name=name, labels=dict(given.selector), annotations={"eks.amazonaws.com/role-arn": role}))
            account["metadata"].note("annotations", "taskRoleArn: IAM roles for service accounts (IRSA); the role's trust "
                                                    "policy must trust the EKS cluster's OIDC provider for this service account")
            self.objects.insert(0, account)
            spec["serviceAccountName"] = name
        if self.mode == "host":
            spec["hostNetwork"] = True
            spec.note("hostNetwork", "networkMode host")
        elif self.mode == "awsvpc":
            spec.note("containers", "networkMode awsvpc: a pod has its own IP address, as an awsvpc task has its own ENI")
        elif self.mode == "bridge" and len(self.containers) > 1:
            spec.note("containers", "networkMode bridge: the containers of a pod share one network namespace (localhost), "
                                    "where each bridge container had its own")
        elif self.mode == "none":
            spec.note("containers", "networkMode none: no equivalent (a pod always has a network)")
        if td.get("pidMode") == "task":
            spec["shareProcessNamespace"] = True
        elif td.get("pidMode") == "host":
            spec["hostPID"] = True
        if td.get("ipcMode") == "host":
            spec["hostIPC"] = True
        elif td.get("ipcMode") == "none":
            spec.note("containers", "ipcMode none: no equivalent (a pod's containers share an IPC namespace)")
        platform = as_dict(td.get("runtimePlatform"))
        selector = {}
        family = str(platform.get("operatingSystemFamily") or "")
        if family:
            selector["kubernetes.io/os"] = "linux" if family == "LINUX" else "windows"
        arch = str(platform.get("cpuArchitecture") or "")
        if arch:
            selector["kubernetes.io/arch"] = "arm64" if arch == "ARM64" else "amd64"
        if selector:
            spec["nodeSelector"] = selector
            if family.startswith("WINDOWS"):
                spec.note("nodeSelector", f"{family}: pick the Windows version with node.kubernetes.io/windows-build")
        stop = [t for t in (_int(c.get("stopTimeout")) for c in self.containers) if t is not None]
        if stop and max(stop) != DEFAULT_STOP_TIMEOUT:
            spec["terminationGracePeriodSeconds"] = max(stop)
            if len(set(stop)) > 1 or len(stop) < len(self.containers):
                spec.note("terminationGracePeriodSeconds", "stopTimeout is per container in ECS, per pod here: the longest")
        hostnames = [c.get("hostname") for c in self.containers if c.get("hostname")]
        if hostnames:
            spec["hostname"] = dns_label(str(hostnames[0]))
            spec.note("hostname", "hostname is per container in ECS, per pod here")
        aliases: dict[str, list[str]] = {}
        for c in self.containers:
            for h in as_list(c.get("extraHosts")):
                h = as_dict(h)
                aliases.setdefault(str(h.get("ipAddress")), []).append(str(h.get("hostname")))
        if aliases:
            spec["hostAliases"] = Items(Node(ip=ip, hostnames=sorted(set(names))) for ip, names in aliases.items())
            spec.note("hostAliases", "extraHosts of every container, for the whole pod")
        servers = [str(s) for c in self.containers for s in as_list(c.get("dnsServers"))]
        searches = [str(s) for c in self.containers for s in as_list(c.get("dnsSearchDomains"))]
        if servers or searches:
            config = Node()
            if servers:
                spec["dnsPolicy"] = "None"
                config["nameservers"] = sorted(set(servers))
            if searches:
                config["searches"] = sorted(set(searches))
            spec["dnsConfig"] = config
            spec.note("dnsConfig", "dnsServers/dnsSearchDomains of the containers, for the whole pod")
        sysctls = [as_dict(s) for c in self.containers for s in as_list(c.get("systemControls"))]
        if sysctls:
            spec["securityContext"] = Node(sysctls=Items(Node(name=str(s.get("namespace")), value=str(s.get("value"))) for s in sysctls))
            spec.note("securityContext", "systemControls of the containers, for the whole pod (unsafe sysctls must be allowed on the kubelet)")
        pulls = [as_dict(c.get("repositoryCredentials")).get("credentialsParameter") for c in self.containers]
        pulls = [p for p in pulls if isinstance(p, str) and p]
        if pulls:
            names = sorted({secret_reference(p, given.stack)[0] for p in pulls})
            spec["imagePullSecrets"] = Items(Node(name=n) for n in names)
            spec.note("imagePullSecrets", "repositoryCredentials: a kubernetes.io/dockerconfigjson Secret of that name")
            for n in names:
                self._need(f"Secret '{n}' (kubernetes.io/dockerconfigjson): the registry credentials of repositoryCredentials")
        for c in self.containers:
            labels = as_dict(c.get("dockerLabels"))
            secretish = {h.path[1] for h in find_sensitive({"dockerLabels": labels})}
            for key, value in labels.items():
                if key in secretish:
                    spec.note("containers", f"Docker label '{key}' of {c.get('name')} looks like a plain-text secret "
                                            "(W7001): not written as an annotation")
                elif not is_label_key(key):
                    spec.note("containers", f"Docker label '{key}' of {c.get('name')} is not a valid Kubernetes annotation key "
                                            "([prefix/]name: a DNS subdomain prefix, a name of at most 63 letters, digits, "
                                            "'-', '_' or '.'): left out")
                elif key not in self.annotations:
                    self.annotations[str(key)] = str(value)
                elif self.annotations[str(key)] != str(value):
                    spec.note("containers", f"Docker label '{key}' of {c.get('name')}: another container has the same label; "
                                            "the pod has one set of annotations, which keeps the first container's value")
        for key, value in td.items():
            if key not in TASK_FIELDS_DONE:
                spec.note("containers", TASK_NOTES[key](value) if key in TASK_NOTES else f"task definition {key}: no Kubernetes equivalent")


def build_pod(td: dict, given: PodInput) -> Pod:
    return PodBuilder(td, given).build()

