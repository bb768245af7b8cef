"""Helpers shared by the benchmarks: executables, timing, machine facts, markdown.

Not part of ecsctl; nothing here is imported by the package or the tests.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DEFAULT_CORPUS = Path("/work/shared/corpus/taskdefs/real")


def tool(name: str) -> str:
    """The console script next to this interpreter (skips pyenv/asdf shims, which add ~50 ms per call)."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is not installed: pip install -e '.[bench]'")
    return found


def machine() -> dict:
    def version(name: str) -> str:
        try:
            out = subprocess.run([tool(name), "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
            return out.splitlines()[0] if out else "?"
        except (Exception, SystemExit):  # noqa: BLE001 - a missing peer only blanks its version
            return "not installed"

    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "ecsctl": version("ecsctl"),
        "check-jsonschema": version("check-jsonschema"),
        "cfn-lint": version("cfn-lint"),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def machine_line(info: dict | None = None) -> str:
    m = info or machine()
    return (f"Machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, {m['platform']}; "
            f"{m['ecsctl']}, check-jsonschema {m['check-jsonschema'].split()[-1]}, {m['cfn-lint']}")


@dataclass
class Run:
    """Repeated wall-clock timings of one command, plus the last run's output."""

    label: str
    cmd: list[str]
    times: list[float] = field(default_factory=list)
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def once(self, cwd=None, env=None) -> None:
        start = time.perf_counter()
        proc = subprocess.run(self.cmd, capture_output=True, text=True, cwd=cwd, env=env)
        self.times.append(time.perf_counter() - start)
        self.returncode, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr


def interleave(runs: list[Run], repeat: int, warmup: int = 1, **kw) -> None:
    """Run every command ``repeat`` times, round-robin, so machine noise hits them all alike."""
    for _ in range(warmup):
        for r in runs:
            r.once(**kw)
        for r in runs:
            r.times.clear()
    for _ in range(repeat):
        for r in runs:
            r.once(**kw)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "n/a"


def pin_one_core() -> str:
    """Pin this process to one CPU so 'per core' figures mean what they say."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
        return f"pinned to CPU {cpus[-1]}"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)"


def ecsctl_broken(stderr: str) -> bool:
    return "internal error" in stderr or "Traceback" in stderr


def print_block(name: str, lines: list[str]) -> None:
    """A markdown block between markers, for run_all.py and for pasting into bench/README.md."""
    print(f"\n<!-- bench:{name}:begin -->")
    print("\n".join(lines))
    print(f"<!-- bench:{name}:end -->")
