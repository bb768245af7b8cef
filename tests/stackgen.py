"""Generated, valid stacks of manifests for property tests, the crash test and benchmarks.

``stack(...)`` returns documents (dicts); ``write_stack(dir, docs)`` writes them
as a few YAML files.  Everything is derived from the arguments and a seed, so a
stack is reproducible.
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml

ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
INSTANCE_TYPES = ("m5.large", "m5.xlarge", "c5.xlarge", "r5.large")
FARGATE_SIZES = (("256", "512"), ("512", "1024"), ("1024", "2048"))


def doc(kind: str, name: str, spec: dict) -> dict:
    return {"apiVersion": "ecsctl/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def create(backend, *items: tuple[str, str, dict]) -> None:
    """Apply a create step for each ``(kind, name, spec)`` on a local backend, as a plan would."""
    from ecsctl.core.plan.model import Step, address

    for kind, name, spec in items:
        backend.apply_step(Step(id=name, action="create", address=address(kind, name, spec), kind=kind, name=name,
                                spec=spec, before=None))


def ec2_taskdef(name: str, rng: random.Random, containers: int = 1) -> dict:
    defs = []
    for i in range(containers):
        env = [{"name": f"VAR_{j}", "value": str(rng.randint(0, 99))} for j in range(rng.randint(0, 3))]
        c = {"name": f"c{i}", "image": f"nginx:1.{rng.randint(20, 27)}", "essential": i == 0,
             "cpu": rng.choice((0, 128, 256)), "memory": rng.choice((128, 256, 512)),
             "portMappings": [{"containerPort": 8000 + i, "hostPort": 0}]}
        if env:
            c["environment"] = env
        defs.append(c)
    return doc("TaskDefinition", name, {"requiresCompatibilities": ["EC2"], "networkMode": "bridge", "containerDefinitions": defs})


def fargate_taskdef(name: str, rng: random.Random) -> dict:
    cpu, memory = rng.choice(FARGATE_SIZES)
    return doc("TaskDefinition", name, {
        "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": cpu, "memory": memory,
        "containerDefinitions": [{"name": "app", "image": "nginx:1.27", "portMappings": [{"containerPort": 80}]}],
    })


def stack(*, seed: int = 0, groups: int = 3, per_group: int = 2, services: int = 4, max_desired: int = 4,
          fargate_share: float = 0.3, cluster: str = "prod") -> list[dict]:
    rng = random.Random(seed)
    docs = [doc("Cluster", cluster, {"containerInstances": [
        {"name": f"g{g}", "count": per_group, "instanceType": rng.choice(INSTANCE_TYPES),
         "availabilityZone": ZONES[g % len(ZONES)], "attributes": {"tier": "general"}}
        for g in range(groups)
    ]})]
    for s in range(services):
        name = f"svc{s:04d}"
        fargate = rng.random() < fargate_share
        docs.append(fargate_taskdef(name, rng) if fargate else ec2_taskdef(name, rng, rng.randint(1, 2)))
        spec = {"cluster": cluster, "taskDefinition": name, "desiredCount": rng.randint(0, max_desired),
                "launchType": "FARGATE" if fargate else "EC2"}
        if fargate:
            spec["networkConfiguration"] = {"awsvpcConfiguration": {"subnets": ["subnet-a", "subnet-b", "subnet-c"], "securityGroups": ["sg-1"]}}
        docs.append(doc("Service", name, spec))
    return docs


def write_stack(directory: Path, docs: list[dict], files: int = 3) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.yaml"):
        old.unlink()
    chunks: list[list[dict]] = [[] for _ in range(max(1, files))]
    for i, d in enumerate(docs):
        chunks[i % len(chunks)].append(d)
    for i, chunk in enumerate(chunks):
        if chunk:
            (directory / f"part{i}.yaml").write_text(yaml.safe_dump_all(chunk, sort_keys=False), encoding="utf-8")
    return directory
