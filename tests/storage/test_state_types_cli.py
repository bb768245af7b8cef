"""Rows whose values do not have the types of their records, through the CLI: ``state push``
refuses them (one line: collection, row key, field; exit 1; nothing written), ``state verify``
names them, and a row edited in the file with ``sqlite3`` stops ``plan``/``get`` with the
one-line "cannot be read" error (exit 1), never an internal error (exit 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.storage.statekit import MANIFESTS, applied, cli, copy_of, raw  # noqa: F401 - applied: a fixture


def _row(data: dict, collection: str, **key: str) -> dict:
    return next(r for r in data[collection] if all(r[k] == v for k, v in key.items()))


TAMPERED = [  # (what to change in a pulled export, the line push must print)
    ("count-as-text", lambda d: _row(d, "services", cluster="prod", name="web").update(desired_count="abc"),
     "services[{i}] (prod/web): field desired_count: expected an integer, got the text 'abc'"),
    ("count-as-bool", lambda d: _row(d, "services", cluster="prod", name="web").update(desired_count=True),
     "services[{i}] (prod/web): field desired_count: expected an integer, got true"),
    ("spec-null", lambda d: _row(d, "services", cluster="prod", name="web").update(spec=None),
     "services[{i}] (prod/web): field spec: expected an object, got null"),
    ("resource-spec-list", lambda d: _row(d, "resources", address="cluster/prod").update(spec=[1]),
     "resources[{i}] (cluster/prod): field spec: expected an object, got a list"),
    ("ports-of-text", lambda d: d["container_instances"][0].update(reserved_ports=["22"]),
     "container_instances[{i}] ({id}): field reserved_ports: expected a list of integers, got a list holding the text '22'"),
    ("event-time-number", lambda d: d["service_events"][0].update(at=5),
     "service_events[{i}] ({cluster}/{service}): field at: expected text, got 5"),
]


@pytest.mark.parametrize("tamper, line", [t[1:] for t in TAMPERED], ids=[t[0] for t in TAMPERED])
def test_push_refuses_a_row_of_the_wrong_type_and_writes_nothing(applied: Path, tmp_path: Path, tamper, line) -> None:
    path = copy_of(applied, tmp_path)
    pulled = cli("state", "pull", "--state", str(path))
    assert pulled.exit_code == 0, pulled.output
    data = json.loads(pulled.stdout)
    before = json.loads(json.dumps(data))
    tamper(data)
    data["serial"] += 1
    changed = next((name, i, row) for name, rows in data.items() if isinstance(rows, list)
                   for i, row in enumerate(rows) if row != before[name][i])
    export = tmp_path / "s.json"
    export.write_text(json.dumps(data))
    file_before = path.read_bytes()

    result = cli("state", "push", str(export), "--state", str(path))

    assert result.exit_code == 1, result.output
    (message,) = result.stderr.strip().splitlines()
    expected = line.format(i=changed[1], **{k: v for k, v in changed[2].items() if isinstance(v, str)})
    assert message.startswith(f"error: {export}: cannot push: ") and expected in message, message  # the file at fault
    assert "internal error" not in result.output and path.read_bytes() == file_before
    assert cli("plan", "-f", str(MANIFESTS), "--state", str(path)).exit_code == 0  # the state is as it was


SQL = [  # (an edit made with sqlite3, a command that reads the row, the field named)
    ("count-as-text", "UPDATE services SET desired_count = 'abc' WHERE name = 'web'", ["plan", "-f", str(MANIFESTS)],
     "(prod/web) cannot be read (field desired_count: expected an integer, got the text 'abc')"),
    ("spec-null", "UPDATE services SET spec = 'null' WHERE name = 'web'", ["get", "services"],
     "(prod/web) cannot be read (field spec: expected an object, got null)"),
    ("resource-spec-list", "UPDATE resources SET spec = '[1]' WHERE address = 'cluster/prod'",
     ["plan", "-f", str(MANIFESTS)], "(cluster/prod) cannot be read (field spec: expected an object, got a list)"),
    ("cpu-fraction", "UPDATE tasks SET cpu = 1.5 WHERE rowid = 1", ["get", "tasks"],
     "cannot be read (field cpu: expected an integer, got 1.5)"),
    ("agent-as-text", "UPDATE container_instances SET agent_connected = 'yes' WHERE rowid = 1", ["get", "instances"],
     "cannot be read (field agent_connected: expected true or false, got the text 'yes')"),
    ("name-as-blob", "UPDATE services SET name = X'776562' WHERE name = 'web'", ["get", "services"],
     "cannot be read (field name: expected text, got binary data)"),
]


@pytest.mark.parametrize("sql, command, said", [s[1:] for s in SQL], ids=[s[0] for s in SQL])
def test_a_row_edited_to_a_wrong_type_is_one_line_exit_1_and_verify_names_it(applied: Path, tmp_path: Path,
                                                                             sql, command, said) -> None:
    path = copy_of(applied, tmp_path)
    with raw(path) as conn:
        conn.execute(sql)
    before = path.read_bytes()

    result = cli(*command, "--state", str(path))
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {path}: a row of table ") and said in line, line
    assert "the state file is damaged" in line

    verify = cli("state", "verify", "--state", str(path))
    assert verify.exit_code == 1, verify.output
    assert any("cannot be read" in p and said.split("cannot be read ")[1] in p for p in verify.stdout.splitlines())
    assert path.read_bytes() == before
