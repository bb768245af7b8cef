"""The shape of a task definition as a whole: containers, names, family, size, tags."""

from __future__ import annotations

import json

from ecsctl.core.rules.base import Rule, containers, register
from ecsctl.core.rules.taskdef.facts import is_essential

TD = ("TaskDefinition",)
MAX_CONTAINERS = 10
MAX_SIZE_BYTES = 64 * 1024
MAX_TAGS = 50


@register
class ContainerCount(Rule):
    """A task definition holds 1 to 10 container definitions.

    RegisterTaskDefinition answers ``Container list cannot be empty.`` for an
    empty list and ``Too many containers.`` above 10 (quota "Containers per
    task definition", not adjustable; aws/amazon-ecs-cli#184).

    Bad:   containerDefinitions: []          # or 11 containers
    Good:  containerDefinitions: [{name: web, image: nginx, memory: 256}]
    """

    id = "E2001"
    title = "A task definition has 1 to 10 containers"
    kinds = TD

    def check(self, spec, doc, ctx):
        items = spec.get("containerDefinitions")
        if not isinstance(items, list):
            return
        if not items:
            yield ("containerDefinitions",), "Container list cannot be empty."
        elif len(items) > MAX_CONTAINERS:
            yield ("containerDefinitions",), f"Too many containers. ({len(items)} given, at most {MAX_CONTAINERS})"


@register
class ContainerNameAndImage(Rule):
    """Every container has a ``name`` and an ``image``; every environment variable a ``name``.

    The API marks neither as required, but RegisterTaskDefinition refuses their absence:
    ``Container.name should not be null or empty.``, ``Container.image should not be null or
    empty.``, and ``Environment variable name cannot be null or blank.``

    Bad:   containerDefinitions: [{name: web, memory: 256, environment: [{name: "", value: x}]}]
    Good:  containerDefinitions: [{name: web, image: nginx:1.27, memory: 256, environment: [{name: MODE, value: x}]}]
    """

    id = "E2009"
    title = "Containers have a name and an image; environment variables a name"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c in containers(spec):
            for key in ("name", "image"):
                value = c.get(key)
                if value is None or (isinstance(value, str) and not value.strip()):
                    where = ("containerDefinitions", i, key) if key in c else ("containerDefinitions", i)
                    yield where, f"Container.{key} should not be null or empty."
            env = c.get("environment")
            for j, pair in enumerate(env if isinstance(env, list) else ()):
                name = pair.get("name") if isinstance(pair, dict) else None
                if isinstance(pair, dict) and (name is None or (isinstance(name, str) and not name.strip())):
                    where = ("containerDefinitions", i, "environment", j) + (("name",) if "name" in pair else ())
                    yield where, "Environment variable name cannot be null or blank."


@register
class UniqueContainerNames(Rule):
    """Container names must be unique within a task definition.

    ECS refuses a repeat with ``Container names must be unique within a Task
    Definition.`` (Shippable/support#2946).  Other fields (links, dependsOn,
    volumesFrom, load balancers) refer to containers by name.

    Bad:   [{name: web, ...}, {name: web, ...}]
    Good:  [{name: web, ...}, {name: sidecar, ...}]
    """

    id = "E2002"
    title = "Container names are unique"
    kinds = TD

    def check(self, spec, doc, ctx):
        seen: set[str] = set()
        for i, c in containers(spec):
            name = c.get("name")
            if not isinstance(name, str):
                continue
            if name in seen:
                yield ("containerDefinitions", i, "name"), f"container '{name}': Container names must be unique within a Task Definition."
            seen.add(name)


@register
class EssentialContainer(Rule):
    """At least one container must be essential (``essential`` defaults to true).

    When an essential container stops, ECS stops the whole task; a task with no
    essential container is refused at registration (cfn-lint E3042 checks the
    same, counting a missing ``essential`` as true).

    Bad:   [{name: web, essential: false, ...}]
    Good:  [{name: web, ...}]            # essential by default
    """

    id = "E2003"
    title = "At least one container is essential"
    kinds = TD

    def check(self, spec, doc, ctx):
        found = False
        for _, c in containers(spec):
            found = True
            if is_essential(c):
                return
        if found:
            yield ("containerDefinitions",), "no container is essential: at least one container must have 'essential' true (the default)"


@register
class FamilyMatchesName(Rule):
    """In an ecsctl manifest, ``spec.family`` equals ``metadata.name``.

    The family is the task definition's identity in ECS and the manifest's name
    is its identity in ecsctl; they are one thing.  ``family`` may be omitted
    and then defaults to ``metadata.name``.  (Bare RegisterTaskDefinition and
    describe documents have no metadata and are not checked.)

    Bad:   metadata: {name: web}   spec: {family: web-prod, ...}
    Good:  metadata: {name: web}   spec: {family: web, ...}   # or no family
    """

    id = "E2004"
    title = "family equals metadata.name"
    kinds = TD

    def check(self, spec, doc, ctx):
        if doc.form != "manifest" or "family" not in spec:
            return
        family = spec.get("family")
        if family != doc.name:
            yield ("family",), f"family {family!r} must equal metadata.name {doc.name!r} (or be omitted)"


@register
class TaskDefinitionSize(Rule):
    """A task definition may be at most 64 KiB when serialised.

    Service quota "Task definition size" (2023 guide ``service-quotas.md``).
    Large inline environments are the usual cause; move them to
    ``environmentFiles`` or secrets.

    Bad:   environment: [ ...thousands of variables... ]
    Good:  environmentFiles: [{type: s3, value: arn:aws:s3:::bucket/app.env}]
    """

    id = "E2005"
    title = "Task definition is at most 64 KiB"
    kinds = TD

    def check(self, spec, doc, ctx):
        try:
            size = len(json.dumps(spec, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))
        except (TypeError, ValueError):
            return
        if size > MAX_SIZE_BYTES:
            yield (), f"task definition is {size} bytes serialised; the limit is {MAX_SIZE_BYTES} (64 KiB)"


def _tags(spec):
    tags = spec.get("tags")
    if isinstance(tags, list):
        for j, t in enumerate(tags):
            if isinstance(t, dict):
                yield j, t


@register
class TagCount(Rule):
    """At most 50 user tags; tags whose key starts with ``aws:`` do not count.

    Bad:   tags: [51 tags]
    Good:  tags: [{key: team, value: payments}]
    """

    id = "E2006"
    title = "At most 50 tags"
    kinds = TD

    def check(self, spec, doc, ctx):
        count = sum(1 for _, t in _tags(spec) if not str(t.get("key", "")).lower().startswith("aws:"))
        if count > MAX_TAGS:
            yield ("tags",), f"{count} tags given; a resource can have at most {MAX_TAGS}"


@register
class UniqueTagKeys(Rule):
    """Each tag key may appear once.

    Bad:   tags: [{key: team, value: a}, {key: team, value: b}]
    Good:  tags: [{key: team, value: a}, {key: owner, value: b}]
    """

    id = "E2007"
    title = "Tag keys are unique"
    kinds = TD

    def check(self, spec, doc, ctx):
        seen: set = set()
        for j, t in _tags(spec):
            key = t.get("key")
            if not isinstance(key, str):
                continue
            if key in seen:
                yield ("tags", j, "key"), f"tag key {key!r} is given more than once"
            seen.add(key)


@register
class ReservedTagPrefix(Rule):
    """Tag keys starting with ``aws:`` (any case) are reserved for AWS.

    Users cannot add, edit or delete them.

    Bad:   tags: [{key: "aws:team", value: a}]
    Good:  tags: [{key: team, value: a}]
    """

    id = "E2008"
    title = "The aws: tag prefix is reserved"
    kinds = (*TD, "Service", "Cluster", "CapacityProvider")  # every ECS resource's tags (TagResource)

    def check(self, spec, doc, ctx):
        for j, t in _tags(spec):
            key = t.get("key")
            if isinstance(key, str) and key.lower().startswith("aws:"):
                yield ("tags", j, "key"), f"tag key {key!r} uses the reserved prefix 'aws:'"
