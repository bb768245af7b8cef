"""Fixtures for ``ecsctl view``: the example stack applied to a temp state, a plan of it whose
rolling deployment stalls, and headless Chromium to render pages in.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it); where it is missing the
tests that need it skip, saying so.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.view.viewkit import MANIFESTS, Chromium, cli, get


@pytest.fixture(scope="session")
def example_state(tmp_path_factory) -> Path:
    """The example stack (``manifests/``) applied to a fresh state; treat it as read-only."""
    state = tmp_path_factory.mktemp("example") / "state.db"
    cli("apply", "-f", str(MANIFESTS), "--auto-approve", "--state", str(state))
    return state


@dataclass
class Stalled:
    state: Path
    manifests: Path
    drained: str
    stopped: str


@pytest.fixture(scope="session")
def stalled(tmp_path_factory, example_state) -> Stalled:
    """The example stack with two of its idle instances out of service (one drained, one
    stopped) and manifests that redeploy the worker with 7 GiB tasks at min 100 %, max 150 %:
    the plan's deployment of service/prod/worker stalls on RESOURCE:MEMORY."""
    root = tmp_path_factory.mktemp("stalled")
    state = root / "state.db"
    shutil.copy(example_state, state)
    idle = [i["id"] for i in get(state, "instances") if i["runningTasksCount"] == 0]
    drained, stopped = idle[-1], idle[-2]
    cli("instances", "drain", drained, "--state", str(state))
    cli("instances", "stop", stopped, "--state", str(state))
    manifests = root / "manifests"
    shutil.copytree(MANIFESTS, manifests)
    worker = manifests / "worker.yaml"
    docs = list(yaml.safe_load_all(worker.read_text(encoding="utf-8")))
    for doc in docs:
        if doc["kind"] == "TaskDefinition":
            main = doc["spec"]["containerDefinitions"][0]
            main.update(image=main["image"].rsplit(":", 1)[0] + ":2.7.0", memory=7200, memoryReservation=7000)
        if doc["kind"] == "Service":
            doc["spec"]["deploymentConfiguration"].update(minimumHealthyPercent=100, maximumPercent=150)
    worker.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return Stalled(state, manifests, drained, stopped)


# ---------------------------------------------------------------------------------------------
# Headless Chromium


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it): "
                    "the page is not rendered in a browser")
    return Chromium(binary)
