"""What a rule can see beyond its own document: the other validated documents."""

from __future__ import annotations

from ecsctl.core.manifest.document import Document


class RuleContext:
    """All documents of one validation run, indexed by kind and name.

    Cross-document rules (a service's task definition, cluster and target
    groups) look their targets up here.  ``checked`` says whether a document
    passed its envelope and schema checks; only then is its spec safe to read
    deeply.
    """

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents
        self._by_kind: dict[str, dict[str, Document]] = {}
        for doc in documents:
            if doc.kind and doc.name:
                self._by_kind.setdefault(doc.kind, {}).setdefault(doc.name, doc)
        self._catalogue: tuple[dict[str, dict], set[str]] | None = None

    def catalogue(self) -> tuple[dict[str, dict], set[str]]:
        """The run's Parameter, Secret, EnvironmentFile and Repository specs by address, as
        ``core.deploy.failures`` reads a catalogue, and the kinds it holds (made once per run)."""
        if self._catalogue is None:
            from ecsctl.core.deploy.failures import catalogue_kinds
            from ecsctl.core.plan.model import address

            specs = {address(kind, d.name, d.spec): d.spec if isinstance(d.spec, dict) else {}
                     for kind in ("Parameter", "Secret", "EnvironmentFile", "Repository")
                     for d in self._by_kind.get(kind, {}).values()}
            self._catalogue = specs, catalogue_kinds(specs)
        return self._catalogue

    def get(self, kind: str, name: str) -> Document | None:
        return self._by_kind.get(kind, {}).get(name)

    def all(self, kind: str) -> list[Document]:
        return list(self._by_kind.get(kind, {}).values())

    def has_kind(self, kind: str) -> bool:
        return bool(self._by_kind.get(kind))

    def suggest(self, kind: str, name: str, also=()) -> str:
        """`` (did you mean 'prod'?)`` for a reference that names no document of ``kind``."""
        from ecsctl.core.manifest.envelope import did_you_mean

        return did_you_mean(name, [*self._by_kind.get(kind, {}), *also])

    def task_definition(self, reference: str) -> Document | None:
        """Resolve ``family``, ``family:revision`` or a task-definition ARN to a document."""
        family = reference.rsplit("/", 1)[-1] if reference.startswith("arn:") else reference
        family = family.split(":", 1)[0]
        return self.get("TaskDefinition", family)
