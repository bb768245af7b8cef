"""The real task-definition corpus through ecsctl, check-jsonschema and cfn-lint, side by side.

    python bench/corpus_vs_peers.py [--quick] [--repeat N] [--corpus DIR]

(a) ``ecsctl validate <dir> -o json``  — one process over the whole corpus;
(b) ``check-jsonschema --schemafile <exported TaskDefinition.json> <files> -o JSON``;
(c) ``cfn-lint -f json <templates>`` over CloudFormation templates generated into a temp dir,
    each task definition wrapped as an ``AWS::ECS::TaskDefinition`` with PascalCase properties;
plus the cost of one invocation on one file for each tool (what a pre-commit hook pays).

Every command is timed round-robin in the same run (best and median of N), and the
findings each reports are counted, with the distinct rule IDs behind them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (DEFAULT_CORPUS, Run, ecsctl_broken, interleave, machine, machine_line, ms,  # noqa: E402
                     print_block, ratio, tool)

# Fields DescribeTaskDefinition returns that RegisterTaskDefinition (and CloudFormation) refuse.
DESCRIBE_READ_ONLY = {"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
                      "registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt"}

# Fields whose value is a string map: the field is renamed, its keys are user data and stay.
MAP_VALUED = {"options", "dockerLabels", "driverOpts", "labels"}

# API name -> CloudFormation name where PascalCase alone is wrong (AWS::ECS::TaskDefinition schema).
CFN_NAMES = {
    "efsVolumeConfiguration": "EFSVolumeConfiguration",
    "fsxWindowsFileServerVolumeConfiguration": "FSxWindowsFileServerVolumeConfiguration",
    "iam": "IAM",
}
# Renames that depend on the parent field.
CFN_NAMES_IN = {
    ("efsVolumeConfiguration", "fileSystemId"): "FilesystemId",
    ("proxyConfiguration", "properties"): "ProxyConfigurationProperties",
}


def pascal(key: str, parent: str | None) -> str:
    if (parent, key) in CFN_NAMES_IN:
        return CFN_NAMES_IN[(parent, key)]
    if key in CFN_NAMES:
        return CFN_NAMES[key]
    return key[:1].upper() + key[1:]


def to_cfn(value, parent: str | None = None):
    """camelCase API shape -> CloudFormation property shape, recursively; string maps keep their keys."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                out[key] = item
                continue
            if key in MAP_VALUED and isinstance(item, dict):
                out[pascal(key, parent)] = dict(item)
            else:
                out[pascal(key, parent)] = to_cfn(item, key)
        return out
    if isinstance(value, list):
        return [to_cfn(item, parent) for item in value]
    return value


def unwrap(doc):
    """A bare RegisterTaskDefinition body from either accepted corpus form (describe output is unwrapped)."""
    if isinstance(doc, dict) and isinstance(doc.get("taskDefinition"), dict) and "containerDefinitions" in doc["taskDefinition"]:
        inner = {k: v for k, v in doc["taskDefinition"].items() if k not in DESCRIBE_READ_ONLY}
        if "tags" in doc and "tags" not in inner:
            inner["tags"] = doc["tags"]
        return inner
    return doc


def make_templates(files: list[Path], out: Path) -> tuple[list[Path], list[str]]:
    out.mkdir(parents=True, exist_ok=True)
    written, skipped = [], []
    for f in files:
        try:
            body = unwrap(json.loads(f.read_text(encoding="utf-8-sig")))
        except (ValueError, UnicodeDecodeError):
            skipped.append(f.name)
            continue
        if not isinstance(body, dict):
            skipped.append(f.name)
            continue
        body = {k: v for k, v in body.items() if k not in DESCRIBE_READ_ONLY}
        template = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {"TaskDefinition": {"Type": "AWS::ECS::TaskDefinition", "Properties": to_cfn(body)}},
        }
        target = out / f.name
        target.write_text(json.dumps(template, indent=1), encoding="utf-8")
        written.append(target)
    return written, skipped


# --- reading each tool's findings -------------------------------------------------------------

def ecsctl_findings(run: Run) -> dict:
    if ecsctl_broken(run.stderr) or not run.stdout.strip():
        return {"ok": False, "note": (run.stderr.strip().splitlines() or ["no output"])[-1]}
    data = json.loads(run.stdout)
    rules = Counter(f["rule"] for f in data["findings"])
    failing = {f["file"] for f in data["findings"] if f["severity"] == "error"}
    return {"ok": True, "findings": len(data["findings"]), "errors": data["errors"], "warnings": data["warnings"],
            "files_failing": len(failing), "rules": rules}


def cjs_findings(run: Run) -> dict:
    try:
        data = json.loads(run.stdout)
    except ValueError:
        return {"ok": False, "note": (run.stderr.strip().splitlines() or ["no output"])[-1]}
    errors = data.get("errors", []) + data.get("parse_errors", [])
    failing = {e["filename"] for e in errors}
    # check-jsonschema has no rule IDs: count the JSON-Schema keyword families behind its messages instead.
    kinds = Counter(_schema_keyword(e["message"]) for e in data.get("errors", []))
    if data.get("parse_errors"):
        kinds["parse"] += len(data["parse_errors"])
    return {"ok": True, "findings": len(errors), "errors": len(errors), "warnings": 0, "files_failing": len(failing),
            "rules": kinds}


def _schema_keyword(message: str) -> str:
    for needle, word in (("is not of type", "type"), ("is a required property", "required"),
                         ("Additional properties", "additionalProperties"), ("is not one of", "enum"),
                         ("does not match", "pattern"), ("is too long", "maxLength"), ("is too short", "minLength"),
                         ("is less than", "minimum"), ("is greater than", "maximum"), ("should be non-empty", "minItems"),
                         ("is not valid under any", "anyOf/oneOf"), ("is valid under each", "oneOf"),
                         ("has non-unique elements", "uniqueItems"), ("Unevaluated properties", "unevaluatedProperties"),
                         ("was expected", "const"), ("should not be valid", "not")):
        if needle in message:
            return word
    return "other"


def cfn_findings(run: Run) -> dict:
    try:
        data = json.loads(run.stdout or "[]")
    except ValueError:
        return {"ok": False, "note": (run.stderr.strip().splitlines() or ["no output"])[-1]}
    levels = Counter(m.get("Level", "?") for m in data)
    failing = {m.get("Filename") for m in data if m.get("Level") == "Error"}
    return {"ok": True, "findings": len(data), "errors": levels.get("Error", 0),
            "warnings": levels.get("Warning", 0) + levels.get("Informational", 0), "files_failing": len(failing),
            "rules": Counter(m["Rule"]["Id"] for m in data)}


def catalogue_sizes() -> dict:
    import subprocess

    out = {}
    try:
        proc = subprocess.run([tool("ecsctl"), "rules", "-o", "json"], capture_output=True, text=True, timeout=120)
        out["ecsctl"] = len(json.loads(proc.stdout)) if proc.returncode == 0 else None
    except (ValueError, subprocess.SubprocessError):
        out["ecsctl"] = None
    proc = subprocess.run([tool("cfn-lint"), "--list-rules"], capture_output=True, text=True, timeout=120)
    ids = [line.split(":", 1) for line in proc.stdout.splitlines() if line[:1] in "EWI" and line[1:5].isdigit()]
    out["cfn-lint"] = len(ids)
    out["cfn-lint-ecs"] = sum(1 for rid, title in ids if "ECS" in title or "Fargate" in title)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30 files, 3 repetitions")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per command (default 5, quick 3)")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--show-rules", action="store_true", help="list every rule ID each tool emitted")
    args = ap.parse_args()
    repeat = args.repeat or (3 if args.quick else 5)

    files = sorted(p for p in args.corpus.iterdir() if p.suffix in (".json", ".yaml", ".yml"))
    if args.quick:
        files = files[::5]
    info = machine()
    print(machine_line(info))
    print(f"corpus: {args.corpus} ({len(files)} files), {repeat} timed runs per command, round-robin\n")

    with tempfile.TemporaryDirectory(prefix="ecsctl-bench-") as tmp:
        tmp = Path(tmp)
        # ecsctl takes a directory: give it exactly the files the peers get.
        corpus = tmp / "corpus"
        corpus.mkdir()
        for f in files:
            (corpus / f.name).symlink_to(f.resolve())
        schemas = tmp / "schemas"
        Run("export", [tool("ecsctl"), "schema", "export", str(schemas)]).once()
        spec_schema = schemas / "TaskDefinition.json"
        placeholder = spec_schema.exists() and len(json.loads(spec_schema.read_text()).get("properties", {})) == 0
        templates, skipped = make_templates(files, tmp / "cfn")

        linked = [str(corpus / f.name) for f in files]
        one = min(files, key=lambda p: p.stat().st_size)
        one_tpl = tmp / "cfn" / one.name
        runs = {
            "ecsctl": Run("ecsctl validate DIR", [tool("ecsctl"), "validate", str(corpus), "-o", "json", "--no-color"]),
            "cjs": Run("check-jsonschema", [tool("check-jsonschema"), "--schemafile", str(spec_schema), "-o", "JSON", *linked]),
            "cfn": Run("cfn-lint (one process)", [tool("cfn-lint"), "-f", "json", "--", *map(str, templates)]),
        }
        single = {
            "ecsctl": Run("ecsctl, 1 file", [tool("ecsctl"), "validate", str(corpus / one.name), "-o", "json"]),
            "cjs": Run("check-jsonschema, 1 file", [tool("check-jsonschema"), "--schemafile", str(spec_schema), "-o", "JSON",
                                                    str(corpus / one.name)]),
            "cfn": Run("cfn-lint, 1 file", [tool("cfn-lint"), "-f", "json", "--", str(one_tpl)]),
        }
        interleave(list(runs.values()), repeat)
        interleave(list(single.values()), repeat)
        sizes = catalogue_sizes()

    found = {"ecsctl": ecsctl_findings(runs["ecsctl"]), "cjs": cjs_findings(runs["cjs"]), "cfn": cfn_findings(runs["cfn"])}
    e = runs["ecsctl"]
    names = {"ecsctl": "ecsctl validate", "cjs": "check-jsonschema", "cfn": "cfn-lint"}
    checks = {
        "ecsctl": f"{sizes['ecsctl'] if sizes['ecsctl'] is not None else '?'} rules in catalogue + E0xxx/E1xxx envelope & schema",
        "cjs": "JSON Schema only (no rule IDs; keyword families shown)",
        "cfn": f"{sizes['cfn-lint']} rules ({sizes['cfn-lint-ecs']} ECS-specific)",
    }

    lines = [
        f"**Corpus vs peers** — {len(files)} real task definitions ({len(templates)} wrapped as CloudFormation, "
        f"{len(skipped)} not convertible), best / median of {repeat} runs, measured side by side. {machine_line(info)}",
        "",
        "| tool | wall best | wall median | ecsctl ÷ tool (best) | findings | errors | files failing | distinct rule IDs emitted | what it checks |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, run in runs.items():
        f = found[key]
        if f["ok"]:
            cells = [str(f["findings"]), str(f["errors"]), f"{f['files_failing']}/{len(files)}", str(len(f["rules"]))]
        else:
            cells = ["—", "—", "—", f"failed: {f['note'][:60]}"]
        lines.append(f"| {names[key]} | {ms(run.best)} | {ms(run.median)} | {ratio(e.best, run.best)} | " + " | ".join(cells)
                     + f" | {checks[key]} |")
    lines += ["", "One invocation on one file (what a pre-commit hook or per-file CI loop pays):", "",
              "| tool | 1 file best | 1 file median | ecsctl ÷ tool | × corpus files (est. per-file loop) |", "|---|---|---|---|---|"]
    es = single["ecsctl"]
    for key, run in single.items():
        lines.append(f"| {names[key]} | {ms(run.best)} | {ms(run.median)} | {ratio(es.best, run.best)} | {ms(run.best * len(files))} |")
    notes = []
    if placeholder:
        notes.append("measured while `schemas/*.json` were placeholders (`{\"type\": \"object\"}`): check-jsonschema and ecsctl's schema step check next to nothing")
    if found["ecsctl"]["ok"] and not any(r[:2] in ("E2", "E3", "E4", "E5", "E6", "W7") for r in found["ecsctl"]["rules"]) and not sizes["ecsctl"]:
        notes.append("no semantic rules registered yet (empty `ecsctl/core/rules/**`)")
    if not found["ecsctl"]["ok"]:
        notes.append(f"ecsctl failed in this run: `{found['ecsctl']['note'][:120]}`")
    if notes:
        lines += ["", "Notes: " + "; ".join(notes) + "."]
    for key in ("ecsctl", "cjs", "cfn"):
        f = found[key]
        if f["ok"] and f["rules"]:
            top = ", ".join(f"{r}×{n}" for r, n in f["rules"].most_common(None if args.show_rules else 12))
            lines.append(f"- {names[key]} emitted: {top}")
    print_block("corpus", lines)


if __name__ == "__main__":
    main()
