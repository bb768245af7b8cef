"""The one type rule for state records (``ecsctl.core.state.fields``), read from the dataclass
annotations, and the store's two ways in that apply it: a row of the file and an exported row."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from ecsctl.core.state.fields import field_types, record_problem, wrong_field
from ecsctl.core.state.ports import ContainerInstance, Resource, Service, Task
from ecsctl.storage.sqlite_store import _EVENTS, _EXPORT_TABLES, _WORLD


def test_every_stored_record_type_has_a_rule_for_every_field() -> None:
    for table in (*_EXPORT_TABLES, _EVENTS):
        rules = field_types(table.record_type)
        assert [r.name for r in rules] == [c.name for c in table.columns]


SERVICE = Service("prod", "web", "web:1", 3, {"launchType": "FARGATE"})
TASK = Task("t-1", "prod", "service:web", "web:1", "RUNNING", "RUNNING", host_ports=(32768, 8080))


@pytest.mark.parametrize("record", [SERVICE, TASK, Task("t-2", "prod", "g", "web:1", "STOPPED", "STOPPED",
                                                        instance_id=None, exit_code=1),
                                    Resource("service/prod/web", "Service", "web", {}),
                                    ContainerInstance("i-1", "prod", "g", "m5.large", "eu-west-1a", 2048, 8192, 2048, 8192)])
def test_well_typed_records_pass(record) -> None:
    assert record_problem(record) is None


@pytest.mark.parametrize("record, field, problem", [
    (dataclasses.replace(SERVICE, desired_count="abc"), "desired_count", "expected an integer, got the text 'abc'"),
    (dataclasses.replace(SERVICE, desired_count=True), "desired_count", "expected an integer, got true"),
    (dataclasses.replace(SERVICE, desired_count=2.5), "desired_count", "expected an integer, got 2.5"),
    (dataclasses.replace(SERVICE, spec=None), "spec", "expected an object, got null"),
    (dataclasses.replace(SERVICE, spec=[1]), "spec", "expected an object, got a list"),
    (dataclasses.replace(SERVICE, name=7), "name", "expected text, got 7"),
    (dataclasses.replace(SERVICE, status=b"ACTIVE"), "status", "expected text, got binary data"),
    (dataclasses.replace(TASK, host_ports=(8080, "x")), "host_ports",
     "expected a list of integers, got a list holding the text 'x'"),
    (dataclasses.replace(TASK, instance_id=5), "instance_id", "expected text or null, got 5"),
    (dataclasses.replace(TASK, exit_code="0"), "exit_code", "expected an integer or null, got the text '0'"),
    (ContainerInstance("i-1", "prod", "g", "m5.large", "eu-west-1a", 1, 1, 1, 1, agent_connected=1),
     "agent_connected", "expected true or false, got 1"),
])
def test_a_value_of_another_type_is_named_with_its_field(record, field, problem) -> None:
    assert record_problem(record) == (field, problem)


def test_the_first_wrong_field_in_field_order_is_named() -> None:
    values = ["prod", "web", 1, "abc", None]  # task_definition, desired_count and spec are all wrong
    assert wrong_field(Service, values) == ("task_definition", "expected text, got 1")


def test_an_annotation_the_rule_cannot_check_is_refused_when_the_rule_is_made() -> None:
    @dataclass
    class Odd:
        values: list[int]

    with pytest.raises(TypeError, match="field values: cannot check values of type"):
        field_types(Odd)


# -- the store's mapping: a row of the file, an exported row -----------------------------------


def test_a_row_with_a_wrong_type_cannot_be_read_and_says_which_field() -> None:
    table = _WORLD[Service]
    good = table.to_row(SERVICE)
    assert table.from_row(good) == SERVICE
    column = [c.name for c in table.columns].index("desired_count")
    with pytest.raises(ValueError, match="^field desired_count: expected an integer, got the text 'abc'$"):
        table.from_row(good[:column] + ("abc",) + good[column + 1:])
    spec = [c.name for c in table.columns].index("spec")
    with pytest.raises(ValueError, match="^field spec: expected an object, got null$"):
        table.from_row(good[:spec] + ("null",) + good[spec + 1:])


def test_a_bool_column_holds_0_or_1_and_a_tuple_column_a_list_of_integers() -> None:
    table = _WORLD[ContainerInstance]
    record = ContainerInstance("i-1", "prod", "g", "m5.large", "eu-west-1a", 1, 1, 1, 1, reserved_ports=(22,))
    row = table.to_row(record)
    names = [c.name for c in table.columns]
    agent, ports = names.index("agent_connected"), names.index("reserved_ports")
    assert table.from_row(row) == record
    with pytest.raises(ValueError, match="field agent_connected: expected true or false, got the text 'yes'"):
        table.from_row(row[:agent] + ("yes",) + row[agent + 1:])
    for text, got in (('["22"]', "a list holding the text '22'"), ("7", "7"), ("[true]", "a list holding true")):
        with pytest.raises(ValueError, match=f"field reserved_ports: expected a list of integers, got {got}"):
            table.from_row(row[:ports] + (text,) + row[ports + 1:])
    assert table.from_row(row) == record  # a refused text is not remembered as a good one


def test_an_exported_row_with_a_wrong_type_is_refused_naming_the_field() -> None:
    table = _WORLD[Service]
    exported = table.to_json(SERVICE)
    assert table.from_json(exported) == SERVICE
    with pytest.raises(ValueError, match="^field desired_count: expected an integer, got the text 'abc'$"):
        table.from_json({**exported, "desired_count": "abc"})
    with pytest.raises(ValueError, match="^field spec: expected an object, got null$"):
        table.from_json({**exported, "spec": None})
