"""Run every benchmark, one after the other, and print the markdown for bench/README.md.

    python bench/run_all.py [--quick] [--out FILE]

Each benchmark's full output goes to stderr as it runs; the markdown blocks they print
(between ``<!-- bench:NAME:begin -->`` / ``end`` markers) are collected and printed to
stdout at the end (and written to FILE with ``--out``), under a machine line and a date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DIR, machine_line  # noqa: E402

BENCHMARKS = ["corpus_vs_peers.py", "throughput.py", "startup.py", "state_scale.py", "placement.py",
              "deployments.py", "growth.py", "lock_refusal.py", "scaling.py", "view.py"]
BLOCK = re.compile(r"<!-- bench:(\w+):begin -->\n(.*?)\n<!-- bench:\1:end -->", re.S)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    ap.add_argument("--out", type=Path, help="also write the markdown here")
    args = ap.parse_args()

    blocks, failures = [], []
    for script in BENCHMARKS:
        cmd = [sys.executable, str(BENCH_DIR / script)] + (["--quick"] if args.quick else [])
        print(f"\n=== {' '.join(cmd)}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        took = time.perf_counter() - start
        sys.stderr.write(proc.stdout + proc.stderr)
        print(f"=== {script}: exit {proc.returncode} in {took:.0f} s", file=sys.stderr, flush=True)
        found = BLOCK.findall(proc.stdout)
        if proc.returncode != 0 or not found:
            failures.append(f"{script} (exit {proc.returncode})")
        blocks += [(name, text, script, took) for name, text in found]

    today = dt.date.today().isoformat()
    out = [f"### Results, {today}{' (--quick)' if args.quick else ''}", "", machine_line(), ""]
    for name, text, script, took in blocks:
        out += [f"#### `{script}` ({took:.0f} s)", "", text, ""]
    if failures:
        out += ["Failed: " + ", ".join(failures), ""]
    markdown = "\n".join(out)
    print(markdown)
    if args.out:
        args.out.write_text(markdown + "\n", encoding="utf-8")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
