"""Saved plan files: ``ecsctl plan --out FILE`` writes one, ``ecsctl apply FILE`` reads it.

A plan file is private (mode 0600, written to a temporary file and renamed into place) and
holds no sensitive-looking value: ``ecsctl.core.plan.codec.plan_for_file`` leaves each out
(``{"$sensitive": null}``). The file records the manifests the plan was made from: the paths
given to ``plan -f`` (``manifest_paths``), the files read under them (``manifests``), each
file's digest (``manifest_digests``) and, as every plan does, the hash of them all; and a
digest of everything else in it (``plan_digest``): a file edited after it was saved (a step's
spec changed by hand) is refused, as Terraform's binary plan files cannot be edited at all.

``load_plan`` for apply re-reads them and refuses the plan, naming the file, when one changed,
was added or was removed since (``ManifestsChanged``), or when they are not here at all: the plan
says what apply will do only while the manifests still ask for it. It then puts the values the
file left out back from them, so ``apply FILE`` applies exactly what was planned, with the
secrets taken from the manifests where they already are. ``check_manifests=False``
(``apply --skip-manifest-check``) applies a plan as saved, without its manifests, as Terraform
does; a plan that left sensitive values out cannot be, only its manifests hold them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import uuid
from pathlib import Path
from typing import Callable, Iterable, Mapping

from ecsctl.app.out_path import out_problem
from ecsctl.core.manifest.sniff import SAVED_PLAN_MARKER
from ecsctl.core.plan.codec import manifests_hash, plan_for_file, plan_from_json, plan_has_masked, plan_to_json, restore_masked
from ecsctl.core.plan.model import Plan
from ecsctl.errors import InputError, UsageError

PLAN_FILE_MODE = 0o600
SKIP_FLAG = "--skip-manifest-check"

# reads manifests into desired specs: ``ecsctl.app.plan.read_manifests``, passed in by it
ReadManifests = Callable[[list[str]], object]


DIGEST = "plan_digest"  # sha256 of the rest of the file: a step edited by hand is refused, not applied


def _digest(data: dict) -> str:
    rest = {k: v for k, v in data.items() if k not in (DIGEST, "$comment")}
    text = json.dumps(rest, sort_keys=True, ensure_ascii=False)
    # "surrogatepass": a lone surrogate (only a hand-edited file has one) digests, and mismatches
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class ManifestsChanged(InputError):
    """A saved plan's manifests changed since it was made, or are not here to check it against."""


def file_digest(content: bytes) -> str:
    """sha256 of one manifest's bytes.  It tells no more of a secret in the file than the plan's
    ``manifests_hash`` (of every file together, the others being at hand) already does."""
    return "sha256:" + hashlib.sha256(content).hexdigest()


def save_plan(plan: Plan, path: str, manifests: Mapping[str, bytes] | Iterable[str] = (),
              paths: Iterable[str] = (), state: str | None = None, exclude: Iterable[str] = ()) -> None:
    """Write ``plan`` to ``path`` (mode 0600) without its sensitive values. ``manifests`` are the
    files it was made from (their bytes, by name), ``paths`` what ``plan -f`` was given and
    ``exclude`` its ``--exclude`` globs: ``load_plan`` checks them again and takes the values left
    out from them. ``state``: the ``--state`` the plan was made with, if one was given (the hint
    to make it again names it)."""
    data = plan_to_json(plan_for_file(plan))
    # first in the file (keys sorted): a folder of manifests it is saved in skips it (core.manifest.sniff)
    data["$comment"] = f"{SAVED_PLAN_MARKER}: apply it with ecsctl apply FILE"
    data["manifests"] = sorted(manifests)
    if isinstance(manifests, Mapping):
        data["manifest_digests"] = {name: file_digest(manifests[name]) for name in sorted(manifests)}
    data["manifest_paths"] = list(paths)
    if exclude:
        data["manifest_exclude"] = list(exclude)
    if state:
        data["state_option"] = state
    if plan.sources:  # where apply records the manifests were read from (app.sources)
        data["manifest_sources"] = dict(sorted(plan.sources.items()))
    data["backend"] = plan.backend  # applied only with the same --backend
    data[DIGEST] = _digest(data)
    _write_private(Path(path), json.dumps(data, indent=2, sort_keys=True) + "\n")


def _write_private(target: Path, text: str) -> None:
    problem = out_problem(target)
    if problem is not None:
        why, where = problem
        raise InputError(f"{target}: is a directory; --out needs a file name" if why == "folder"
                         else f"{target}: the folder {where} does not exist")
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PLAN_FILE_MODE)
        try:
            os.write(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InputError(f"{target}: cannot write the plan: {exc.strerror or exc}") from None


class SavedPlan:
    """A plan file as read (``read_saved``), before its manifests are checked (``checked``)."""

    def __init__(self, path: str, data: dict, plan: Plan) -> None:
        self.path, self.data, self.plan = path, data, plan

    def again(self) -> str:
        """How to make this plan again: ``run plan again (ecsctl plan -f … --out FILE)`` when the
        file names the paths it was made from."""
        return _again(self.data, self.path)

    def check_manifests(self) -> None:
        """Refuse (``ManifestsChanged``) unless the manifests are here, as they were when the plan was made."""
        path, data, masked = self.path, self.data, plan_has_masked(self.plan)
        names = data.get("manifests")
        if not names or not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            what = "left sensitive values out but names no manifests to take them from" if masked else \
                "names no manifests to check it against"
            raise ManifestsChanged(f"{path}: the plan {what}; make the plan again")
        check_saved_manifests(self.plan, data, path, masked=masked)

    def checked(self, read_manifests: ReadManifests, *, check_manifests: bool = True) -> Plan:
        """The plan to apply: refused unless its manifests are the bytes it was made from
        (``ManifestsChanged``), with the values the file left out put back from them.  With
        ``check_manifests=False`` the manifests are not read; a plan that left values out is refused."""
        path, data, plan = self.path, self.data, self.plan
        masked = plan_has_masked(plan)
        if not check_manifests:
            if masked:
                raise InputError(f"{path}: the plan left sensitive values out, which only its manifests hold: it cannot be "
                                 f"applied with {SKIP_FLAG}; apply it where it was made, with the manifests it was made from")
            return plan
        self.check_manifests()
        names = data["manifests"]
        if not masked:
            return plan
        inputs = read_manifests(names)
        if manifests_hash(inputs.files) != plan.manifests_hash:  # changed since they were checked
            raise ManifestsChanged(f"{path}: the manifests changed since the plan was made (while apply read them); "
                                   f"{_again(data, path)}")
        return restore_masked(plan, {d.address: d.spec for d in inputs.desired})


def read_saved(path: str) -> SavedPlan:
    """The plan file at ``path``, parsed; a file that is no saved plan is an ``InputError``, a path
    that is not there a ``UsageError`` (exit 2, as for a missing manifest)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):  # a path that is not there: usage, as validate says it
        raise UsageError(f"{path}: no such file or directory") from None
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a saved plan ({exc})") from None
    plan = plan_from_json(data)
    sources = data.get("manifest_sources") if isinstance(data, dict) else None
    if isinstance(sources, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in sources.items()):
        plan.sources = dict(sources)
    # "" for a plan file from before it was recorded: applied with whichever --backend is given
    plan.backend = data.get("backend") if isinstance(data, dict) and data.get("backend") in ("local", "aws") else ""
    # every saved plan has one: a file without it was edited (the digest taken out with the
    # change) or saved before ecsctl wrote it, and is made again rather than trusted
    if not isinstance(data, dict) or DIGEST not in data or data[DIGEST] != _digest(data):
        what = (f"its {DIGEST} does not match its contents" if isinstance(data, dict) and DIGEST in data
                else f"it has no {DIGEST}: edited, or saved by an older ecsctl")
        raise InputError(f"{path}: the plan file was changed after it was saved ({what}): it is not applied or "
                         f"shown; {_again(data, path)}")
    return SavedPlan(path, data, plan)


def load_plan(path: str, read_manifests: ReadManifests | None = None, *, check_manifests: bool = True) -> Plan:
    """The plan saved at ``path``: as saved without ``read_manifests`` (``show``); with it, as
    ``SavedPlan.checked`` gives it for apply."""
    saved = read_saved(path)
    if read_manifests is None:
        return saved.plan
    return saved.checked(read_manifests, check_manifests=check_manifests)


def check_saved_manifests(plan: Plan, data: dict, path: str, *, masked: bool) -> None:
    """Refuse (``ManifestsChanged``, one line) unless the files the plan names are here with the bytes
    it was made from, and the paths it was made from hold no other manifest."""
    from ecsctl.app.validate import TooLarge, discover, read_manifest

    names: list[str] = data["manifests"]
    roots = _strings(data.get("manifest_paths"))  # None in a plan file from before they were recorded
    digests = data.get("manifest_digests") if isinstance(data.get("manifest_digests"), dict) else {}
    skip_hint = "" if masked else f", or apply it as saved, unchecked, with {SKIP_FLAG}"
    if "-" in names or (roots and "-" in roots):
        raise ManifestsChanged(f"{path}: the plan was made from standard input, which apply cannot read again to "
                               f"check it against; make the plan from files{skip_hint}")
    present: dict[str, bytes] = {}
    removed: list[str] = []
    for name in names:
        try:
            present[name] = read_manifest(name)  # size-checked before it is read, as validate reads it
        except (FileNotFoundError, NotADirectoryError):
            removed.append(name)
        except (OSError, TooLarge) as exc:
            raise ManifestsChanged(f"{path}: cannot read {name} to check the plan against it: "
                                   f"{getattr(exc, 'strerror', None) or exc}") from None
    if not present:
        missing = [r for r in roots if not Path(r).exists()] if roots else []
        where = f"{_few(missing)}: no such file or directory" if missing else f"none of {_few(names)} is here"
        raise ManifestsChanged(f"{path}: the manifests the plan was made from are not here ({where}); apply it in the "
                               f"folder where the plan was made, with the same files{skip_hint}")
    added: list[str] = []
    if roots:
        exclude = _strings(data.get("manifest_exclude")) or []
        found = set(discover([r for r in roots if Path(r).exists()], exclude))  # as plan found them (.ecsctlignore too)
        added = sorted(found - set(names))
    changed = [n for n in names if n in present and n in digests and digests[n] != file_digest(present[n])]
    if not (removed or added or changed) and manifests_hash(present) == plan.manifests_hash:
        return
    what = [f"{_few(changed)} changed"] if changed else []
    what += [f"{_few(added)} added"] if added else []
    what += [f"{_few(removed)} removed"] if removed else []
    if not what:  # a plan file without per-file digests, or one edited by hand
        what = ["their hash differs"]
    raise ManifestsChanged(f"{path}: the manifests changed since the plan was made ({'; '.join(what)}); {_again(data, path)}")


def _strings(value) -> list[str] | None:
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def _few(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _again(data: dict, path: str) -> str:
    """How to fix it: the plan made again, from the paths it was made from when the file says them."""
    roots = _strings(data.get("manifest_paths"))
    if not roots:
        return "run plan again"
    state = data.get("state_option")
    files = " ".join(f"-f {shlex.quote(r)}" for r in roots)
    files += "".join(f" --exclude {shlex.quote(g)}" for g in _strings(data.get("manifest_exclude")) or ())
    files += _state_flag(state if isinstance(state, str) else None)
    files += " --backend aws" if data.get("backend") == "aws" else ""  # a plan of real ECS is made again there
    return f"run plan again (ecsctl plan {files} --out {shlex.quote(path)})"


def apply_command(path: str, state: str | None, backend: str = "local") -> str:
    """The command that applies the plan saved at ``path`` (to the ``--state`` and backend it was made with)."""
    return f"ecsctl apply {shlex.quote(path)}{_state_flag(state)}" + (" --backend aws" if backend == "aws" else "")


def _state_flag(state: str | None) -> str:
    return f" --state {shlex.quote(state)}" if state else ""
