"""Documents per second through ``Validator`` in one process, on one core.

    python bench/throughput.py [--quick] [--docs N] [--repeat N] [--seed S] [--dump DIR]
    python bench/throughput.py --vs-parser [--dump DIR] [--repeat N]

Generates N (default 10,000) varied, valid manifest documents in memory with a seeded
random generator: one Cluster, then "apps" of a TaskDefinition (Fargate/awsvpc or
EC2/bridge, 1-4 containers, port mappings, environment, SSM and Secrets Manager secrets,
health checks, dependsOn), the Service that runs it (load balancer, network configuration,
deployment configuration, sometimes auto scaling), its TargetGroup, and the Parameter,
Secret and Repository documents its references need.  Each app is one multi-document
YAML file, as people write them.

``--vs-parser`` writes the files out (``--dump``, or a temporary folder) and times, side by
side and interleaved, two processes over the same folder: ``ecsctl validate DIR`` and a bare
loop of ``yaml.load_all(..., Loader=yaml.CSafeLoader)`` over the same files (the floor: PyYAML's
C parser with its Python constructor, no positions, no checks).  Best of N wall and CPU time
(user + system, which a busy machine disturbs less), and the ratio (target: within 1.5x).

Reports: documents/second for ``Validator().validate(files, read=...)`` (best of N, the
Validator built inside the timed region), the split between loading (YAML parsing and
the envelope), schema checks and rules, the cProfile top 15 by cumulative time, and the
findings (there should be none: every generated document is meant to be valid).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import string
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, machine_line, pin_one_core, print_block  # noqa: E402

ACCOUNT = "123456789012"
REGION = "eu-west-1"
AZS = [f"{REGION}{z}" for z in "abc"]
FARGATE_SIZES = [("256", "512"), ("256", "1024"), ("512", "1024"), ("512", "2048"), ("1024", "2048"),
                 ("1024", "4096"), ("2048", "4096"), ("2048", "8192"), ("4096", "8192"), ("4096", "16384")]
PUBLIC_IMAGES = ["public.ecr.aws/nginx/nginx:1.25", "public.ecr.aws/docker/library/redis:7.2",
                 "docker.io/library/python:3.12-slim", "ghcr.io/acme/api:2.3.1", "quay.io/prometheus/node-exporter:v1.8.1"]
SIDECARS = [  # name, image, port or None
    ("envoy", "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.4.0-prod", 9901),
    ("otel-collector", "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0", 4317),
    ("datadog-agent", "public.ecr.aws/datadog/agent:7", None),
    ("migrate", "docker.io/library/python:3.12-slim", None),
]
MAIN_PORTS = [80, 3000, 5000, 8000, 8080, 9000]


def _suffix(rng: random.Random, n: int = 6) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def _doc(kind: str, name: str, spec: dict, labels: dict | None = None) -> dict:
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "ecsctl/v1", "kind": kind, "metadata": meta, "spec": spec}


def cluster() -> dict:
    groups = [{"name": f"general-{az[-1]}", "count": 40, "instanceType": "m5.4xlarge", "availabilityZone": az,
               "agentVersion": "1.82.1", "attributes": {"stack": "prod", "tier": "general"}} for az in AZS]
    return _doc("Cluster", "prod", {
        "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
        "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                                            {"capacityProvider": "FARGATE_SPOT", "weight": 3}],
        "containerInstances": groups,
    }, {"stack": "prod"})


def app(rng: random.Random, i: int) -> list[dict]:
    """One application: its task definition, service, target group and referenced objects."""
    name = f"app-{i:05d}"
    labels = {"app": name, "team": rng.choice(["payments", "search", "platform", "growth"])}
    fargate = rng.random() < 0.6
    docs: list[dict] = []
    n_containers = rng.choice([1, 1, 2, 2, 3, 4])
    main_port = rng.choice(MAIN_PORTS)
    log_group = f"/ecs/prod/{name}"

    if fargate:
        cpu, memory = rng.choice(FARGATE_SIZES)
        task_cpu, task_mem = int(cpu), int(memory)
    else:
        task_cpu, task_mem = rng.choice([(512, 1024), (1024, 2048), (2048, 4096)])

    containers = []
    ecr_repo = None
    for c in range(n_containers):
        if c == 0:
            cname = "app"
            if rng.random() < 0.5:
                ecr_repo = name
                tag = f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}"
                image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}:{tag}"
            else:
                tag, image = None, rng.choice(PUBLIC_IMAGES)
            port = main_port
        else:
            cname, image, port = SIDECARS[c - 1]
        share_cpu = task_cpu // n_containers
        share_mem = task_mem // n_containers
        container: dict = {"name": cname, "image": image, "essential": c == 0 or cname != "migrate",
                           "cpu": share_cpu, "memoryReservation": max(32, share_mem // 2)}
        if not fargate:
            container["memory"] = share_mem
        if port is not None:
            mapping = {"containerPort": port, "protocol": "tcp"}
            if fargate:
                if rng.random() < 0.5:
                    mapping["hostPort"] = port
            else:
                mapping["hostPort"] = 0 if c == 0 else port + 10000 + (i % 1000)
            container["portMappings"] = [mapping]
        if c == 0:
            container["environment"] = [{"name": "APP_ENV", "value": "production"},
                                        {"name": "PORT", "value": str(main_port)}] + [
                {"name": f"FEATURE_{k}", "value": rng.choice(["on", "off", "1", "0"])} for k in range(rng.randint(0, 6))]
            secrets = []
            if rng.random() < 0.5:
                param = f"/prod/{name}/db-host"
                docs.append(_doc("Parameter", param, {"type": "String"}, {"app": name}))
                secrets.append({"name": "DB_HOST", "valueFrom": param})
                if rng.random() < 0.5:
                    key = f"/prod/{name}/api-key"
                    docs.append(_doc("Parameter", key, {"type": "SecureString"}, {"app": name}))
                    secrets.append({"name": "API_KEY", "valueFrom": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{key}"})
            if rng.random() < 0.4:
                secret = f"prod/{name}/db"
                docs.append(_doc("Secret", secret, {"keys": ["username", "password"], "versionStages": ["AWSCURRENT"]},
                                 {"app": name}))
                arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}-{_suffix(rng)}"
                secrets += [{"name": "DB_USERNAME", "valueFrom": f"{arn}:username::"},
                            {"name": "DB_PASSWORD", "valueFrom": f"{arn}:password::"}]
            if secrets:
                container["secrets"] = secrets
            if rng.random() < 0.6:
                container["healthCheck"] = {"command": ["CMD-SHELL", f"curl -fsS http://localhost:{main_port}/healthz || exit 1"],
                                            "interval": rng.choice([10, 15, 30]), "timeout": 5, "retries": 3,
                                            "startPeriod": rng.choice([0, 30, 60])}
            if n_containers > 1:
                container["dependsOn"] = [{"containerName": SIDECARS[0][0], "condition": "START"}]
            if ecr_repo:
                docs.append(_doc("Repository", ecr_repo, {"images": [tag]}, {"app": name}))
        if cname == "migrate":
            container["command"] = ["python", "-m", "migrate", "--once"]
        container["logConfiguration"] = {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group, "awslogs-region": REGION, "awslogs-stream-prefix": cname}}
        containers.append(container)

    spec: dict = {
        "family": name,
        "networkMode": "awsvpc" if fargate else "bridge",
        "requiresCompatibilities": ["FARGATE"] if fargate else ["EC2"],
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/prod-ecs-task-execution",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/prod-{name}-task",
        "containerDefinitions": containers,
    }
    if fargate:
        spec["cpu"], spec["memory"] = cpu, memory
        spec["runtimePlatform"] = {"operatingSystemFamily": "LINUX", "cpuArchitecture": rng.choice(["X86_64", "ARM64"])}
    docs.append(_doc("TaskDefinition", name, spec, labels))

    if rng.random() < 0.9:
        desired = rng.randint(1, 10)
        svc: dict = {"cluster": "prod", "taskDefinition": name, "desiredCount": desired, "schedulingStrategy": "REPLICA",
                     "deploymentConfiguration": {"minimumHealthyPercent": rng.choice([50, 100]), "maximumPercent": 200,
                                                 "deploymentCircuitBreaker": {"enable": True, "rollback": True}}}
        if fargate:
            if rng.random() < 0.7:
                svc["launchType"] = "FARGATE"
                svc["platformVersion"] = "LATEST"
            else:
                svc["capacityProviderStrategy"] = [{"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                                                   {"capacityProvider": "FARGATE_SPOT", "weight": 2}]
            svc["networkConfiguration"] = {"awsvpcConfiguration": {
                "subnets": [f"subnet-0a3f5e1c2b4d6e7{k:02d}" for k in range(rng.randint(1, 3))],
                "securityGroups": ["sg-0c1d2e3f4a5b6c701"], "assignPublicIp": "DISABLED"}}
        else:
            svc["launchType"] = "EC2"
            svc["placementStrategy"] = [{"type": "spread", "field": "attribute:ecs.availability-zone"},
                                        {"type": "binpack", "field": "memory"}]
        if rng.random() < 0.7:
            tg = {"targetType": "ip" if fargate else "instance", "port": main_port, "protocol": "HTTP",
                  "healthCheck": {"path": "/healthz", "port": "traffic-port", "protocol": "HTTP"}}
            docs.append(_doc("TargetGroup", name, tg, labels))
            svc["loadBalancers"] = [{"targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/"
                                                       f"{rng.getrandbits(64):016x}",
                                     "containerName": "app", "containerPort": main_port}]
            svc["healthCheckGracePeriodSeconds"] = rng.choice([30, 60, 120])
        if rng.random() < 0.3:
            svc["autoScaling"] = {"minCapacity": desired, "maxCapacity": desired * 3, "targetTracking": [{
                "policyName": f"{name}-cpu", "targetValue": float(rng.choice([50, 60, 70])),
                "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"},
                "scaleOutCooldown": 60, "scaleInCooldown": 300}]}
        docs.append(_doc("Service", name, svc, labels))
    return docs


def generate(n_docs: int, seed: int) -> tuple[dict[str, bytes], Counter]:
    """File name -> YAML bytes, about ``n_docs`` documents in all, and the count per kind."""
    rng = random.Random(seed)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    files: dict[str, bytes] = {}
    kinds: Counter = Counter()
    first = cluster()
    files["cluster.yaml"] = yaml.dump(first, Dumper=dumper, sort_keys=False).encode()
    kinds["Cluster"] += 1
    i = 0
    while sum(kinds.values()) < n_docs:
        docs = app(rng, i)
        docs = docs[: n_docs - sum(kinds.values())]
        kinds.update(d["kind"] for d in docs)
        files[f"apps/app-{i:05d}.yaml"] = yaml.dump_all(docs, Dumper=dumper, sort_keys=False).encode()
        i += 1
    return files, kinds


# --- measuring -------------------------------------------------------------------------------

class GcClock:
    """Wall time spent inside the cyclic garbage collector (via ``gc.callbacks``)."""

    def __init__(self) -> None:
        self.total, self.collections, self._start = 0.0, 0, 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start
            self.collections += 1

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self)


def headline(files: dict[str, bytes], repeat: int, gc_enabled: bool = True):
    """Best-of timings of ``Validator().validate``; also the GC time of each run."""
    from ecsctl.app.validate import Validator

    names = list(files)
    times, gc_times, report = [], [], None
    for _ in range(repeat):
        gc.collect()
        if not gc_enabled:
            gc.disable()
        try:
            with GcClock() as clock:
                start = time.perf_counter()
                report = Validator().validate(names, read=files.__getitem__)
                times.append(time.perf_counter() - start)
        finally:
            gc.enable()
        gc_times.append(clock.total)
        report_gc = clock.collections
    return times, gc_times, report, report_gc


def split(files: dict[str, bytes]) -> dict[str, float]:
    """The stages of ``Validator.load`` + ``.check``, timed one at a time over all files."""
    from ecsctl.app.validate import Validator
    from ecsctl.core.manifest.envelope import classify
    from ecsctl.core.manifest.loader import load_bytes
    from ecsctl.core.rules.context import RuleContext
    from ecsctl.core.rules.engine import duplicate_names

    marks = []
    with GcClock() as clock:
        def mark():
            marks.append((time.perf_counter(), clock.total))

        mark()
        v = Validator()
        mark()
        docs = []
        for name, raw in files.items():
            docs.extend(load_bytes(raw, name).documents)
        mark()
        for doc in docs:
            if classify(doc):
                doc.valid = False
        mark()
        for doc in docs:
            if doc.valid:
                doc.valid = v.schemas.check(doc)[1]  # (findings, shape ok): rules run on what passes
        mark()
        ctx = RuleContext(docs)
        duplicate_names(docs)
        for doc in docs:
            if doc.valid:
                v.engine.check(doc, ctx)
        mark()
    names = ["Validator() (rules already imported)", "YAML parse + positions", "envelope (classify)", "JSON Schema", "rules"]
    return {n: (b[0] - a[0], b[1] - a[1]) for n, a, b in zip(names, marks, marks[1:])}


def profile(files: dict[str, bytes], top: int = 15) -> str:
    from ecsctl.app.validate import Validator

    names = list(files)
    prof = cProfile.Profile()
    prof.enable()
    Validator().validate(names, read=files.__getitem__)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


BARE_LOOP = """
import pathlib, sys, yaml
loader = yaml.CSafeLoader
n = 0
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.yaml")):
    with open(path, "rb") as fh:
        n += sum(1 for _ in yaml.load_all(fh.read(), Loader=loader))
print(n, "documents")
"""


def _timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall and CPU (user + system) seconds of one child process, and its last line of output."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0,):
        raise SystemExit(f"{' '.join(cmd[:3])}... exited {done.returncode}: {done.stderr[-500:]}")
    return wall, cpu, (done.stdout.strip().splitlines() or [""])[-1]


def vs_parser(folder: Path, repeat: int, n_docs: int, info: dict) -> None:
    ecsctl = str(Path(sys.executable).with_name("ecsctl"))
    runs = {"ecsctl validate DIR": [ecsctl, "validate", str(folder)],
            "bare yaml.load_all(CSafeLoader) loop": [sys.executable, "-c", BARE_LOOP, str(folder)],
            "ECSCTL_JOBS=1 ecsctl validate DIR": ["env", "ECSCTL_JOBS=1", ecsctl, "validate", str(folder)]}
    got: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    last: dict[str, str] = {}
    for _ in range(repeat):  # interleaved, so a busy spell hits both alike
        for name, cmd in runs.items():
            wall, cpu, line = _timed(cmd)
            got[name].append((wall, cpu))
            last[name] = line
    (v_name, bare_name, one_name) = runs
    o_wall, o_cpu = min(w for w, _ in got[one_name]), min(c for _, c in got[one_name])
    v_wall, v_cpu = min(w for w, _ in got[v_name]), min(c for _, c in got[v_name])
    b_wall, b_cpu = min(w for w, _ in got[bare_name]), min(c for _, c in got[bare_name])
    lines = [
        f"**Validation throughput** — {n_docs} generated documents (`throughput.py --dump`), two processes "
        f"over the same folder, interleaved, best of {repeat}. {machine_line(info)}",
        "",
        "| run | wall (best) | CPU user+sys (best) | documents/s (wall) | last line |",
        "|---|---|---|---|---|",
        f"| `ecsctl validate DIR` | {v_wall:.2f} s | {v_cpu:.2f} s | {n_docs / v_wall:,.0f} | {last[v_name]} |",
        f"| bare `yaml.load_all(CSafeLoader)` loop | {b_wall:.2f} s | {b_cpu:.2f} s | {n_docs / b_wall:,.0f} | {last[bare_name]} |",
        f"| `ECSCTL_JOBS=1 ecsctl validate DIR` (one process) | {o_wall:.2f} s | {o_cpu:.2f} s | {n_docs / o_wall:,.0f} | {last[one_name]} |",
        "",
        f"Ratio validate / bare parse: **{v_wall / b_wall:.2f}× wall, {v_cpu / b_cpu:.2f}× CPU** (target ≤ 1.5×); "
        f"in one process {o_wall / b_wall:.2f}× wall, {o_cpu / b_cpu:.2f}× CPU. Load average at the end: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.",
    ]
    print_block("validation-throughput", lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2,000 documents, 2 repetitions")
    ap.add_argument("--docs", type=int, default=None, help="documents to generate (default 10,000)")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs (default 3, quick 2)")
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--dump", type=Path, help="also write the generated files under this directory")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--pin", action="store_true", help="pin the process to one CPU (sched_setaffinity)")
    ap.add_argument("--vs-parser", action="store_true",
                    help="only time `ecsctl validate DIR` against a bare CSafeLoader loop over the dumped files")
    args = ap.parse_args()
    n_docs = args.docs or (2000 if args.quick else 10_000)
    repeat = args.repeat or (2 if args.quick else 3)

    info = machine()
    pinned = pin_one_core() if args.pin else "single-threaded, not pinned"
    print(machine_line(info))
    start = time.perf_counter()
    files, kinds = generate(n_docs, args.seed)
    gen = time.perf_counter() - start
    total_bytes = sum(map(len, files.values()))
    print(f"generated {sum(kinds.values())} documents in {len(files)} files ({total_bytes / 1e6:.1f} MB YAML) "
          f"in {gen:.1f} s, seed {args.seed}; {pinned}")
    if args.dump:
        for name, raw in files.items():
            target = args.dump / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(raw)
        print(f"wrote them under {args.dump}")
    if args.vs_parser:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            folder = args.dump or Path(tmp)
            if not args.dump:
                for name, raw in files.items():
                    (folder / name).parent.mkdir(parents=True, exist_ok=True)
                    (folder / name).write_bytes(raw)
            vs_parser(folder, args.repeat or 3, sum(kinds.values()), info)
        return

    times, gc_times, report, collections = headline(files, repeat)
    best = min(times)
    gc_share = gc_times[times.index(best)]
    nogc_times, _, nogc_report, _ = headline(files, repeat, gc_enabled=False)
    nogc = min(nogc_times)
    stages = split(files)
    stage_total = sum(t for t, _ in stages.values())
    rules = Counter(f.rule for f in report.findings)
    examples = {}
    for f in report.findings:
        examples.setdefault(f.rule, f)

    lines = [
        f"**Throughput** — {report.documents} generated documents in {report.files} files "
        f"({', '.join(f'{k} {n}' for k, n in kinds.most_common())}), one process, {pinned}, "
        f"best of {repeat}. {machine_line(info)}",
        "",
        "| run | documents | best | median | documents/s (best) | target | errors | warnings |",
        "|---|---|---|---|---|---|---|---|",
        f"| `Validator().validate` | {report.documents} | {best:.2f} s | {sorted(times)[len(times) // 2]:.2f} s | "
        f"**{report.documents / best:,.0f}** | ≥ 2,000 ({report.documents / best / 2000:.2f}× target) | "
        f"{report.errors} | {report.warnings} |",
        f"| same, cyclic GC disabled (what-if) | {nogc_report.documents} | {nogc:.2f} s | {sorted(nogc_times)[len(nogc_times) // 2]:.2f} s | "
        f"{nogc_report.documents / nogc:,.0f} | ({nogc_report.documents / nogc / 2000:.2f}× target) | "
        f"{nogc_report.errors} | {nogc_report.warnings} |",
        "",
        f"Cyclic GC: {gc_share:.2f} s of the best {best:.2f} s run ({gc_share / best:.0%}, {collections} collections); "
        f"disabling it during the run is {best / nogc:.2f}× faster.",
        "",
        "| stage (separate staged pass, GC on) | time | share | µs/document | of which cyclic GC |",
        "|---|---|---|---|---|",
    ]
    for stage, (t, g) in stages.items():
        lines.append(f"| {stage} | {t:.2f} s | {t / stage_total:.0%} | {t / max(report.documents, 1) * 1e6:.0f} | {g:.2f} s |")
    if rules:
        lines += ["", f"Findings on generated documents (should be none): "
                      + ", ".join(f"{r}×{n}" for r, n in rules.most_common()), ""]
        for r, f in sorted(examples.items()):
            lines.append(f"- `{r}` e.g. {f.file}:{f.line} `{f.pointer}`: {f.message}")
    print_block("throughput", lines)
    if not args.no_profile:
        print(f"\ncProfile, one validate run over {report.documents} documents, top 15 by cumulative time:\n")
        print(profile(files))


if __name__ == "__main__":
    main()
