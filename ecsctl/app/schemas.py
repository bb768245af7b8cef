"""Where the JSON Schemas live, and exporting them for editors and other tools."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

from ecsctl.core.manifest.envelope import API_VERSION, KINDS, name_rule


@lru_cache(maxsize=1)
def schema_dir() -> Path:
    """``ecsctl/schemas`` in an installed wheel, the repository's ``schemas/`` in a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "schemas", here.parent / "schemas"):
        if (candidate / "TaskDefinition.json").is_file():
            return candidate
    raise FileNotFoundError("ecsctl's JSON Schemas are missing from the installation")


@lru_cache(maxsize=None)
def load_schema(kind: str) -> dict:
    with open(schema_dir() / f"{kind}.json", encoding="utf-8") as fh:
        return json.load(fh)


def manifest_schema(kind: str) -> dict:
    """A schema for a whole manifest document of ``kind``: the envelope around the spec schema."""
    spec = copy.deepcopy(load_schema(kind))
    defs = spec.pop("$defs", {})
    spec.pop("$schema", None)
    spec.pop("$id", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://ecsctl.dev/schemas/{kind}.manifest.json",
        "title": f"ecsctl {kind} manifest",
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "kind": {"const": kind},
            "metadata": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "pattern": name_rule(kind)[0].pattern},  # validate's E0014
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
            "spec": {"$ref": "#/$defs/spec"},
        },
        "$defs": {**defs, "spec": spec},
    }


def export_schemas(target: str | Path) -> list[Path]:
    """Write every spec schema and its manifest wrapper into the folder ``target`` (created if
    missing); a target that is a file, or cannot be made or written, is an ``InputError``."""
    from ecsctl.errors import InputError

    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: is a file, not a folder; give the folder to write the schemas into")
    try:
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for kind in KINDS:
            spec_path = target / f"{kind}.json"
            spec_path.write_text(json.dumps(load_schema(kind), indent=2) + "\n", encoding="utf-8")
            doc_path = target / f"{kind}.manifest.json"
            doc_path.write_text(json.dumps(manifest_schema(kind), indent=2) + "\n", encoding="utf-8")
            written += [spec_path, doc_path]
    except OSError as exc:
        where = exc.filename or target
        raise InputError(f"{where}: cannot write the schemas there: {exc.strerror or exc}") from None
    return written
