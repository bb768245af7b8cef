"""The DAG executor: independent steps at once, a failure skips only its dependants, one report."""

from __future__ import annotations

import threading

from ecsctl.app.executor import execute
from ecsctl.core.plan.model import Step
from ecsctl.errors import InputError


def step(sid, *deps):
    return Step(id=sid, action="create", address=sid.split(" ", 1)[-1], kind="Cluster", name=sid, spec={}, depends_on=deps)


STEPS = [step("create cluster/a"), step("create cluster/b"), step("create taskdef/x"),
         step("create service/a/s", "create cluster/a", "create taskdef/x"),
         step("create service/b/t", "create cluster/b"),
         step("create scheduledtask/n", "create service/a/s")]


class TwoPhase:
    """perform on worker threads (records the peak of concurrent performs); commit on the caller's thread."""

    def __init__(self, fail=(), commit_fails=(), gate=None):
        self.fail, self.commit_fails, self.gate = set(fail), set(commit_fails), gate
        self.committed, self.commit_threads = [], set()
        self.running = self.peak = 0
        self.lock = threading.Lock()

    def perform(self, s):
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            if self.gate is not None and not s.depends_on:
                self.gate.wait(timeout=10)  # the first steps wait for each other: they must run at once
            if s.id in self.fail:
                raise InputError(f"{s.address}: boom")
            return None
        finally:
            with self.lock:
                self.running -= 1

    def commit(self, s, outcome):
        self.commit_threads.add(threading.get_ident())
        if s.id in self.commit_fails:
            raise InputError("the state cannot be written")
        self.committed.append(s.id)


def test_independent_steps_run_concurrently_and_commits_stay_on_the_callers_thread():
    backend = TwoPhase(gate=threading.Barrier(3))
    execution = execute(STEPS, backend, parallelism=4)
    assert execution.ok and len(execution.done) == 6
    assert backend.peak >= 3  # cluster/a, cluster/b and taskdef/x met at the barrier
    assert backend.commit_threads == {threading.get_ident()}
    order = backend.committed
    assert order.index("create service/a/s") > max(order.index("create cluster/a"), order.index("create taskdef/x"))
    assert order.index("create scheduledtask/n") > order.index("create service/a/s")


def test_a_failure_skips_its_dependants_only_and_is_reported_once():
    execution = execute(STEPS, TwoPhase(fail={"create taskdef/x"}), parallelism=3)
    status = {r.step.id: (r.status, r.detail) for r in execution.results}
    assert status["create taskdef/x"] == ("failed", "taskdef/x: boom")
    assert status["create service/a/s"] == ("skipped", "create taskdef/x")
    assert status["create scheduledtask/n"] == ("skipped", "create taskdef/x")  # the root cause, not the middle
    assert {s for s, (st, _) in status.items() if st == "done"} == {"create cluster/a", "create cluster/b", "create service/b/t"}
    report = execution.report()
    assert report.count("boom") == 1
    assert "3 of 6 step(s) applied; 1 failed, 2 not attempted." in report
    assert "not done: create scheduledtask/n (waits for create taskdef/x)" in report


def test_a_state_that_cannot_be_written_stops_everything_new():
    execution = execute(STEPS, TwoPhase(commit_fails={"create cluster/a"}), parallelism=1)
    status = {r.step.id: r.status for r in execution.results}
    assert status["create cluster/a"] == "unrecorded"
    assert all(v == "skipped" for k, v in status.items() if k != "create cluster/a")
    assert "done but NOT recorded in the state: create cluster/a" in execution.report()


def test_a_one_phase_backend_runs_serially_in_plan_order():
    seen = []

    class Local:
        def apply_step(self, s):
            seen.append((s.id, threading.get_ident()))

    execution = execute(STEPS, Local(), parallelism=8)
    assert execution.ok and [sid for sid, _ in seen] == [s.id for s in STEPS]
    assert {t for _, t in seen} == {threading.get_ident()}
