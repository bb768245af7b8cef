"""How long a second writer takes to be refused while the lock holder is inside a long transaction.

    python bench/lock_refusal.py [--quick] [--repeat N] [--tree DIR]

A child process opens a state made from ``manifests/``, takes the write lock as ``ecsctl
tick 30m`` would, opens a transaction (so it holds SQLite's write lock too, as a long tick
does) and waits. Meanwhile, round-robin, N times each:

(a) ``ecsctl tick 1m`` against that state: must be refused, naming the holder;
(b) ``ecsctl run-task --cluster prod --task-definition web``: the same;
(c) ``ecsctl apply -f DIR --auto-approve`` on 1,400 generated documents (``throughput.py``'s
    generator; ``--docs``): refused too, the lock being checked before the manifests are read;
(d) ``ecsctl validate DIR`` on the same documents, for scale: what reading them costs;
(e) ``ecsctl --version``: the floor (process start and imports);
(f) in this process: open the store and ``acquire_lock`` (refused), best of N: the refusal
    itself, without the imports of a command.

``--tree DIR`` runs everything with ``PYTHONPATH=DIR`` (another checkout of ecsctl, e.g. the
commit before the lock moved to a file), so old and new can be compared on one machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, Run, interleave, machine, machine_line, ms, print_block, ratio, tool  # noqa: E402

HOLDER = textwrap.dedent(
    """
    import sys
    from ecsctl.core.state import Cluster
    from ecsctl.storage.sqlite_store import SqliteStateStore

    store = SqliteStateStore(sys.argv[1])
    store.acquire_lock("ecsctl tick 30m")
    with store.transaction():
        store.insert(Cluster("held-open", spec={}))
        print("ready", flush=True)
        sys.stdin.readline()
    """
)


def _in_process(state: str, repeat: int, tree: Path | None) -> tuple[float, float, str]:
    code = textwrap.dedent(
        """
        import statistics, sys, time
        from ecsctl.errors import StateError
        from ecsctl.storage.sqlite_store import SqliteStateStore
        times, said = [], ""
        for _ in range(int(sys.argv[2])):
            start = time.perf_counter()
            store = SqliteStateStore(sys.argv[1])
            try:
                store.acquire_lock("ecsctl tick 1m")
            except StateError as exc:
                said = str(exc)
            finally:
                store.close()
            times.append(time.perf_counter() - start)
        print(min(times), statistics.median(times), said.replace(chr(10), " "))
        """
    )
    env = dict(os.environ, **({"PYTHONPATH": str(tree.resolve())} if tree else {}))
    out = subprocess.run([sys.executable, "-c", code, state, str(repeat)], capture_output=True, text=True, env=env).stdout.split(" ", 2)
    return float(out[0]), float(out[1]), out[2].strip().replace("|", "\\|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 10")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--tree", type=Path, default=None, help="run this checkout of ecsctl instead")
    parser.add_argument("--docs", type=int, default=1400, help="documents for the apply -f row (default 1,400)")
    args = parser.parse_args()
    repeat = args.repeat or (3 if args.quick else 10)
    env = dict(os.environ)
    if args.tree:
        env["PYTHONPATH"] = str(args.tree.resolve())
    ecsctl = tool("ecsctl")
    from throughput import generate

    with tempfile.TemporaryDirectory(prefix="ecsctl-lock-") as tmp:
        state = str(Path(tmp) / "state.db")
        big = Path(tmp) / "manifests"
        files, _ = generate(args.docs, 20261124)
        for name, data in files.items():
            (big / name).parent.mkdir(parents=True, exist_ok=True)
            (big / name).write_bytes(data)
        made = subprocess.run([ecsctl, "apply", "-f", str(REPO / "manifests"), "--state", state, "--auto-approve"],
                              capture_output=True, text=True, env=env)
        if made.returncode:
            raise SystemExit(f"cannot make the state: {made.stderr.strip()}")
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, state], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, env=env)
        try:
            if holder.stdout.readline().strip() != "ready":
                raise SystemExit("the holder did not start")
            runs = [
                Run("(a) `ecsctl tick 1m`, refused", [ecsctl, "tick", "1m", "--state", state]),
                Run("(b) `ecsctl run-task …`, refused", [ecsctl, "run-task", "--cluster", "prod", "--task-definition", "web",
                                                       "--state", state]),
                Run(f"(c) `ecsctl apply -f` {args.docs:,} documents, refused",
                    [ecsctl, "apply", "-f", str(big), "--state", state, "--auto-approve"]),
                Run(f"(d) `ecsctl validate` the same {args.docs:,} documents (scale)", [ecsctl, "validate", str(big)]),
                Run("(e) `ecsctl --version` (floor)", [ecsctl, "--version"]),
            ]
            interleave(runs, repeat, env=env)
            in_process = _in_process(state, repeat, args.tree)
        finally:
            holder.kill()
            holder.wait()
    floor = runs[-1].best
    lines = [
        f"A holder inside a long transaction (lock and SQLite write lock held); {repeat} rounds, round-robin"
        + (f"; ecsctl from `{args.tree}`" if args.tree else "") + ".",
        "",
        "| command | best | median | ÷ floor | exit | says |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        said = (r.stderr.strip().splitlines() or [r.stdout.strip()])[-1][:110].replace("|", "\\|")
        lines.append(f"| {r.label} | {ms(r.best)} | {ms(r.median)} | {ratio(r.best, floor)} | {r.returncode} | {said} |")
    lines.append(f"| (f) in-process: open the store + `acquire_lock`, refused | {in_process[0] * 1000:.1f} ms | "
                 f"{in_process[1] * 1000:.1f} ms | | | {in_process[2][:110]} |")
    lines.append("")
    lines.append(machine_line(machine()))
    print_block("lock_refusal", lines)


if __name__ == "__main__":
    main()
