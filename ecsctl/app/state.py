"""Opening the state file, and the state commands (pull, push, list, unlock, verify)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ecsctl.errors import InputError, StateError, UsageError

DEFAULT_STATE = ".ecsctl/state.db"

_note_sinks: list[Callable[[str], None]] = []


def report_notes_to(sink: Callable[[str], None]) -> None:
    """Where the one-line notes of the state store go (the CLI prints them on stderr)."""
    _note_sinks[:] = [sink]


def _note(line: str) -> None:
    for sink in _note_sinks:
        sink(line)


def state_path(option: str | None) -> str:
    """``--state``, else ``$ECSCTL_STATE``, else ``.ecsctl/state.db`` (an ``S3://`` scheme in
    another case is S3's, not a local folder named ``S3:``)."""
    path = option or os.environ.get("ECSCTL_STATE") or DEFAULT_STATE
    return "s3://" + path[5:] if path[:5].lower() == "s3://" else path


def reset_connections() -> None:
    """Forget the profile, region and endpoint an earlier command of this process gave the
    ``s3://`` state (``app.aws.connect`` sets them for its command)."""
    from ecsctl.storage.s3_state import connect_as

    connect_as()


def open_store(path: str, *, create: bool = True):
    """The state at ``path``; with ``create``, a missing one is an empty state that is written
    to disk by its first commit (a command refused before that leaves no file behind)."""
    if path.startswith("s3://"):  # the state kept in S3 (the aws extra)
        from ecsctl.storage.s3_state import S3StateStore

        return S3StateStore(path, create=create)
    from ecsctl.storage.sqlite_store import SqliteStateStore

    return SqliteStateStore(path, create=create, on_note=_note)


def open_existing(path: str):
    """A store for readers: ``None`` when there is no state file yet (nothing applied)."""
    if path.startswith("s3://"):
        from ecsctl.storage.s3_state import exists

        if not exists(path):
            return None
        return open_store(path, create=False)
    from ecsctl.storage.sqlite_store import check_location

    check_location(Path(path))
    if not Path(path).exists():
        return None
    return open_store(path, create=False)


def open_required(path: str):
    """A store for commands that read or act on what was applied: none yet is an error."""
    store = open_existing(path)
    if store is None:
        raise StateError(f"no state at {path}; run apply first")
    return store


def open_simulation(path: str, command: str):
    """A store for commands that act on the local simulation (``command``: how to name it in the
    refusal): an existing state, not one recorded for ``--backend aws``."""
    from ecsctl.app.backend_of import require_simulation

    store = open_required(path)
    try:
        require_simulation(store, path, command)
    except BaseException:
        store.close()
        raise
    return store


def pull(path: str) -> dict:
    with open_required(path) as store:
        return store.export()


@dataclass(frozen=True)
class Pushed:
    """What ``state push`` did: the state's meta afterwards, and whether it changed (an export
    that is the state as it is changes nothing)."""

    meta: Any
    changed: bool
    source: str  # the pushed file, as errors name it (``<stdin>`` for ``-``)


def push(path: str, source: str, *, force: bool = False) -> Pushed:
    """``ecsctl state push``: replace the state at ``path`` with the export in ``source`` (a file,
    ``-`` for stdin). Whatever is wrong with the export is an InputError or StateError naming
    ``source``; what the state refuses (another lineage, an older serial, the same serial with
    other content) names ``path``."""
    label = "<stdin>" if source == "-" else source
    data = _read_export(source, label)
    with open_store(path) as store:
        with store.locked("ecsctl state push"):
            before = store.meta()
            meta = store.import_(data, force=force, source=label)
            changed = (meta.serial, meta.lineage) != (before.serial, before.lineage) or before.serial == 0
            return Pushed(meta, changed, label)


def _read_export(source: str, label: str) -> Any:
    """The JSON an export file holds; anything else is one line naming the file."""
    try:
        raw = Path(source).read_bytes() if source != "-" else _stdin_bytes()
    except (FileNotFoundError, NotADirectoryError):  # a path that is not there: usage, as for a manifest or a plan
        raise UsageError(f"{label}: no such file or directory") from None
    except OSError as exc:
        raise InputError(f"{label}: {exc.strerror or exc}") from None
    sqlite = sqlite_file_kind(raw[:100])
    if sqlite is not None:
        hint = f"; export one with `ecsctl --state {label} state pull > FILE.json`" if sqlite == "state" else ""
        what = "an ecsctl state file (SQLite)" if sqlite == "state" else "a SQLite database"
        raise InputError(f"{label}: not an ecsctl state export (it is {what}, not JSON{hint})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{label}: not an ecsctl state export (not UTF-8 text: byte {exc.start + 1} "
                         f"is {raw[exc.start]:#04x})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{label}:{exc.lineno}:{exc.colno}: not an ecsctl state export (invalid JSON: {exc.msg})") from None
    except RecursionError:
        raise InputError(f"{label}: not an ecsctl state export (JSON nested too deeply)") from None


def sqlite_file_kind(head: bytes) -> str | None:
    """``"state"`` when ``head`` (a file's first 100 bytes) starts an ecsctl state file,
    ``"sqlite"`` for another SQLite database, ``None`` for anything else."""
    from ecsctl.storage.sqlite_store import sqlite_header_kind

    return sqlite_header_kind(head)


def file_is_sqlite(path: str) -> str | None:
    """:func:`sqlite_file_kind` of the file at ``path`` (``None`` when it cannot be read)."""
    try:
        with open(path, "rb") as fh:
            return sqlite_file_kind(fh.read(100))
    except OSError:
        return None


def list_resources(path: str) -> list[dict]:
    with open_required(path) as store:
        return [
            {"address": r.address, "kind": r.kind, "name": r.name, "appliedSerial": r.applied_serial}
            for r in sorted(store.resources(), key=lambda r: r.address)
        ]


def verify(path: str) -> dict:
    """``ecsctl state verify``: the file's own checks (integrity, schema, serial) and the
    simulated world's invariants (``ecsctl.backends.local.check_invariants``), as
    ``{"state", "ok", "serial", "problems", "checked"}``; ``problems`` has one line each."""
    from ecsctl.backends.local import check_invariants
    from ecsctl.core.state.ports import ContainerInstance, Deployment, Service, Task

    with open_required(path) as store:
        problems = store.check_file()
        try:
            problems += check_invariants(store)
        except StateError as exc:  # rows that cannot be read (named above): the world cannot be loaded
            problems.append(f"invariants not checked: {exc}")
        meta = store.meta()
        checked = {
            "instances": store.count(ContainerInstance),
            "tasks": store.count(Task),
            "services": store.count(Service),
            "deployments": store.count(Deployment),
        }
    return {"state": path, "ok": not problems, "serial": meta.serial, "version": meta.version,
            "problems": problems, "checked": checked}


def unlock(path: str, lock_id: str):
    with open_store(path, create=False) as store:
        return store.force_unlock(lock_id)


def _stdin_bytes() -> bytes:
    import sys

    stream = getattr(sys.stdin, "buffer", None)
    return stream.read() if stream is not None else sys.stdin.read().encode("utf-8")


def upgrade_addresses(store) -> int:
    """Re-record resources that an older ecsctl stored under another spelling of their
    address (``parameter//prod/db`` for ``parameter/"/prod/db"``); call it under the lock,
    before planning.  Returns how many moved."""
    from ecsctl.core.plan.model import address

    moved = [(r, address(r.kind, r.name, r.spec)) for r in store.resources()]
    moved = [(r, new) for r, new in moved if new != r.address]
    if moved:
        recorded = store.sources()
        with store.transaction():
            for r, new in moved:
                store.delete_resource(r.address)  # and where it was read from: that moves too
                store.put_resource(new, r.kind, r.name, r.spec)
            store.put_sources({new: recorded[r.address] for r, new in moved if r.address in recorded})
    return len(moved)
