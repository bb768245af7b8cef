"""Start-up cost: what one ``ecsctl`` invocation pays before and while validating a small file.

    python bench/startup.py [--quick] [--repeat N] [--file PATH]

(a) ``ecsctl --version`` vs ``python -c "import yaml, json"`` (the floor; target: within 2.5×);
(b) ``ecsctl validate FILE`` vs ``check-jsonschema --schemafile <exported spec schema> FILE``
    (target: ecsctl faster), FILE being the smallest bare task definition of the corpus;
(c) the modules ``ecsctl validate`` imports (``-X importtime``): top-level packages, the ten
    most expensive imports, and a check that networkx, deepdiff, rich and boto3 stay out.

All commands run as subprocesses, round-robin, min and median of N (default 20).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, Run, ecsctl_broken, interleave, machine, machine_line, ms, print_block, ratio, tool  # noqa: E402

FORBIDDEN = ("networkx", "deepdiff", "rich", "boto3", "botocore")


def smallest_bare_taskdef(corpus: Path) -> Path:
    for path in sorted(corpus.glob("*.json"), key=lambda p: p.stat().st_size):
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except ValueError:
            continue
        if isinstance(data, dict) and "containerDefinitions" in data and "family" in data:
            return path
    raise SystemExit(f"no bare task definition in {corpus}")


def importtime(cmd: list[str]) -> list[tuple[int, int, int, str]]:
    """(self µs, cumulative µs, depth, module) for every import the command makes."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *cmd], capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        body = line[len("import time:"):]
        self_us, cum_us, name = body.split("|", 2)
        depth = (len(name) - len(name.lstrip())) // 2
        rows.append((int(self_us), int(cum_us), depth, name.strip()))
    return rows


def modules_of_cli(path: Path) -> list[str]:
    """``sys.modules`` at exit of ``ecsctl validate PATH`` (the real entry point, in a fresh interpreter)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "modules.json"
        code = ("import sys, json, atexit\n"
                f"atexit.register(lambda: open({str(out)!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
                f"sys.argv = ['ecsctl', 'validate', {str(path)!r}, '--no-color']\n"
                "from ecsctl.cli import main\nmain()")
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        return json.loads(out.read_text()) if out.exists() else []


def modules_after_validate(path: Path) -> list[str]:
    """``sys.modules`` after an in-process ``Validator().validate`` (in a fresh interpreter)."""
    code = ("import sys, json\nfrom ecsctl.app.validate import Validator, discover\n"
            f"Validator().validate(discover([{str(path)!r}]))\n"
            "print(json.dumps(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="7 repetitions")
    ap.add_argument("--repeat", type=int, default=None, help="runs per command (default 20, quick 7)")
    ap.add_argument("--file", type=Path, default=None, help="the small file for (b); default: smallest bare corpus task definition")
    args = ap.parse_args()
    repeat = args.repeat or (7 if args.quick else 20)
    small = args.file or smallest_bare_taskdef(DEFAULT_CORPUS)
    info = machine()
    print(machine_line(info))
    print(f"small file: {small} ({small.stat().st_size} bytes); {repeat} runs per command, round-robin\n")

    ecsctl = tool("ecsctl")
    with tempfile.TemporaryDirectory(prefix="ecsctl-bench-") as tmp:
        schemas = Path(tmp) / "schemas"
        Run("export", [ecsctl, "schema", "export", str(schemas)]).once()
        version = [Run("ecsctl --version", [ecsctl, "--version"]),
                   Run('python -c "import yaml, json"', [sys.executable, "-c", "import yaml, json"]),
                   Run("python -c pass", [sys.executable, "-c", "pass"])]
        validate = [Run("ecsctl validate FILE", [ecsctl, "validate", str(small), "--no-color"]),
                    Run("check-jsonschema --schemafile", [tool("check-jsonschema"), "--schemafile",
                                                          str(schemas / "TaskDefinition.json"), str(small)]),
                    Run("python -m ecsctl validate FILE", [sys.executable, "-m", "ecsctl", "validate", str(small), "--no-color"])]
        interleave(version + validate, repeat)

    imports = importtime([ecsctl, "validate", str(small), "--no-color"])
    after = modules_after_validate(small)
    cli_modules = modules_of_cli(small)

    v, floor, bare = version
    ev, cjs, _ = validate
    lines = [f"**Start-up** — {repeat} runs each, round-robin, min / median; small file `{small.name}` "
             f"({small.stat().st_size} bytes). {machine_line(info)}", "",
             "| command | min | median | ratio (min) | target |", "|---|---|---|---|---|",
             f"| {v.label} | {ms(v.best)} | {ms(v.median)} | {ratio(v.best, floor.best)} of import yaml, json | ≤ 2.5× "
             f"{'✓' if v.best <= 2.5 * floor.best else '✗'} |",
             f"| {floor.label} | {ms(floor.best)} | {ms(floor.median)} | 1.00× | floor |",
             f"| {bare.label} | {ms(bare.best)} | {ms(bare.median)} | {ratio(bare.best, floor.best)} | |",
             f"| {ev.label} | {ms(ev.best)} | {ms(ev.median)} | {ratio(ev.best, cjs.best)} of check-jsonschema | < 1× "
             f"{'✓' if ev.best < cjs.best else '✗'} |",
             f"| {cjs.label} | {ms(cjs.best)} | {ms(cjs.median)} | 1.00× | peer |",
             f"| {validate[2].label} | {ms(validate[2].best)} | {ms(validate[2].median)} | {ratio(validate[2].best, cjs.best)} | |"]
    if ecsctl_broken(ev.stderr):
        lines += ["", f"Note: `ecsctl validate` failed in this run: `{ev.stderr.strip().splitlines()[-1][:150]}`"]

    stdlib = set(sys.stdlib_module_names)
    loaded = {m.split(".")[0] for m in cli_modules}
    top = sorted({name.split(".")[0] for _, _, _, name in imports} & loaded if loaded else
                 {name.split(".")[0] for _, _, _, name in imports})
    third = [m for m in top if m not in stdlib and not m.startswith("_")]
    bad = sorted(({m.split(".")[0] for m in after} | loaded | set(third)) & set(FORBIDDEN))
    total_us = sum(s for s, _, _, _ in imports)
    lines += ["", f"Imports of `ecsctl validate FILE` (`-X importtime`): {len(imports)} modules, "
                  f"{total_us / 1000:.0f} ms self time in all; {len(top)} top-level packages, "
                  f"third-party: {', '.join(third) or 'none'}.",
              f"Forbidden on the validate path ({', '.join(FORBIDDEN)}): "
              + (f"**imported: {', '.join(sorted(set(bad)))}** ✗" if bad else "none imported ✓"
                 + (" (checked with -X importtime, sys.modules at exit of the CLI, and sys.modules after Validator().validate)" if after else
                    " (-X importtime only; the in-process check failed)")),
              "", "Ten most expensive imports (cumulative, top-level packages as imported):", "",
              "| package | cumulative | self |", "|---|---|---|"]
    roots = [r for r in imports if r[2] == 0]
    for self_us, cum_us, _, name in sorted(roots, key=lambda r: -r[1])[:10]:
        lines.append(f"| {name} | {cum_us / 1000:.1f} ms | {self_us / 1000:.1f} ms |")
    lines += ["", "Ten most expensive single modules (self time):", "", "| module | self | cumulative |", "|---|---|---|"]
    for self_us, cum_us, _, name in sorted(imports, key=lambda r: -r[0])[:10]:
        lines.append(f"| {name} | {self_us / 1000:.1f} ms | {cum_us / 1000:.1f} ms |")
    lines += ["", f"All top-level modules imported ({len(top)}; stdlib and third-party): {', '.join(top)}"]
    print_block("startup", lines)


if __name__ == "__main__":
    main()
