"""Shared fixtures: manifests written into tmp_path, golden files, the CLI runner.

Golden files live in ``tests/golden/``.  ``UPDATE_GOLDEN=1 pytest`` (or
``pytest --update-golden``) rewrites them from the current output; review the
diff before committing.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

GOLDEN_DIR = Path(__file__).parent / "golden"

MINIMAL_TASKDEF = """\
apiVersion: ecsctl/v1
kind: TaskDefinition
metadata: {name: web}
spec:
  family: web
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: "256"
  memory: "512"
  containerDefinitions:
    - name: web
      image: nginx:1.27
      essential: true
      portMappings: [{containerPort: 80}]
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False, help="rewrite tests/golden/ from the current output")


@pytest.fixture
def write(tmp_path: Path):
    """``write("a.yaml", text)`` puts a dedented file under tmp_path and returns its path."""

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def taskdef_text() -> str:
    """The minimal valid TaskDefinition manifest, as text to vary."""
    return MINIMAL_TASKDEF


@pytest.fixture
def minimal_taskdef(write) -> Path:
    return write("web.yaml", MINIMAL_TASKDEF)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """``golden("name.ext", text)`` compares text with tests/golden/name.ext (or rewrites it)."""
    update = os.environ.get("UPDATE_GOLDEN") == "1" or request.config.getoption("--update-golden")

    def _check(name: str, actual: str) -> None:
        path = GOLDEN_DIR / name
        if update:
            GOLDEN_DIR.mkdir(exist_ok=True)
            path.write_text(actual, encoding="utf-8", newline="\n")
            return
        assert path.is_file(), f"missing golden file {path}; run with UPDATE_GOLDEN=1 to create it"
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"output differs from {path}; run with UPDATE_GOLDEN=1 and review the diff"

    return _check
