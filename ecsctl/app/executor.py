"""Running a plan's step DAG against a backend: independent steps concurrently, failures contained.

``execute(steps, backend, parallelism=N, on_step=...)`` runs every step once its
``depends_on`` steps have succeeded, and answers an :class:`Execution` that says, for every
step, whether it was ``done``, ``failed`` (with the error's one line) or ``skipped`` (with the
failed step it waited for). A failure never stops independent branches; it only skips what
depends on it, transitively. Nothing is raised for a failed step: the caller reports the
execution once (``Execution.report()``), with what was and was not done.

Backends (backend-neutral; both the local simulation and AWS fit):

* a backend with ``perform(step) -> outcome`` and ``commit(step, outcome)`` runs
  ``perform`` — the slow, remote part — on up to ``parallelism`` worker threads, and every
  ``commit`` — the state write, one transaction per step — on the calling thread, in the
  order steps finish (a SQLite connection belongs to the thread that opened it);
* any other backend gets ``apply_step(step)`` on the calling thread, one step at a time, in
  plan order (the local simulation is not thread-safe and its steps take milliseconds).

A failing ``commit`` means the state cannot be written: nothing new is started, the steps
already running are waited for, and those are reported as done in the backend but not
recorded, so that the next plan can show them.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol

from ecsctl.core.plan.model import Step
from ecsctl.errors import EcsctlError


class SteppingBackend(Protocol):
    def apply_step(self, step: Step) -> object: ...


@dataclass(frozen=True, slots=True)
class StepResult:
    step: Step
    status: str  # done | failed | skipped | unrecorded
    detail: str = ""  # what was done, or the error, or the failed step waited for


@dataclass
class Execution:
    results: list[StepResult] = field(default_factory=list)

    def _with(self, status: str) -> list[StepResult]:
        return [r for r in self.results if r.status == status]

    @property
    def done(self) -> list[StepResult]:
        return self._with("done")

    @property
    def failed(self) -> list[StepResult]:
        return self._with("failed")

    @property
    def skipped(self) -> list[StepResult]:
        return self._with("skipped")

    @property
    def unrecorded(self) -> list[StepResult]:
        return self._with("unrecorded")

    @property
    def ok(self) -> bool:
        return not (self.failed or self.skipped or self.unrecorded)

    def report(self) -> str:
        """Several lines: what failed and why, what was not done, what was done."""
        total = len(self.results)
        lines = [f"{len(self.done)} of {total} step(s) applied; {len(self.failed)} failed, {len(self.skipped)} not attempted."]
        for r in self.failed:
            lines.append(f"  failed: {r.step.id}: {r.detail}")
        for r in self.unrecorded:
            lines.append(f"  done but NOT recorded in the state: {r.step.id} ({r.detail})")
        for r in self.skipped:
            lines.append(f"  not done: {r.step.id} (waits for {r.detail})")
        for r in self.done:
            lines.append(f"  done: {r.step.id}" + (f" ({r.detail})" if r.detail else ""))
        return "\n".join(lines) + "\n"


def _describe(outcome: object) -> str:
    did = getattr(outcome, "did", None)
    if did is not None:
        return "; ".join(did) if did else "nothing to change"
    return ""


def _message(exc: BaseException) -> str:
    if isinstance(exc, EcsctlError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def execute(steps: Iterable[Step], backend: SteppingBackend, *, parallelism: int | None = None,
            on_step: Callable[[StepResult, int, int], None] | None = None) -> Execution:
    """Run ``steps`` (in plan order) against ``backend``; see the module docstring."""
    steps = list(steps)
    if parallelism is None:
        parallelism = int(getattr(backend, "parallelism", 1) or 1)
    two_phase = callable(getattr(backend, "perform", None)) and callable(getattr(backend, "commit", None))
    if two_phase and parallelism > 1:
        return _concurrent(steps, backend, parallelism, on_step)
    return _serial(steps, backend, two_phase, on_step)


class _Book:
    """Who is done, failed or skipped, and what each waiting step is blocked by."""

    def __init__(self, steps: list[Step], on_step) -> None:
        self.steps = steps
        self.ids = {s.id for s in steps}
        self.results: dict[str, StepResult] = {}
        self.root: dict[str, str] = {}  # failed or skipped step -> the failed step at the root
        self.on_step = on_step

    def record(self, result: StepResult) -> None:
        self.results[result.step.id] = result
        if self.on_step:
            self.on_step(result, len(self.results), len(self.steps))

    def blocker(self, step: Step) -> str | None:
        """The failed step at the root of a failed or skipped dependency, if any."""
        for dep in step.depends_on:
            r = self.results.get(dep)
            if r is not None and r.status != "done":
                return self.root.get(dep, dep)
        return None

    def fail(self, step: Step, message: str) -> None:
        self.root[step.id] = step.id
        self.record(StepResult(step, "failed", message))

    def skip(self, step: Step, cause: str) -> None:
        self.root[step.id] = cause
        self.record(StepResult(step, "skipped", cause))

    def execution(self) -> Execution:
        return Execution([self.results[s.id] for s in self.steps if s.id in self.results])


def _serial(steps: list[Step], backend, two_phase: bool, on_step) -> Execution:
    book = _Book(steps, on_step)
    broken: str | None = None
    for step in steps:
        cause = book.blocker(step)
        if broken is not None:
            book.skip(step, broken)
            continue
        if cause is not None:
            book.skip(step, cause)
            continue
        try:
            outcome = backend.perform(step) if two_phase else backend.apply_step(step)
        except Exception as exc:  # one step's failure must not hide what the others did
            book.fail(step, _message(exc))
            continue
        if two_phase:
            try:
                backend.commit(step, outcome)
            except Exception as exc:
                book.record(StepResult(step, "unrecorded", _message(exc)))
                broken = step.id
                continue
        book.record(StepResult(step, "done", _describe(outcome)))
    return book.execution()


def _concurrent(steps: list[Step], backend, parallelism: int, on_step) -> Execution:
    book = _Book(steps, on_step)
    waiting = list(steps)
    running: dict[Future, Step] = {}
    broken: str | None = None
    with ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="ecsctl-step") as pool:
        while waiting or running:
            # start what can start (plan order among the ready ones), skip what cannot ever run
            progressed = True
            while progressed:
                progressed = False
                for step in list(waiting):
                    if broken is not None:
                        waiting.remove(step)
                        book.skip(step, broken)
                        progressed = True
                        continue
                    cause = book.blocker(step)
                    if cause is not None:
                        waiting.remove(step)
                        book.skip(step, cause)
                        progressed = True
                        continue
                    pending = [d for d in step.depends_on if d in book.ids and d not in book.results]
                    if not pending and len(running) < parallelism:
                        waiting.remove(step)
                        running[pool.submit(backend.perform, step)] = step
            if not running:
                if waiting:  # a dependency outside the steps that never finishes: cannot happen
                    for step in waiting:
                        book.skip(step, ", ".join(step.depends_on))
                    waiting.clear()
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: steps.index(running[f])):
                step = running.pop(future)
                exc = future.exception()
                if exc is not None:
                    book.fail(step, _message(exc))
                    continue
                outcome = future.result()
                if broken is not None:
                    book.record(StepResult(step, "unrecorded", f"the state could not be written after {broken}"))
                    continue
                try:
                    backend.commit(step, outcome)
                except Exception as exc:
                    book.record(StepResult(step, "unrecorded", _message(exc)))
                    broken = step.id
                    continue
                book.record(StepResult(step, "done", _describe(outcome)))
    return book.execution()
