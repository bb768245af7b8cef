"""kill -9 at every commit of apply, of rolling deployments and of ticks; then verify, re-apply, plan.

The moments are chosen from the state's own step log, its serial (every committed step or
scheduler round is one serial): ``ECSCTL_CRASH_AT=after:S`` makes the process SIGKILL itself
right after committing serial S, ``before:S`` inside the transaction that would commit it
(see ``ecsctl.storage.sqlite_store._crash_point``). Nothing sleeps. The killed command runs in a
forked child of this process (the same code, without paying Python's start-up per kill); one
test runs real ``ecsctl`` processes with the environment variable, as a user would see it.

After every kill:

* ``state verify`` finds nothing wrong, and the state holds exactly the serials committed
  before the kill (S after, S-1 before: the serial never goes back, nothing committed is lost);
* a re-apply of the same manifests succeeds and leaves every service on the revision its
  manifest asks, running its desired count; ``state verify`` again finds nothing;
* the next plan is empty (in particular a kill between a rolling deployment's task-definition
  step and its service step must plan the service's update, not "No changes").
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pytest
import typer.main
import typer.testing
import yaml
from typer.testing import CliRunner

from ecsctl.app.destroy import make_destroy_plan
from ecsctl.app.plan import make_plan, read_manifests
from ecsctl.app.state import verify
from ecsctl.cli.app import app as root
from ecsctl.core.state.ports import Service, Task
from ecsctl.storage import sqlite_store
from ecsctl.storage.sqlite_store import SqliteStateStore
from tests.stackgen import stack, write_stack

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the killed commands run in forked children")

SMALL = dict(groups=2, per_group=2, services=4, max_desired=3)
SEEDS = (3, 11, 29)


_COMMAND = typer.main.get_command(root)  # built once: Typer takes 0.1 s to build it per invoke


def invoke(args: list[str]):
    with mock.patch.object(typer.testing, "_get_command", lambda app: _COMMAND):
        return CliRunner().invoke(root, args)


def cli(*args: str):
    return invoke([*args])


@pytest.fixture
def tmp_path():
    """On tmpfs where there is one: SIGKILL needs no fsync to keep what was committed (the page
    cache outlives the process), and hundreds of applies' fsyncs would dominate the test's time."""
    shm = Path("/dev/shm")
    directory = Path(tempfile.mkdtemp(prefix="ecsctl-crash-", dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def killed(args: list[str], when: str, serial: int) -> int:
    """Run ``ecsctl ARGS`` in a forked child that SIGKILLs itself at ``when:serial``; its signal
    (or ``-exit code`` if it ended before reaching that serial)."""
    gc.freeze()  # the child's copy of this heap stays shared: the collector does not touch it
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            gc.disable()
            sqlite_store._CRASH_POINT = (when, serial)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            invoke(args)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    gc.unfreeze()
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status)


def serial_of(state: Path) -> int:
    if not state.exists():
        return 0
    with SqliteStateStore(state, create=False) as store:
        return store.meta().serial


def copy_state(source: Path, target: Path) -> Path:
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    if source.exists():
        target.write_bytes(source.read_bytes())
    return target


def checkpoint(state: Path) -> None:
    """Fold the WAL into the file, so that copying the file copies the whole state."""
    with SqliteStateStore(state, create=False) as store:
        store._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")


def assert_converged(directory: Path, state: Path) -> None:
    report = verify(str(state))
    assert report["problems"] == []
    with SqliteStateStore(state, create=False) as store:
        plan = make_plan(read_manifests([str(directory)]), store)
        assert not plan.has_changes, [(c.address, c.action) for c in plan.changes if c.action != "no-op"]
        running: dict[tuple[str, str], int] = {}
        for task in store.find(Task, last_status="RUNNING"):
            if task.service:
                assert task.task_definition == store.get(Service, task.cluster, task.service).task_definition
                running[(task.cluster, task.service)] = running.get((task.cluster, task.service), 0) + 1
        for service in store.find(Service, status="ACTIVE"):
            assert running.get((service.cluster, service.name), 0) == service.desired_count, service.name


def kill_at_every_commit(directory: Path, base: Path, work: Path, args: list[str], *,
                         after_kill=None, redo: list[str] | None = None, converged=assert_converged) -> int:
    """Run ``args`` from the ``base`` state once to count its commits, then from ``base`` again
    killed after and before each of them; check each kill (module docstring). Returns the kills."""
    start = serial_of(base)
    copy_state(base, work)
    full = cli(*args, "--state", str(work))
    assert full.exit_code == 0, full.output
    end = serial_of(work)
    assert end > start
    kills = 0
    for serial in range(start + 1, end + 1):
        for when in ("after", "before"):
            copy_state(base, work)
            assert killed([*args, "--state", str(work)], when, serial) == signal.SIGKILL
            kills += 1
            report = verify(str(work))
            assert report["problems"] == [], (when, serial)
            assert serial_of(work) == (serial if when == "after" else serial - 1), (when, serial)
            if after_kill is not None:
                after_kill(work, when, serial)
            result = cli(*(redo or ["apply", "-f", str(directory), "--auto-approve"]), "--state", str(work))
            assert result.exit_code == 0, (when, serial, result.output)
            converged(directory, work)
    return kills


def _bump_images(docs: list[dict]) -> list[dict]:
    """A new revision of every task definition, so every service rolls (start the new tasks,
    then stop the old: two scheduler rounds with the default 100/200 percents)."""
    out = yaml.safe_load(yaml.safe_dump(docs))
    for d in out:
        if d["kind"] == "TaskDefinition":
            for c in d["spec"]["containerDefinitions"]:
                c["image"] = c["image"].rsplit(":", 1)[0] + ":2.0"
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_at_every_commit_of_a_first_apply(tmp_path: Path, seed: int) -> None:
    directory = write_stack(tmp_path / "m", stack(seed=seed, **SMALL))
    kills = kill_at_every_commit(directory, tmp_path / "empty.db", tmp_path / "state.db",
                                 ["apply", "-f", str(directory), "--auto-approve"])
    print(f"first apply, seed {seed}: {kills} kills survived")
    assert kills >= 16


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_at_every_commit_of_a_rolling_deployment(tmp_path: Path, seed: int) -> None:
    docs = stack(seed=seed, **SMALL)
    v1 = write_stack(tmp_path / "v1", docs)
    base = tmp_path / "base.db"
    assert cli("apply", "-f", str(v1), "--state", str(base), "--auto-approve").exit_code == 0
    checkpoint(base)
    v2 = write_stack(tmp_path / "v2", _bump_images(docs))
    between: list[int] = []

    def between_steps(state: Path, when: str, serial: int) -> None:
        """Where a task definition has its new revision but its service is still on the old
        one, the plan must say so (and apply then deploys it): never "No changes"."""
        with SqliteStateStore(state, create=False) as store:
            latest = store.latest_revisions()
            behind = [s for s in store.find(Service, status="ACTIVE")
                      if s.task_definition != f"{s.name}:{latest[s.name]}"]
            if not behind:
                return
            plan = make_plan(read_manifests([str(v2)]), store)
            updating = {c.address for c in plan.changes if c.action != "no-op"}
            assert {f"service/{s.cluster}/{s.name}" for s in behind} <= updating, (when, serial, updating)
            between.append(serial)

    kills = kill_at_every_commit(v2, base, tmp_path / "state.db", ["apply", "-f", str(v2), "--auto-approve"],
                                 after_kill=between_steps)
    print(f"rolling deployment, seed {seed}: {kills} kills survived, {len(between)} between a task definition and its service")
    assert kills >= 16 and between  # some kills did land between a task definition and its service


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_at_every_commit_of_a_tick(tmp_path: Path, seed: int) -> None:
    """A tick that has work: tasks stopped by hand and a deployment the last apply did not
    get to (killed right after its service step), which the tick's scheduler goes on with."""
    docs = stack(seed=seed, **SMALL)
    v1 = write_stack(tmp_path / "v1", docs)
    base = tmp_path / "base.db"
    assert cli("apply", "-f", str(v1), "--state", str(base), "--auto-approve").exit_code == 0
    v2 = write_stack(tmp_path / "v2", _bump_images(docs))
    start = serial_of(base)
    assert killed(["apply", "-f", str(v2), "--auto-approve", "--state", str(base)], "after",
                  start + len([d for d in docs if d["kind"] in ("TaskDefinition", "Service")])) == signal.SIGKILL
    with SqliteStateStore(base, create=False) as store:
        running = [t.id for t in store.find(Task, last_status="RUNNING")][:3]
    for task in running:
        assert cli("stop-task", task, "--state", str(base)).exit_code == 0
    checkpoint(base)
    kills = kill_at_every_commit(v2, base, tmp_path / "state.db", ["tick", "5m"])
    print(f"tick, seed {seed}: {kills} kills survived")
    assert kills >= 2


def test_kill_at_every_commit_of_a_destroy(tmp_path: Path) -> None:
    directory = write_stack(tmp_path / "m", stack(seed=7, **SMALL))
    base = tmp_path / "base.db"
    assert cli("apply", "-f", str(directory), "--state", str(base), "--auto-approve").exit_code == 0
    checkpoint(base)
    destroy = ["destroy", "-f", str(directory), "--auto-approve"]

    def gone(directory: Path, state: Path) -> None:
        assert verify(str(state))["problems"] == []
        with SqliteStateStore(state, create=False) as store:
            assert store.resources() == [] and store.find(Service, status="ACTIVE") == []
            assert not make_destroy_plan(read_manifests([str(directory)]), store).has_changes

    kills = kill_at_every_commit(directory, base, tmp_path / "state.db", destroy, redo=destroy, converged=gone)
    print(f"destroy: {kills} kills survived")
    assert kills >= 10


def test_real_processes_killed_by_the_environment_variable(tmp_path: Path) -> None:
    """The same, through ``ecsctl`` processes and ``ECSCTL_CRASH_AT``, as CI would see it."""
    directory = write_stack(tmp_path / "m", stack(seed=5, **SMALL))
    state = tmp_path / "state.db"
    for serial in (3, 9):
        env = dict(os.environ, NO_COLOR="1", ECSCTL_CRASH_AT=f"after:{serial}")
        proc = subprocess.run([sys.executable, "-m", "ecsctl", "apply", "-f", str(directory), "--state", str(state),
                               "--auto-approve"], capture_output=True, env=env, timeout=120)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
        assert serial_of(state) == serial
        check = subprocess.run([sys.executable, "-m", "ecsctl", "state", "verify", "--state", str(state)],
                               capture_output=True, text=True, timeout=120)
        assert check.returncode == 0 and check.stdout.startswith("OK: "), check.stdout + check.stderr
    final = subprocess.run([sys.executable, "-m", "ecsctl", "apply", "-f", str(directory), "--state", str(state),
                            "--auto-approve"], capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    assert_converged(directory, state)
