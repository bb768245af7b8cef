"""Network modes, port mappings and container links."""

from __future__ import annotations

import re

from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, containers, register
from ecsctl.core.rules.taskdef.facts import RESERVED_HOST_PORTS, dicts, find_cycle, integer, items, label, names, network_mode

TD = ("TaskDefinition",)
RANGE_RE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
MAX_PORT_RANGES = 100
RANGE_MODES = ("bridge", "awsvpc")
NO_AWSVPC_FIELDS = ("disableNetworking", "dnsServers", "dnsSearchDomains", "extraHosts")


def _mappings(spec):
    """(container index, container, mapping index, mapping) for every port mapping."""
    for i, c in containers(spec):
        for j, m in dicts(c, "portMappings"):
            yield i, c, j, m


def _protocol(mapping) -> str:
    p = mapping.get("protocol")
    return p.lower() if isinstance(p, str) else "tcp"


def _range(mapping) -> tuple[int, int] | None:
    """(first, last) of a well-formed ``containerPortRange``, else None."""
    text = mapping.get("containerPortRange")
    m = RANGE_RE.match(text) if isinstance(text, str) else None
    return (int(m.group(1)), int(m.group(2))) if m else None


@register
class HostPortMatchesContainerPort(Rule):
    """With ``awsvpc`` or ``host`` networking, ``hostPort`` is omitted or equals ``containerPort``.

    The container listens on the task's (or host's) own interface, so there is
    no port translation.  ECS: ``When networkMode=awsvpc, the host ports and
    container ports in port mappings must match.`` (codesuki/ecs-gen#23;
    cfn-lint E3053).

    Bad:   networkMode: awsvpc   portMappings: [{containerPort: 8080, hostPort: 80}]
    Good:  networkMode: awsvpc   portMappings: [{containerPort: 8080}]
    """

    id = "E2040"
    title = "hostPort equals containerPort under awsvpc and host"
    kinds = TD

    def check(self, spec, doc, ctx):
        mode = network_mode(spec)
        if mode not in ("awsvpc", "host"):
            return
        for i, c, j, m in _mappings(spec):
            host, container = integer(m.get("hostPort")), integer(m.get("containerPort"))
            if host is not None and container is not None and host != container:
                yield ("containerDefinitions", i, "portMappings", j, "hostPort"), (
                    f"{label(i, c)}: When networkMode={mode}, the host ports and container ports in port mappings must match."
                    f" (hostPort {host}, containerPort {container})"
                )


@register
class NoPortsWithNetworkNone(Rule):
    """With ``networkMode: none`` a container has no external connectivity: no port mappings.

    Source: 2023 guide ``task_definition_parameters.md`` (Network mode).

    Bad:   networkMode: none   portMappings: [{containerPort: 80}]
    Good:  networkMode: bridge portMappings: [{containerPort: 80}]
    """

    id = "E2041"
    title = "No port mappings with networkMode none"
    kinds = TD

    def check(self, spec, doc, ctx):
        if network_mode(spec) != "none":
            return
        for i, c in containers(spec):
            if items(c, "portMappings"):
                yield ("containerDefinitions", i, "portMappings"), f"{label(i, c)}: port mappings are not supported when networkMode=none"


@register
class ReservedHostPort(Rule):
    """Static host ports 22, 2375, 2376 and 51678-51680 are reserved on container instances.

    The ECS agent reserves them by default (SSH, the Docker daemon, the agent
    itself), so a task asking for one of them can never be placed on an EC2
    instance.  Applies to ``bridge``/``host``/``default`` networking; awsvpc
    tasks have their own interface.

    Bad:   portMappings: [{containerPort: 22, hostPort: 22}]
    Good:  portMappings: [{containerPort: 22, hostPort: 2222}]
    """

    id = "W2042"
    title = "Static host port is reserved by the ECS agent"
    kinds = TD
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        mode = network_mode(spec)
        if mode in ("awsvpc", "none"):
            return
        for i, c, j, m in _mappings(spec):
            port = integer(m.get("hostPort"))
            if port is None and mode == "host":
                port = integer(m.get("containerPort"))
            if port in RESERVED_HOST_PORTS:
                yield ("containerDefinitions", i, "portMappings", j), (
                    f"{label(i, c)}: host port {port} is reserved on container instances (22, 2375, 2376, 51678-51680)"
                )


@register
class OneProtocolPerContainerPort(Rule):
    """A container port may be mapped for one protocol only.

    The API ``PortMapping`` reference: exposing the same container port for
    multiple protocols results in an error.

    Bad:   portMappings: [{containerPort: 53, protocol: tcp}, {containerPort: 53, protocol: udp}]
    Good:  portMappings: [{containerPort: 53, protocol: udp}]
    """

    id = "E2043"
    title = "A container port has one protocol"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c in containers(spec):
            seen: dict[int, str] = {}
            for j, m in dicts(c, "portMappings"):
                port = integer(m.get("containerPort"))
                if port is None:
                    continue
                protocol = _protocol(m)
                first = seen.setdefault(port, protocol)
                if first != protocol:
                    yield ("containerDefinitions", i, "portMappings", j, "protocol"), (
                        f"{label(i, c)}: container port {port} is exposed for both {first} and {protocol}"
                    )


@register
class DuplicateHostPort(Rule):
    """A host port (per protocol) can be mapped once per task.

    Under ``awsvpc`` and ``host`` networking all containers share one network
    namespace; in ``bridge`` mode two static mappings of one host port clash on
    the instance.  Docker would fail to bind the second one.

    Bad:   [{name: a, portMappings: [{containerPort: 80}]}, {name: b, portMappings: [{containerPort: 80}]}]   # awsvpc
    Good:  [{name: a, portMappings: [{containerPort: 80}]}, {name: b, portMappings: [{containerPort: 8080}]}]
    """

    id = "E2044"
    title = "Host ports are not mapped twice"
    kinds = TD

    def check(self, spec, doc, ctx):
        mode = network_mode(spec)
        if mode == "none":
            return
        seen: dict[tuple[int, str], int] = {}
        for i, c, j, m in _mappings(spec):
            port = integer(m.get("hostPort"))
            if mode in ("awsvpc", "host") and port is None:
                port = integer(m.get("containerPort"))
            if not port:  # 0 or omitted in bridge mode: dynamic
                continue
            key = (port, _protocol(m))
            if key in seen:
                first = seen[key]
                where = "another of its port mappings" if first == i else label(first, spec["containerDefinitions"][first])
                yield ("containerDefinitions", i, "portMappings", j), f"{label(i, c)}: host port {port}/{key[1]} is already mapped by {where}"
            else:
                seen[key] = i


@register
class ContainerPortRange(Rule):
    """``containerPortRange`` is ``"first-last"`` with 1 <= first < last <= 65535.

    Ranges are allowed only with ``bridge`` and ``awsvpc`` networking, at most
    100 per container, and may not overlap each other or a single mapped port
    (API ``PortMapping``).

    Bad:   portMappings: [{containerPortRange: "9000-8000"}]
    Good:  portMappings: [{containerPortRange: "8000-9000"}]
    """

    id = "E2045"
    title = "containerPortRange is well formed"
    kinds = TD

    def check(self, spec, doc, ctx):
        mode = network_mode(spec)
        for i, c in containers(spec):
            who = label(i, c)
            spans: list[tuple[int, int, int]] = []  # (first, last, mapping index)
            ranges = 0
            for j, m in dicts(c, "portMappings"):
                text = m.get("containerPortRange")
                if text is None:
                    port = integer(m.get("containerPort"))
                    if port is not None:
                        spans.append((port, port, j))
                    continue
                where = ("containerDefinitions", i, "portMappings", j, "containerPortRange")
                ranges += 1
                if mode not in RANGE_MODES:
                    yield where, f"{who}: containerPortRange is only supported with networkMode bridge or awsvpc, not {mode}"
                bounds = _range(m)
                if bounds is None:
                    yield where, f"{who}: containerPortRange {text!r} must look like 'first-last', e.g. '8000-8100'"
                    continue
                first, last = bounds
                if not 1 <= first < last <= 65535:
                    yield where, f"{who}: containerPortRange {text!r} needs 1 <= first < last <= 65535"
                    continue
                spans.append((first, last, j))
            if ranges > MAX_PORT_RANGES:
                yield ("containerDefinitions", i, "portMappings"), f"{who}: {ranges} port ranges given; at most {MAX_PORT_RANGES} are allowed"
            if ranges:
                spans.sort()
                for (a0, a1, _), (b0, b1, j) in zip(spans, spans[1:]):
                    if b0 <= a1:
                        yield ("containerDefinitions", i, "portMappings", j), f"{who}: port mappings overlap ({a0}-{a1} and {b0}-{b1})"


@register
class AppProtocolNeedsName(Rule):
    """``appProtocol`` is a Service Connect setting and needs the port mapping's ``name``.

    Source: API ``PortMapping`` (``appProtocol`` applies only to Service
    Connect, which refers to ports by name).

    Bad:   portMappings: [{containerPort: 80, appProtocol: http}]
    Good:  portMappings: [{containerPort: 80, name: web, appProtocol: http}]
    """

    id = "E2046"
    title = "appProtocol needs a port name"
    kinds = TD

    def check(self, spec, doc, ctx):
        for i, c, j, m in _mappings(spec):
            if m.get("appProtocol") is not None and not m.get("name"):
                yield ("containerDefinitions", i, "portMappings", j, "appProtocol"), (
                    f"{label(i, c)}: appProtocol is only used by Service Connect and needs the port mapping's 'name'"
                )


@register
class HostnameWithAwsvpc(Rule):
    """``hostname`` cannot be set with ``awsvpc`` networking.

    ECS: ``hostname is not supported on container when networkMode=awsvpc.``
    (labd/ecs-deplojo#26)

    Bad:   networkMode: awsvpc   containerDefinitions: [{name: web, hostname: web}]
    Good:  networkMode: awsvpc   containerDefinitions: [{name: web}]
    """

    id = "E2047"
    title = "No hostname with awsvpc"
    kinds = TD

    def check(self, spec, doc, ctx):
        if network_mode(spec) != "awsvpc":
            return
        for i, c in containers(spec):
            if c.get("hostname") is not None:
                yield ("containerDefinitions", i, "hostname"), f"{label(i, c)}: hostname is not supported on container when networkMode=awsvpc."


@register
class LinksNeedBridge(Rule):
    """``links`` work only with ``bridge`` networking (the Linux default).

    Source: 2023 guide ``task_definition_parameters.md`` (links).  Under
    awsvpc, containers reach each other on ``localhost``.

    Bad:   networkMode: awsvpc   links: [db]
    Good:  networkMode: bridge   links: [db]
    """

    id = "E2048"
    title = "links only with bridge networking"
    kinds = TD

    def check(self, spec, doc, ctx):
        mode = network_mode(spec)
        if mode == "bridge":
            return
        for i, c in containers(spec):
            if items(c, "links"):
                yield ("containerDefinitions", i, "links"), f"{label(i, c)}: links are only supported when networkMode=bridge, not {mode}"


def _link_target(link) -> str | None:
    return link.split(":", 1)[0] if isinstance(link, str) else None


@register
class LinkTargetExists(Rule):
    """Each entry of ``links`` (``name`` or ``name:alias``) names another container of the task.

    Bad:   [{name: web, links: [database]}]           # no container 'database'
    Good:  [{name: web, links: ["db:database"]}, {name: db, ...}]
    """

    id = "E2049"
    title = "links name containers of the task"
    kinds = TD

    def check(self, spec, doc, ctx):
        known = None
        for i, c in containers(spec):
            for j, link in enumerate(items(c, "links")):
                if known is None:
                    known = names(spec)
                target = _link_target(link)
                if target is not None and target not in known:
                    yield ("containerDefinitions", i, "links", j), f"{label(i, c)}: link target '{target}' is not a container in this task definition"
                elif target is not None and target == c.get("name"):
                    yield ("containerDefinitions", i, "links", j), f"{label(i, c)}: a container cannot link to itself"


@register
class LinkCycle(Rule):
    """Container links may not form a cycle.

    ECS: ``Container links should not have a cycle`` (Shippable/support#4194).
    Docker starts linked containers first, so a cycle cannot start.

    Bad:   [{name: a, links: [b]}, {name: b, links: [a]}]
    Good:  [{name: a, links: [b]}, {name: b}]
    """

    id = "E2050"
    title = "links have no cycle"
    kinds = TD

    def check(self, spec, doc, ctx):
        graph: dict[str, list[str]] = {}
        index: dict[str, int] = {}
        for i, c in containers(spec):
            name = c.get("name")
            links = items(c, "links")
            if isinstance(name, str):
                graph.setdefault(name, [])
                index.setdefault(name, i)
                graph[name].extend(t for t in map(_link_target, links) if t is not None and t != name)
        if not any(graph.values()):
            return
        cycle = find_cycle(graph)
        if cycle:
            yield ("containerDefinitions", index[cycle[0]], "links"), f"Container links should not have a cycle ({' -> '.join(cycle)})"


@register
class NetworkingFieldsWithAwsvpc(Rule):
    """``disableNetworking``, ``dnsServers``, ``dnsSearchDomains`` and ``extraHosts`` are not for awsvpc.

    With awsvpc the task's ENI and the VPC's DHCP options decide DNS and hosts.
    Source: 2023 guide ``task_definition_parameters.md`` (Network settings).

    Bad:   networkMode: awsvpc   dnsServers: [10.0.0.2]
    Good:  networkMode: bridge   dnsServers: [10.0.0.2]
    """

    id = "E2051"
    title = "No DNS, hosts or disableNetworking with awsvpc"
    kinds = TD

    def check(self, spec, doc, ctx):
        if network_mode(spec) != "awsvpc":
            return
        for i, c in containers(spec):
            for key in NO_AWSVPC_FIELDS:
                value = c.get(key)
                if value is not None and value is not False and value != []:
                    yield ("containerDefinitions", i, key), f"{label(i, c)}: {key} is not supported when networkMode=awsvpc"
