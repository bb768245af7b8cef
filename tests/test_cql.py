"""Cluster Query Language: parsing, checking and evaluation (ecs-semantics §3)."""

import pytest

from ecsctl.core.scheduling.cql import And, CqlError, Not, Or, Predicate, evaluate, matches, parse

INSTANCE = {
    "ec2InstanceId": "i-abcd1234",
    "attributes": {"ecs.instance-type": "t2.small", "ecs.availability-zone": "us-east-1a", "stack": "prod", "gpu": None},
    "agentConnected": True,
    "agentVersion": "1.9.0",
    "registeredAt": "2018-01-01T10:00:00Z",
    "runningTasksCount": 1,
    "taskGroups": {"service:production", "family:batch"},
}


# Every example of ecs-semantics §3, evaluated against INSTANCE.
@pytest.mark.parametrize("expr, expected", [
    ("attribute:ecs.instance-type == t2.small", True),
    ("attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", True),
    ("attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d", False),
    ("attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d", True),
    ("task:group == service:production", True),
    ("runningTasksCount == 1", True),
    ("agentVersion < 1.14.5", True),
    ("registeredAt < 2018-02-13", True),
    ("ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", True),
    ("not(task:group == database)", True),
    ("(attribute:stack == prod or attribute:stack == dev) and runningTasksCount < 5", True),
])
def test_reference_examples(expr, expected):
    assert evaluate(parse(expr), INSTANCE) is expected


@pytest.mark.parametrize("expr, expected", [
    ("attribute:stack equals prod", True),
    ("attribute:stack not_equals prod", False),
    ("attribute:stack != dev", True),
    ("runningTasksCount > 0", True), ("runningTasksCount greater_than 1", False),
    ("runningTasksCount >= 1", True), ("runningTasksCount greater_than_equal 2", False),
    ("runningTasksCount < 1", False), ("runningTasksCount less_than 2", True),
    ("runningTasksCount <= 1", True), ("runningTasksCount less_than_equal 0", False),
    ("attribute:stack in [dev, prod]", True), ("attribute:stack !in [dev, prod]", False),
    ("attribute:stack not_in [dev]", True),
    ("ec2InstanceId =~ i-abcd.*", True), ("ec2InstanceId matches i-a", False),
    ("ec2InstanceId !~ i-x.*", True), ("ec2InstanceId not_matches i-.*", False),
    ("attribute:gpu exists", True), ("attribute:missing exists", False),
    ("attribute:missing !exists", True), ("attribute:gpu not_exists", False),
    ("attribute:gpu == x", False),
    ("agentConnected == true", True), ("agentConnected != true", False),
    ("agentVersion >= 1.9", True), ("agentVersion > 1.10.0", False),
    ("registeredAt >= 2018-01-01T10:00:00+00:00", True), ("registeredAt > 2018-01-01T10:00:00", False),
    ("registeredAt == 2018-01-01T10:00:00Z", True),
    ("task:group in [service:web, family:batch]", True), ("task:group != service:production", False),
    ("task:group not_in [service:web]", True), ("task:group =~ family:.*", True),
    ("attribute:stack == 'prod'", True), ('attribute:stack == "prod"', True),
    ("attribute:stack == prod && runningTasksCount == 1", True),
    ("attribute:stack == dev || runningTasksCount == 1", True),
    ("!attribute:stack == dev", True),
    ("not not attribute:stack == prod", True),
])
def test_operators(expr, expected):
    assert matches(expr, INSTANCE) is expected


@pytest.mark.parametrize("expr, shape", [
    # not > and > or
    ("attribute:a == 1 or attribute:b == 2 and attribute:c == 3", Or),
    ("attribute:a == 1 and attribute:b == 2 or attribute:c == 3", Or),
    ("not attribute:a == 1 and attribute:b == 2", And),
    ("not (attribute:a == 1 and attribute:b == 2)", Not),
    ("(attribute:a == 1 or attribute:b == 2) and attribute:c == 3", And),
])
def test_precedence(expr, shape):
    assert isinstance(parse(expr), shape)


def test_or_binds_weaker_than_and():
    tree = parse("attribute:a == 1 or attribute:b == 2 and attribute:c == 3")
    assert isinstance(tree.operands[1], And) and isinstance(tree.operands[0], Predicate)


def test_ast_is_plain_data():
    assert parse("attribute:ecs.instance-type == t2.small") == Predicate("attribute", "==", ("t2.small",), "ecs.instance-type", 1)


@pytest.mark.parametrize("expr, column, fragment", [
    ("foo == bar", 1, "expected a subject"),
    ("attribute:x ~~ y", 13, "expected an operator"),
    ("attribute:x ==", 15, "ends early"),
    ("attribute:x == y andd attribute:z exists", 18, "unexpected 'andd'"),
    ("(attribute:x == y", 18, "expected ')'"),
    ("attribute:x == y)", 17, "unexpected ')'"),
    ("runningTasksCount == lots", 22, "needs an integer"),
    ("agentVersion == latest", 17, "needs a version"),
    ("registeredAt < yesterday", 16, "needs a date"),
    ("registeredAt < 2018-13-45", 16, "needs a date"),
    ("agentConnected == maybe", 19, "true or false"),
    ("agentVersion =~ 1.*", 14, "cannot be used with agentVersion"),
    ("ec2InstanceId exists", 15, "cannot be used with ec2InstanceId"),
    ("runningTasksCount in [1, 2]", 19, "cannot be used with runningTasksCount"),
    ("attribute:x == [a, b]", 13, "needs 'in' or 'not_in'"),
    ("attribute:x =~ '(('", 16, "not a valid regular expression"),
    ("", 1, "empty"),
    ("attribute:x == " + "y" * 2000, 2001, "maximum is 2000"),
])
def test_errors_point_at_the_problem(expr, column, fragment):
    with pytest.raises(CqlError) as info:
        parse(expr)
    assert info.value.column == column
    assert fragment in info.value.message


def test_missing_keys_are_false_not_errors():
    assert matches("attribute:stack == prod", {}) is False
    assert matches("agentVersion > 1.0", {}) is False
    assert matches("task:group != service:x", {}) is True
