"""kill -9 during a large apply, many times; re-apply; the state loads and converges.

Invariants after every kill and at the end: the state opens (no corruption),
every RUNNING task sits on a live instance, instance resources equal the sum
of their tasks, and after the final apply every service runs its desired count
and a new plan is empty.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from ecsctl.app.plan import make_plan, read_manifests
from ecsctl.backends.local import check_invariants
from ecsctl.core.state.ports import Service, Task
from ecsctl.storage.sqlite_store import SqliteStateStore
from tests.stackgen import stack, write_stack

KILLS = 6


def _apply(directory: Path, state: Path) -> subprocess.Popen:
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.Popen([sys.executable, "-m", "ecsctl", "apply", "-f", str(directory), "--state", str(state), "--auto-approve"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def _check(state: Path) -> None:
    with SqliteStateStore(state) as store:
        assert check_invariants(store) == []
        lock = store.lock_info()
        if lock is not None:  # the killed apply's lock stays until it is cleared by its ID
            store.force_unlock(lock.id)


def test_kill_minus_nine_during_apply_then_reapply_converges(tmp_path):
    directory = write_stack(tmp_path / "m", stack(seed=7, groups=3, per_group=8, services=150, max_desired=5))
    state = tmp_path / "state.db"
    rng = random.Random(20261124)
    for _ in range(KILLS):
        proc = _apply(directory, state)
        time.sleep(rng.uniform(0.4, 2.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        _check(state)
    final = _apply(directory, state)
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()
    with SqliteStateStore(state) as store:
        assert check_invariants(store) == []
        assert not make_plan(read_manifests([str(directory)]), store).has_changes
        running: dict[tuple[str, str], int] = {}
        for task in store.find(Task, last_status="RUNNING"):
            running[(task.cluster, task.service)] = running.get((task.cluster, task.service), 0) + 1
        for service in store.find(Service, status="ACTIVE"):
            assert running.get((service.cluster, service.name), 0) == service.desired_count, service.name
