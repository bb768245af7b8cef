"""Saved plan files: ``ecsctl plan --out FILE`` writes one, ``ecsctl apply FILE`` reads it.

A plan file is private (mode 0600, written to a temporary file and renamed into place) and
holds no sensitive-looking value: ``ecsctl.core.plan.codec.plan_for_file`` leaves each out
(``{"$sensitive": null}``). The file names the manifests the plan was made from and, as every
plan does, the hash of their bytes; ``load_plan`` re-reads them, checks the hash, and puts
the values back, so ``apply FILE`` applies exactly what was planned, with the secrets taken
from the manifests where they already are.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Callable, Iterable

from ecsctl.core.plan.codec import manifests_hash, plan_for_file, plan_from_json, plan_has_masked, plan_to_json, restore_masked
from ecsctl.core.plan.model import Plan
from ecsctl.errors import InputError

PLAN_FILE_MODE = 0o600

# reads manifests into desired specs: ``ecsctl.app.plan.read_manifests``, passed in by it
ReadManifests = Callable[[list[str]], object]


def save_plan(plan: Plan, path: str, manifests: Iterable[str] = ()) -> None:
    """Write ``plan`` to ``path`` (mode 0600) without its sensitive values; ``manifests`` are the
    files it was made from, which ``load_plan`` takes those values from again."""
    data = plan_to_json(plan_for_file(plan))
    data["manifests"] = sorted(manifests)
    _write_private(Path(path), json.dumps(data, indent=2, sort_keys=True) + "\n")


def _write_private(target: Path, text: str) -> None:
    if target.is_dir():
        raise InputError(f"{target}: is a directory; --out needs a file name")
    if not target.parent.is_dir():
        raise InputError(f"{target}: the folder {target.parent} does not exist")
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


def load_plan(path: str, read_manifests: ReadManifests | None = None) -> Plan:
    """The plan saved at ``path``. With ``read_manifests``, the values the file left out are put
    back from the manifests it names, after checking that they are the bytes it was made from."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a saved plan ({exc})") from None
    plan = plan_from_json(data)
    if read_manifests is None or not plan_has_masked(plan):
        return plan
    names = data.get("manifests") if isinstance(data, dict) else None
    if not names or not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InputError(f"{path}: the plan left sensitive values out but names no manifests to take them from; make the plan again")
    return _restored(plan, names, path, read_manifests)


def _restored(plan: Plan, names: list[str], path: str, read_manifests: ReadManifests) -> Plan:
    from ecsctl.app.validate import TooLarge, read_manifest

    files = {}
    for name in names:
        try:
            files[name] = read_manifest(name)  # size-checked before it is read, as validate reads it
        except (OSError, TooLarge) as exc:
            raise InputError(
                f"{path}: cannot take the plan's sensitive values from {name}: {getattr(exc, 'strerror', None) or exc}; "
                "apply the plan where it was made, with the manifests it was made from"
            ) from None
    changed = InputError(f"{path}: the manifests changed since the plan was made (their hash differs); run plan again")
    if manifests_hash(files) != plan.manifests_hash:
        raise changed
    inputs = read_manifests(names)
    if manifests_hash(inputs.files) != plan.manifests_hash:  # changed between the two reads
        raise changed
    return restore_masked(plan, {d.address: d.spec for d in inputs.desired})
