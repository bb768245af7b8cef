"""Use case: render validated manifests as Kubernetes objects (``ecsctl render --to kubernetes``).

The manifests are validated first and refused on any error, as ``plan`` refuses them
(``app.plan.ManifestErrors``).  What Kubernetes cannot express (a ``cron()`` with ``L``,
an ``at()``) refuses the whole run, one :class:`Refusal` line per object, and nothing is
written.  With ``out`` the files are written there, one per service or scheduled task.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ecsctl.app.plan import ManifestErrors
from ecsctl.app.validate import Validator, discover
from ecsctl.core.manifest.document import Document
from ecsctl.core.render.kubernetes import RenderedFile, Source, Stack, render_kubernetes
from ecsctl.errors import InputError, UsageError


@dataclass(frozen=True)
class Refusal:
    """One object Kubernetes cannot express, with where it is."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class RenderRefused(InputError):
    """Some objects cannot be rendered; ``refusals`` says which, one line each."""

    def __init__(self, refusals: list[Refusal]) -> None:
        super().__init__(f"{len(refusals)} object(s) cannot be rendered to Kubernetes; nothing was written")
        self.refusals = refusals


def load_documents(paths: list[str]) -> list[Document]:
    """The validated documents of ``paths``; :class:`ManifestErrors` if any has an error."""
    validator = Validator()
    loaded = validator.load(discover(paths))
    report = validator.check(loaded)
    if report.errors:
        raise ManifestErrors(report)
    if not any(d.kind for d in loaded.documents):
        raise UsageError(f"no manifests found in {', '.join(paths)}")
    return loaded.documents


def _labels(doc: Document) -> dict:
    meta = doc.data.get("metadata") if isinstance(doc.data, dict) else None
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return dict(labels) if isinstance(labels, dict) else {}


def render_files(paths: list[str]) -> list[RenderedFile]:
    """Render every service and scheduled task; :class:`RenderRefused` if one cannot be."""
    documents = [d for d in load_documents(paths) if d.kind and d.name and isinstance(d.spec, dict)]
    by_source = {(d.kind, d.name, id(d.spec)): d for d in documents}
    sources = [Source(d.kind, d.name, d.spec, _labels(d)) for d in documents]
    rendering = render_kubernetes(Stack(sources))
    if rendering.problems:
        refusals = []
        for p in rendering.problems:
            doc = next(d for (kind, name, _), d in by_source.items() if kind == p.kind and name == p.name)
            pos = doc.position(doc.spec_path + tuple(p.path))
            refusals.append(Refusal(doc.file, pos.line, pos.column, f"{p.kind} '{p.name}': {p.message}"))
        raise RenderRefused(refusals)
    return rendering.files


def write_files(files: list[RenderedFile], out: str) -> list[str]:
    """Write each file under ``out`` (created if missing); return the paths written."""
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise UsageError(f"--out {out}: not a directory")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for f in files:
        path = target / f.path
        path.write_text(f.text, encoding="utf-8")
        written.append(str(path))
    return written
