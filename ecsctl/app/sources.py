"""Where each resource's manifest was read from: recorded by apply, read by plan's left-out guard.

``apply -f envs`` followed by ``apply -f envs/dev`` (one state) would destroy everything
``envs/prod`` declares; the folders beside and above a named path (``app.plan.LeftOutFiles``)
cannot tell that apart from two stacks kept in sibling folders with states of their own.  The
state can: apply records, per resource, the file it read the resource from
(``StateStore.put_sources``), and a plan that deletes a resource whose recorded file is still
there, not among the inputs, and still declaring it, is refused like any left-out manifest.

A path is recorded relative to the *project folder*: the git work tree that holds the current
directory (the nearest folder above it with a ``.git``), else the current directory.  The same
repository checked out elsewhere (a CI runner, a colleague's clone sharing an S3 state) then
finds its own copy of the file, and another clone's files on this machine are never taken for
this one's.  A manifest outside the project folder is not recorded: a copy of the stack made
elsewhere (a temporary folder) is no part of this project, and protects nothing.
"""

from __future__ import annotations

import os
from typing import Iterable, Mapping

from ecsctl.core.plan.model import address


def project_folder() -> str:
    """The git work tree holding the current directory (its top folder), else the current directory."""
    here = os.path.realpath(os.getcwd())
    folder = here
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return here
        folder = parent


def recorded_path(file: str, root: str) -> str | None:
    """How ``file`` is recorded: relative to ``root`` (the project folder); ``None`` outside it,
    and for standard input, which names no file."""
    if not file or file == "-":
        return None
    real = os.path.realpath(file)
    if real.startswith(root.rstrip(os.sep) + os.sep):
        return os.path.relpath(real, root)
    return None


def sources_of(documents: Mapping[str, object]) -> dict[str, str]:
    """address -> recorded path of the file each document came from (``Inputs.documents``)."""
    root = project_folder()
    out: dict[str, str] = {}
    for addr, doc in documents.items():
        path = recorded_path(str(getattr(doc, "file", "") or ""), root)
        if path is not None:
            out[addr] = path
    return out


def _shown(file: str) -> str:
    """``file`` as the current directory names it: relative inside it, else absolute."""
    here = os.getcwd()
    return os.path.relpath(file) if file.startswith(here.rstrip(os.sep) + os.sep) else file


def still_declared(deletes: Iterable[str], recorded: Mapping[str, str], read: Iterable[str]) -> dict[str, str]:
    """Of ``deletes``, those whose recorded file is still there, was not read (``read``: the
    input files), and still declares them: address -> ``"FILE (the last apply read it from
    there)"``, FILE as the current directory names it.  A file that cannot be read or parsed
    protects nothing."""
    from ecsctl.app.validate import Validator
    from ecsctl.core.normalize import canonical

    root = project_folder()
    taken = {os.path.realpath(f) for f in read if f != "-"}
    wanted: dict[str, list[str]] = {}  # file -> the addresses it was recorded for
    for addr in deletes:
        path = recorded.get(addr)
        if not path or os.path.isabs(path):
            continue
        file = os.path.join(root, path)
        if os.path.isfile(file) and os.path.realpath(file) not in taken:
            wanted.setdefault(file, []).append(addr)
    out: dict[str, str] = {}
    for file, addresses in sorted(wanted.items()):
        docs = Validator().load([file]).documents  # an unreadable file: no documents, findings unread
        declared = {address(d.kind, d.name, canonical(d.kind, d.name, d.spec))
                    for d in docs if d.kind and d.name and isinstance(d.spec, dict)}
        shown = _shown(file)
        for addr in addresses:
            if addr in declared:
                out[addr] = f"{shown} (the last apply read it from there)"
    return out
