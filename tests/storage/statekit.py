"""What the state-file tests share: the CLI, a raw connection, and an applied example state
that each test damages a copy of."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecsctl.cli.app import app as root

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


def cli(*args: str):
    return CliRunner().invoke(root, list(args))


def raw(path: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(path, isolation_level=None))


@pytest.fixture(scope="module")
def applied(tmp_path_factory) -> Path:
    """A state made by applying the example stack, copied by the tests that damage it."""
    path = tmp_path_factory.mktemp("applied") / "state.db"
    assert cli("apply", "-f", str(MANIFESTS), "--state", str(path), "--auto-approve").exit_code == 0
    with raw(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def copy_of(applied: Path, tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    path.write_bytes(applied.read_bytes())
    return path
