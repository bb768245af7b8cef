"""Helpers and fixtures for the ``ecsctl view`` tests: the CLI in-process, ``get`` as JSON,
the example stack and its stalled variant, headless Chromium.

The fixtures live here rather than in a ``tests/view/conftest.py``: a second ``conftest``
module would take the name ``conftest`` that ``tests/aws`` imports its helpers by.  Each test
module imports the fixtures it uses; the states are built once per session all the same
(``_once``).  Chromium is Debian's ``chromium`` package (``.ci/run`` installs it); where it is
missing the tests that need it skip, saying so.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ecsctl.cli.app import app

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0", "--hide-scrollbars", "--force-device-scale-factor=1"]


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def get(state: Path, kind: str) -> list[dict]:
    return json.loads(cli("get", kind, "--state", str(state), "-o", "json"))



def redeployed_worker(manifests: Path, minimumHealthyPercent: int, maximumPercent: int, **container) -> Path:
    """A copy of the example stack in ``manifests`` whose worker is redeployed: its main
    container on image tag 2.7.0 (which the Repository holds) with ``container``'s fields, and
    the service's deployment bounds as given."""
    shutil.copytree(MANIFESTS, manifests)
    worker = manifests / "worker.yaml"
    docs = list(yaml.safe_load_all(worker.read_text(encoding="utf-8")))
    for doc in docs:
        if doc["kind"] == "TaskDefinition":
            main = doc["spec"]["containerDefinitions"][0]
            main.update(image=main["image"].rsplit(":", 1)[0] + ":2.7.0", **container)
        if doc["kind"] == "Service":
            doc["spec"]["deploymentConfiguration"].update(minimumHealthyPercent=minimumHealthyPercent, maximumPercent=maximumPercent)
    worker.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return manifests


@dataclass
class Stalled:
    state: Path
    manifests: Path
    drained: str
    stopped: str


def make_stalled(root: Path, example_state: Path | None = None) -> Stalled:
    """In ``root``: the example stack (a copy of ``example_state``, or applied afresh) with two
    of its idle instances out of service (one drained, one stopped), and manifests that
    redeploy the worker as 7 GiB tasks at min 100 %, max 150 %: the plan's deployment of
    service/prod/worker stalls on RESOURCE:MEMORY after three steps."""
    state = root / "state.db"
    if example_state is not None:
        shutil.copy(example_state, state)
    else:
        cli("apply", "-f", str(MANIFESTS), "--auto-approve", "--state", str(state))
    idle = [i["id"] for i in get(state, "instances") if i["runningTasksCount"] == 0]
    drained, stopped = idle[-1], idle[-2]
    cli("instances", "drain", drained, "--state", str(state))
    cli("instances", "stop", stopped, "--state", str(state))
    manifests = redeployed_worker(root / "manifests", minimumHealthyPercent=100, maximumPercent=150,
                                  memory=7200, memoryReservation=7000)
    return Stalled(state, manifests, drained, stopped)


class Chromium:
    def __init__(self, binary: str) -> None:
        self.binary = binary

    def _run(self, url: str, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory(prefix="ecsctl-chromium-") as profile:
            proc = subprocess.run([self.binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
                                  capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, proc.stderr[-2000:]
        errors = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
        assert not errors, "the page logged to the console:\n" + "\n".join(errors)
        return proc

    def dom(self, url: str, *extra: str) -> str:
        """The DOM after the page's scripts ran (``--dump-dom``), without the script elements
        themselves (their code and data would match any text looked for)."""
        return re.sub(r"<script\b.*?</script>", "", self._run(url, "--dump-dom", *extra).stdout, flags=re.S)

    def screenshot(self, url: str, out: Path, size: str = "1400,1100") -> Path:
        self._run(url, f"--screenshot={out}", f"--window-size={size}")
        assert out.exists(), "no screenshot written"
        return out


# ---------------------------------------------------------------------------------------------
# Fixtures (imported by the test modules)

_built: dict[str, object] = {}


def _once(name: str, build):
    if name not in _built:
        _built[name] = build()
    return _built[name]


@pytest.fixture
def example_state(tmp_path_factory) -> Path:
    """The example stack (``manifests/``) applied to a fresh state; treat it as read-only."""
    def build() -> Path:
        state = tmp_path_factory.mktemp("example") / "state.db"
        cli("apply", "-f", str(MANIFESTS), "--auto-approve", "--state", str(state))
        return state

    return _once("example", build)


@pytest.fixture
def stalled(tmp_path_factory, example_state) -> Stalled:
    """The example stack with two idle instances out of service and a plan whose deployment of
    service/prod/worker stalls on RESOURCE:MEMORY (see ``make_stalled``)."""
    return _once("stalled", lambda: make_stalled(tmp_path_factory.mktemp("stalled"), example_state))


@pytest.fixture
def chromium() -> Chromium:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it): "
                    "the page is not rendered in a browser")
    return Chromium(binary)
