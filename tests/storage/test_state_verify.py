"""``ecsctl state verify``: a sound state is one OK line, exit 0; each kind of damage is named,
one line per problem, exit 1, and the file is left as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.storage.statekit import applied, cli, copy_of, raw  # noqa: F401 - applied: a fixture


def test_a_sound_state_is_one_ok_line(applied: Path, tmp_path: Path) -> None:
    path = copy_of(applied, tmp_path)
    result = cli("state", "verify", "--state", str(path))
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"OK: {path} (serial ") and "consistent" in line and result.stderr == ""
    report = json.loads(cli("state", "verify", "--state", str(path), "-o", "json").stdout)
    assert report["ok"] is True and report["problems"] == [] and report["checked"]["tasks"] > 0


def test_no_state_is_one_line_exit_1(tmp_path: Path) -> None:
    result = cli("state", "verify", "--state", str(tmp_path / "none.db"))
    assert result.exit_code == 1 and "no state at" in result.stderr
    assert not (tmp_path / "none.db").exists()


def _sql(*statements: str):
    def damage(path: Path) -> None:
        with raw(path) as conn:
            for statement in statements:
                conn.execute(statement)
    return damage


def _index_out_of_step(path: Path) -> None:
    """The index says it is on another column than its entries were made from: rows are missing
    from it. Only the full integrity check sees it (opening runs quick_check)."""
    with raw(path) as conn:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = replace(sql, 'ON tasks (instance_id)', 'ON tasks (cluster)') "
                     "WHERE name = 'tasks_instance'")
    with raw(path) as conn:
        assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]


ONE_RUNNING_EC2_TASK = "(SELECT id FROM tasks WHERE last_status = 'RUNNING' AND instance_id IS NOT NULL ORDER BY id LIMIT 1)"
ONE_RUNNING_SERVICE_TASK = "(SELECT id FROM tasks WHERE last_status = 'RUNNING' AND service IS NOT NULL ORDER BY id LIMIT 1)"

DAMAGE = [
    ("index-out-of-step", _index_out_of_step, "integrity check: row"),
    ("invalid-json", _sql("UPDATE services SET spec = '[' WHERE name = 'web'"), "table services: row prod/web cannot be read"),
    ("wrong-type", _sql("UPDATE services SET desired_count = 'abc' WHERE name = 'web'"),
     "table services: row prod/web cannot be read (field desired_count: expected an integer, got the text 'abc')"),
    ("wrong-type-event", _sql("UPDATE service_events SET message = X'00' WHERE rowid = 1"),
     "table service_events: row prod/"),
    ("not-a-list", _sql(f"UPDATE tasks SET host_ports = '7' WHERE id = {ONE_RUNNING_EC2_TASK}"), "table tasks: row"),
    ("table-dropped", _sql("DROP TABLE sim_state"), "schema: table sim_state is missing"),
    ("serial-behind", _sql("UPDATE meta SET value = 1 WHERE key = 'serial'"), "serial 1 is behind resource"),
    ("task-on-unknown-instance", _sql(f"UPDATE tasks SET instance_id = 'i-gone' WHERE id = {ONE_RUNNING_EC2_TASK}"),
     "on unknown instance i-gone"),
    ("task-on-deregistered-instance",
     _sql(f"UPDATE container_instances SET status = 'INACTIVE' WHERE id = (SELECT instance_id FROM tasks WHERE id = {ONE_RUNNING_EC2_TASK})"),
     "on INACTIVE instance"),
    ("ec2-task-without-instance", _sql(f"UPDATE tasks SET instance_id = NULL WHERE id = {ONE_RUNNING_EC2_TASK}"),
     "without an instance but launch type EC2"),
    ("cpu-does-not-add-up", _sql("UPDATE container_instances SET remaining_cpu = remaining_cpu - 5 "
                                 "WHERE id = (SELECT MIN(id) FROM container_instances)"), "remaining_cpu is"),
    ("port-held-twice", _sql("UPDATE container_instances SET reserved_ports = '[22]' "
                             f"WHERE id = (SELECT instance_id FROM tasks WHERE id = {ONE_RUNNING_EC2_TASK})"),
     "reserved_ports is"),
    ("running-count-off", _sql("UPDATE services SET running_count = running_count + 1 WHERE name = 'web'"),
     "running count"),
    ("primary-on-another-revision", _sql("UPDATE deployments SET task_definition = 'web:99' WHERE status = 'PRIMARY' "
                                         "AND service = 'web'"), "its PRIMARY deployment"),
    ("task-of-no-deployment", _sql(f"UPDATE tasks SET started_by = 'ecs-svc/0' WHERE id = {ONE_RUNNING_SERVICE_TASK}"),
     "not a deployment of its service"),
    ("target-elsewhere", _sql("UPDATE target_registrations SET target_id = '10.9.9.9' "
                              "WHERE rowid = (SELECT MIN(rowid) FROM target_registrations)"), "is not there"),
    ("target-of-no-task", _sql("UPDATE target_registrations SET task_id = 'gone' "
                               "WHERE rowid = (SELECT MIN(rowid) FROM target_registrations)"), "task gone is not a live task"),
    ("two-primaries", _sql("INSERT INTO deployments SELECT 'ecs-svc/extra', cluster, service, task_definition, status, "
                           "desired_count, pending_count, 0, failed_tasks, rollout_state, rollout_state_reason, "
                           "created_at, updated_at FROM deployments WHERE status = 'PRIMARY' AND service = 'web'"),
     "2 PRIMARY deployments"),
]


@pytest.mark.parametrize("damage, problem", [d[1:] for d in DAMAGE], ids=[d[0] for d in DAMAGE])
def test_each_kind_of_damage_is_named_one_line_each(applied: Path, tmp_path: Path, damage, problem) -> None:
    path = copy_of(applied, tmp_path)
    damage(path)
    before = path.read_bytes()
    result = cli("state", "verify", "--state", str(path))
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert any(problem in line for line in lines), lines
    (summary,) = result.stderr.strip().splitlines()
    assert summary == f"error: {path}: {len(lines)} problem{'s' if len(lines) > 1 else ''} found"
    report = json.loads(cli("state", "verify", "--state", str(path), "-o", "json").stdout)
    assert report["ok"] is False and report["problems"] == lines
    assert path.read_bytes() == before  # verify only reads
