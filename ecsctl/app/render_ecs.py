"""``ecsctl render --to ecs``: the manifests as the ECS API requests that create them.

``render(inputs)`` answers, in plan order (clusters, then task definitions, then services),
one request per resource, exactly the JSON that the AWS CLI accepts with ``--cli-input-json``:

    Cluster         aws ecs create-cluster --cli-input-json file://cluster-prod.json
    TaskDefinition  aws ecs register-task-definition --cli-input-json file://taskdef-web.json
    Service         aws ecs create-service --cli-input-json file://service-prod-web.json

The requests come from the canonical specs (units normalised, defaults written out), through the
same mapping the AWS backend uses (``core.aws.shapes``), so what ``render`` prints is what
``apply --backend aws`` sends. Service ``autoScaling`` (Application Auto Scaling) and a
cluster's simulated ``containerInstances`` are not part of these requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecsctl.app.plan import Inputs
from ecsctl.core.aws import shapes
from ecsctl.core.plan.model import KIND_ORDER

OPERATIONS = {"Cluster": "create-cluster", "TaskDefinition": "register-task-definition", "Service": "create-service"}
_ORDER = {kind: i for i, kind in enumerate(KIND_ORDER)}


@dataclass(frozen=True, slots=True)
class Rendered:
    address: str
    operation: str  # the AWS CLI command: ``aws ecs <operation> --cli-input-json``
    request: dict

    @property
    def filename(self) -> str:
        return self.address.replace("/", "-").strip("-") + ".json"


def rendered(inputs: Inputs) -> list[Rendered]:
    out = []
    for d in sorted(inputs.desired, key=lambda d: (_ORDER.get(d.kind, 99), d.address)):
        if d.kind == "TaskDefinition":
            request = shapes.request_register_task_definition(d.spec)
        elif d.kind == "Service":
            request = shapes.request_create_service(d.name, d.spec)
        elif d.kind == "Cluster":
            request = shapes.request_create_cluster(d.name, d.spec)
        else:
            continue
        out.append(Rendered(d.address, OPERATIONS[d.kind], request))
    return out


def plain_text_secrets(inputs: Inputs, items: list[Rendered]) -> list[str]:
    """One line per rendered request that would hold a sensitive-looking value in plain text
    (what W7001 warns of: ``core.rules.hygiene.secrets.warned``): ``FILE:LINE:COL: what holds it``.
    Such a request is not printed unless asked (``render --show-sensitive``): it would put the
    secret into a file, a terminal log or a CI artefact."""
    from ecsctl.core.rules.hygiene.secrets import plain_text_message, warned

    out = []
    for item in items:
        hits = warned(item.request)
        if not hits:
            continue
        doc = inputs.documents.get(item.address)
        written = warned(doc.spec) if doc is not None and isinstance(doc.spec, dict) else []
        hit = written[0] if written else hits[0]
        where = doc.where(hit.path) if doc is not None and written else item.address
        more = f" (and {len(hits) - 1} more in this request)" if len(hits) > 1 else ""
        out.append(f"{where}: {plain_text_message(hit)}{more}")
    return out


def render(inputs: Inputs) -> list[dict]:
    """The request JSON of every cluster, task definition and service, in plan order."""
    return [r.request for r in rendered(inputs)]
