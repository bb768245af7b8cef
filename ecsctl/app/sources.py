"""Where each resource's manifest was read from: recorded by apply, read by plan's left-out guard.

``apply -f envs`` followed by ``apply -f envs/dev`` (one state) would destroy everything
``envs/prod`` declares; the folders beside and above a named path (``app.plan.LeftOutFiles``)
cannot tell that apart from two stacks kept in sibling folders with states of their own.  The
state can: apply records, per resource, the file it read the resource from
(``StateStore.put_sources``), and a plan that deletes a resource whose recorded file is still
there, not among the inputs, and still declaring it (or no longer readable) is refused like any
left-out manifest.

A path is recorded relative to the *project folder* of its file: the git work tree that holds
it (the nearest folder above it with a ``.git``), else the current directory when the file is
inside it.  The same repository checked out elsewhere (a CI runner, a colleague's clone sharing
an S3 state) then finds its own copy of the file, from whichever folder the command runs, and
another clone's files on this machine are never taken for this one's.  A manifest outside both
is not recorded: a copy of the stack in a temporary folder is no part of a project, and protects
nothing.  A folder reached through a link counts where it is linked (``envs -> ../shared/envs``
is ``envs``), as the inputs name it.  Paths are written with ``/`` whatever the platform.
"""

from __future__ import annotations

import os
from pathlib import PurePath, PurePosixPath
from typing import Iterable, Mapping

from ecsctl.core.plan.model import address

UNREADABLE = "it cannot be read now: fix it, or pass --delete-left-out"


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def git_root(path: str) -> str | None:
    """The work tree holding ``path`` (absolute, links not resolved): the nearest folder above it with a ``.git``."""
    folder = os.path.dirname(path)
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def recorded_path(file: str) -> str | None:
    """How ``file`` is recorded: relative to its project folder, with ``/``; ``None`` outside
    any, and for standard input, which names no file."""
    if not file or file == "-":
        return None
    path = os.path.abspath(file)
    root = git_root(path)
    if root is None:
        here = os.path.abspath(os.getcwd())
        root = here if _inside(path, here) else None
    if root is None:
        return None
    return PurePath(os.path.relpath(path, root)).as_posix()


def sources_of(documents: Mapping[str, object]) -> dict[str, str]:
    """address -> recorded path of the file each document came from (``Inputs.documents``)."""
    out: dict[str, str] = {}
    for addr, doc in documents.items():
        path = recorded_path(str(getattr(doc, "file", "") or ""))
        if path is not None:
            out[addr] = path
    return out


def _roots(read: Iterable[str]) -> list[str]:
    """Where recorded paths are looked for: the work trees of the input files, else the current directory."""
    roots = {git_root(os.path.abspath(f)) for f in read if f != "-"}
    roots.discard(None)
    return sorted(roots) or [os.path.abspath(os.getcwd())]  # type: ignore[type-var]


def _shown(file: str) -> str:
    """``file`` as the current directory names it: relative inside it, else absolute."""
    return os.path.relpath(file) if _inside(file, os.path.abspath(os.getcwd())) else file


def still_declared(deletes: Iterable[str], recorded: Mapping[str, str], read: Iterable[str]) -> dict[str, str]:
    """Of ``deletes``, those whose recorded file is still there, was not read (``read``: the
    input files), and still declares them or cannot be read: address -> ``"FILE (the last
    apply read it from there…)"``, FILE as the current directory names it."""
    from ecsctl.app.validate import Validator
    from ecsctl.core.normalize import canonical

    read = list(read)
    taken = {os.path.realpath(f) for f in read if f != "-"}
    roots = _roots(read)
    wanted: dict[str, list[str]] = {}  # file -> the addresses it was recorded for
    for addr in deletes:
        path = recorded.get(addr)
        if not path or PurePosixPath(path).is_absolute():
            continue
        for root in roots:
            file = os.path.join(root, *PurePosixPath(path).parts)
            if os.path.isfile(file):
                if os.path.realpath(file) not in taken:
                    wanted.setdefault(file, []).append(addr)
                break
    out: dict[str, str] = {}
    for file, addresses in sorted(wanted.items()):
        loaded = Validator().load([file])
        if any(f.rule.startswith("E0") for f in loaded.findings):  # it does not parse: it may still declare them
            for addr in addresses:
                out[addr] = f"{_shown(file)} (the last apply read it from there; {UNREADABLE})"
            continue
        declared = {address(d.kind, d.name, canonical(d.kind, d.name, d.spec))
                    for d in loaded.documents if d.kind and d.name and isinstance(d.spec, dict)}
        for addr in addresses:
            if addr in declared:
                out[addr] = f"{_shown(file)} (the last apply read it from there)"
    return out
