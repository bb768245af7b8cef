"""The manifests being rendered, indexed for the references a translation follows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from ecsctl.core.extensions import strip_extensions
from ecsctl.core.plan.references import envfile_alias, references, taskdef_family, value_from
from ecsctl.core.rules.service.refs import cluster_name, target_group_name


@dataclass(frozen=True)
class Source:
    """One validated manifest: its kind, name, spec and labels."""

    kind: str
    name: str
    spec: dict
    labels: dict = field(default_factory=dict)


class Stack:
    """Every document of a render run, by kind and name."""

    def __init__(self, sources: Iterable[Source]) -> None:
        # ecsctl's own x-ecsctl fields tell the simulation what AWS has no field for: not rendered
        self.sources = [Source(s.kind, s.name, strip_extensions(s.spec), s.labels) for s in sources]
        self._by_kind: dict[str, dict[str, Source]] = {}
        for s in self.sources:
            self._by_kind.setdefault(s.kind, {}).setdefault(s.name, s)
        self._envfiles = {envfile_alias(s.spec): s for s in self.of("EnvironmentFile")}

    def of(self, kind: str) -> list[Source]:
        """Every document of ``kind``, in order (services of two clusters may share a name)."""
        return [s for s in self.sources if s.kind == kind]

    def get(self, kind: str, name: str) -> Source | None:
        return self._by_kind.get(kind, {}).get(name)

    def task_definition(self, ref: str) -> Source | None:
        """``family``, ``family:revision`` or an ARN (the manifests hold one revision: the family's)."""
        return self.get("TaskDefinition", taskdef_family(ref)) if isinstance(ref, str) and ref else None

    def target_group(self, ref: str) -> Source | None:
        return self.get("TargetGroup", target_group_name(ref)) if isinstance(ref, str) and ref else None

    def cluster_of(self, spec: dict) -> Source | None:
        return self.get("Cluster", cluster_name(spec))

    def environment_file(self, value: str) -> Source | None:
        """The EnvironmentFile document for an ``environmentFiles[].value`` (an S3 object ARN)."""
        for address in references("TaskDefinition", {"containerDefinitions": [{"environmentFiles": [{"value": value}]}]}):
            if address in self._envfiles:
                return self._envfiles[address]
        return None

    def secret_source(self, value: str) -> tuple[str, str] | None:
        """``(kind, name)`` of the Parameter or Secret document a ``valueFrom`` names, if it is here."""
        for address in sorted(value_from(value)):
            prefix, _, name = address.partition("/")
            kind = {"parameter": "Parameter", "secret": "Secret"}.get(prefix)
            if kind and self.get(kind, name) is not None:
                return kind, name
        return None
