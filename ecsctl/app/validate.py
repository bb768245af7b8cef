"""Use case: validate manifest files and directories."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

from ecsctl.app.schemas import load_schema
from ecsctl.core.findings import Finding, Severity, ValidationReport
from ecsctl.core.manifest.document import Document
from ecsctl.core.manifest.envelope import classify
from ecsctl.core.manifest.loader import MAX_FILE_BYTES, load_bytes, reattach
from ecsctl.core.manifest.schema_check import SCHEMA_RULES, SchemaChecker
from ecsctl.core.rules import all_rules
from ecsctl.core.rules.context import RuleContext
from ecsctl.core.rules.engine import RuleEngine, duplicate_names
from ecsctl.errors import UsageError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


IGNORE_FILE = ".ecsctlignore"


def discover(paths: list[str], exclude: tuple[str, ...] | list[str] = (), notes: list[str] | None = None, *,
             skip_named: bool = False, excluded: list[tuple[str, str]] | None = None,
             recursive: bool = True) -> list[str]:
    """Files named directly, and manifest files found recursively under directories (only in
    the directory itself when not ``recursive``), in a stable order.

    Under a directory, hidden entries are not searched; files are left out that match an
    ``exclude`` glob or a line of an ``.ecsctlignore`` (globs match a path relative to the
    directory searched or to the current directory, one of its folders, or its file name: see
    ``_match``); and YAML/JSON that is neither an ecsctl manifest nor a task definition (a
    GitHub workflow, ``.pre-commit-config.yaml``, a docker-compose file: ``core.manifest.sniff``)
    is skipped with a note appended to ``notes``.  A file named directly is checked unless an
    exclude glob matches it (noted too) or ``skip_named`` (the pre-commit hook, which names
    every staged file) lets it be skipped like a found one.  ``excluded`` receives ``(file,
    pattern)`` for every manifest file a glob left out (a folder left out: its files).
    """
    from ecsctl.core.manifest.sniff import foreign

    notes = notes if notes is not None else []
    here = [*exclude, *_ignore_lines(Path(IGNORE_FILE))]
    files: list[str] = []

    def skipped(name: str, why: str) -> None:
        notes.append(f"{name}: skipped, {why}")

    def unknown(name: str) -> str | None:
        what = foreign(_head(name))
        return f"not an ecsctl manifest or an ECS task definition ({what})" if what else None

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            # patterns match paths relative to the folder searched, and (``here``) to the current one
            scoped = [*_ignore_lines(path / IGNORE_FILE), *exclude]
            visited = {os.path.realpath(path)}  # a linked folder is searched once: no loop
            for root, dirs, names in os.walk(path, followlinks=True):
                rel_root = os.path.relpath(root, path)
                keep = []
                for d in sorted(dirs):
                    rel = _rel(os.path.join(rel_root, d))
                    if d.startswith("."):
                        continue
                    pattern = _match(rel, scoped) or (here and _match(_rel(os.path.join(root, d)), here))
                    if pattern:
                        if excluded is not None:
                            excluded.extend((f, pattern) for f in discover([os.path.join(root, d)], notes=[]))
                        continue
                    real = os.path.realpath(os.path.join(root, d))
                    if real not in visited:
                        visited.add(real)
                        keep.append(d)
                dirs[:] = keep if recursive else []
                for n in sorted(names):
                    if not n.lower().endswith(MANIFEST_SUFFIXES):
                        continue
                    name = os.path.join(root, n)
                    pattern = (scoped and _match(_rel(os.path.join(rel_root, n)), scoped)) or (here and _match(_rel(name), here))
                    if pattern:
                        if excluded is not None and not unknown(name):
                            excluded.append((name, pattern))
                        continue
                    why = unknown(name)
                    if why:
                        skipped(name, why)
                    else:
                        files.append(name)
        elif raw == "-":
            files.append(raw)
        elif path.exists():
            pattern = _match(_rel(raw), here)
            if pattern:
                skipped(raw, f"excluded by {pattern!r}")
                if excluded is not None:
                    excluded.append((raw, pattern))
            elif skip_named and (why := unknown(raw)):
                skipped(raw, why)
            else:
                files.append(raw)
        else:
            raise UsageError(f"{raw}: no such file or directory")
    return _once(files)


def _once(files: list[str]) -> list[str]:
    """``files`` without a second name for one file (``m`` and ``./m``, or ``m`` and ``m/web.yaml``
    given together: each document is read once, not reported as defined twice)."""
    seen: set[str] = set()
    out = []
    for name in files:
        key = name if name == "-" else os.path.realpath(name)
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out


def is_manifest_file(name: str) -> bool:
    """Whether a file's text may be an ecsctl manifest or a task definition (``core.manifest.sniff``)."""
    from ecsctl.core.manifest.sniff import foreign

    return Path(name).is_file() and foreign(_head(name)) is None


def _head(name: str) -> bytes:
    from ecsctl.core.manifest.sniff import HEAD_BYTES

    try:
        with open(name, "rb") as fh:
            return fh.read(HEAD_BYTES)
    except OSError:
        return b"apiVersion: ecsctl/"  # unreadable: load it, and report why it cannot be read


def _ignore_lines(path: Path) -> list[str]:
    """Globs of an ignore file: one per line; blank lines and ``#`` comments do not count."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _rel(name: str) -> str:
    rel = os.path.normpath(os.path.relpath(name) if os.path.isabs(name) else name).replace(os.sep, "/")
    return "" if rel == "." else rel


def _match(rel: str, patterns) -> str | None:
    """The first pattern matching the path, one of its folders, or a component (``*.json``, ``examples/``)."""
    if not rel or not patterns:
        return None
    parts = rel.split("/")
    candidates = {rel, *parts, *("/".join(parts[:i]) for i in range(1, len(parts)))}
    for pattern in patterns:
        glob = pattern.removeprefix("./").rstrip("/")
        if glob and any(fnmatch.fnmatchcase(c, glob) for c in candidates):
            return pattern
    return None


@dataclass
class Loaded:
    """Documents read from files, with the findings of loading and checking them."""

    files: list[str]
    documents: list[Document] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def report(self) -> ValidationReport:
        report = ValidationReport(files=len(self.files), documents=len(self.documents))
        report.extend(self.findings)
        return report


SCHEMA_RULE_IDS = frozenset(SCHEMA_RULES.values())


class Validator:
    """Loads, checks schemas and runs rules; reusable across runs in one process."""

    def __init__(self) -> None:
        self.schemas = SchemaChecker(load_schema)
        self.engine = RuleEngine(all_rules().values())

    def load(self, files: list[str], read=None) -> Loaded:
        if len(files) >= PARALLEL_FILES:
            self.schemas.warm()  # a large run: compiled schema checks from the first document
            if read is None and _cores() > 1:
                parallel = self._load_in_parallel(files)
                if parallel is not None:
                    return parallel
        loaded = Loaded(files)
        for name in files:
            try:
                raw = read(name) if read else read_manifest(name)
            except TooLarge as exc:
                loaded.findings.append(Finding("E0006", Severity.ERROR, str(exc), name))
                continue
            except OSError as exc:
                loaded.findings.append(Finding("E0009", Severity.ERROR, f"cannot read file: {exc.strerror or exc}", name))
                continue
            self._load_one(name, raw, loaded)
        return loaded

    def _load_in_parallel(self, files: list[str]) -> Loaded | None:
        """Load and schema-check a large tree on every core: the files are dealt to worker
        processes (forked, so the schemas and rules are already imported), which send back the
        documents and findings of their share, in order; the rules then run here, over all the
        documents together.  ``None`` where processes cannot be forked."""
        import multiprocessing

        try:
            context = multiprocessing.get_context("fork")
        except ValueError:
            return None
        import gc

        workers = _cores()
        shares = [files[i::workers] for i in range(workers)]

        global _WORKER
        _WORKER = self
        # The schemas were compiled before (load): every worker inherits them.  Frozen objects
        # are not scanned by the collector, so the children do not copy every page it would touch.
        gc.freeze()
        try:
            with context.Pool(workers - 1) as pool:
                pending = pool.map_async(_load_share, shares[1:])
                first = _load_share(shares[0])  # this process loads a share too
                parts = [first, *pending.get()]
        except OSError:
            return None
        finally:
            _WORKER = None
            gc.unfreeze()
        by_name = {}
        for part in parts:
            by_name.update(part)
        loaded = Loaded(files)
        for name in files:
            documents, findings, raw, json = by_name[name]
            if raw is not None:
                reattach(documents, raw, json)
            loaded.findings.extend(findings)
            loaded.documents.extend(documents)
        return loaded

    def _load_one(self, name: str, raw: bytes, loaded: Loaded):
        result = load_bytes(raw, name)
        loaded.findings.extend(result.findings)
        for doc in result.documents:
            loaded.findings.extend(classify(doc))
            if doc.valid:
                schema_findings, shape_ok = self.schemas.check(doc)
                loaded.findings.extend(schema_findings)
                doc.valid = shape_ok
            loaded.documents.append(doc)
        return result

    def check(self, loaded: Loaded) -> ValidationReport:
        ctx = RuleContext(loaded.documents)
        # the rules also run on a document whose values are only out of bounds: a rule's finding on
        # a field the schema refused is left out (the schema's says what is wrong with it; fixed,
        # the next run shows whatever the rule still finds)
        refused = {(f.file, f.document, f.path) for f in loaded.findings if f.rule in SCHEMA_RULE_IDS}
        loaded.findings.extend(duplicate_names(loaded.documents))
        for doc in loaded.documents:
            if doc.valid:
                loaded.findings.extend(f for f in self.engine.check(doc, ctx)
                                       if (f.file, f.document, f.path) not in refused)
        return loaded.report()

    def validate(self, files: list[str], read=None) -> ValidationReport:
        return self.check(self.load(files, read))


# A tree of at least this many files is loaded on every core (forking costs a few milliseconds
# a worker; sending 10,000 documents back costs about a tenth of loading them).
PARALLEL_FILES = 200
_WORKER: "Validator | None" = None


def _cores() -> int:
    """Worker processes for a large tree: ``ECSCTL_JOBS`` if set (1: one process), else the CPUs
    this process may run on."""
    jobs = os.environ.get("ECSCTL_JOBS", "")
    if jobs.isdigit() and int(jobs) > 0:
        return int(jobs)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _load_share(names: list[str]) -> dict:
    """In a worker: each file's documents (detached from their text), findings and bytes."""
    from ecsctl.core.manifest.loader import detach

    validator = _WORKER
    out = {}
    for name in names:
        loaded = Loaded([name])
        try:
            raw = read_manifest(name)
        except TooLarge as exc:
            out[name] = ([], [Finding("E0006", Severity.ERROR, str(exc), name)], None, False)
            continue
        except OSError as exc:
            out[name] = ([], [Finding("E0009", Severity.ERROR, f"cannot read file: {exc.strerror or exc}", name)], None, False)
            continue
        result = validator._load_one(name, raw, loaded)
        detach(loaded.documents)
        out[name] = (loaded.documents, loaded.findings, raw if loaded.documents else None, result.json)
    return out


class TooLarge(Exception):
    """A manifest file over ``MAX_FILE_BYTES``, found before it is read."""


def read_manifest(name: str, limit: int | None = None) -> bytes:
    """A manifest file's bytes (``-``: standard input), never more than ``limit`` (``MAX_FILE_BYTES``).

    The size is checked before the file is read (``fstat``), and the read itself stops one byte
    past the limit (a pipe, a special file or a file that grows has no size to trust), so a
    1 GiB file costs a ``stat``, not a gigabyte of memory.
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    if name == "-":
        import sys

        raw = sys.stdin.buffer.read(limit + 1)
    else:
        with open(name, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                raise TooLarge(f"file is {size} bytes, over the {limit}-byte limit")
            raw = fh.read(limit + 1)
    if len(raw) > limit:
        raise TooLarge(f"file is over the {limit}-byte limit")
    return raw


def validate_paths(paths: list[str], exclude: tuple[str, ...] | list[str] = (), notes: list[str] | None = None, *,
                   skip_named: bool = False, strict: bool = False) -> ValidationReport:
    """The report on ``paths``; with ``strict`` its warnings are errors (``ValidationReport.under_strict``)."""
    report = Validator().validate(discover(paths, exclude, notes, skip_named=skip_named))
    return report.under_strict() if strict else report
