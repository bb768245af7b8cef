"""EventBridge event patterns (core.events.pattern): the documentation's tables.

Sources: "Content filtering in Amazon EventBridge event patterns" and "Comparison operators"
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html),
"Matching events on null values and empty strings" (eb-event-patterns-null-values.html),
"Arrays in EventBridge event patterns" (eb-event-patterns-arrays.html), and the README of
AWS's Event Ruler (github.com/aws/event-ruler), whose sample event and rules the
content-filtering page uses.
"""

from __future__ import annotations

import pytest

from ecsctl.core.events.pattern import PatternError, matches, pattern_issues, validate_pattern

# The sample event of the content-filtering documentation (Event Ruler README).
EC2 = {
    "version": "0",
    "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "012345679012",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running",
    },
}


def detail(**fields) -> dict:
    return {"detail": fields}


# (name, pattern, expected match against EC2)
EC2_CASES = [
    ("simple matching", {"detail-type": ["EC2 Instance State-change Notification"],
                         "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
                         "detail": {"state": ["initializing", "running"]}}, True),
    ("a value not in the array", detail(state=["initializing", "stopped"]), False),
    ("a field the event lacks", {"detail": {"size": [5]}}, False),
    ("prefix", {"time": [{"prefix": "2017-10-02"}]}, True),
    ("prefix, no match", {"time": [{"prefix": "2017-10-03"}]}, False),
    ("prefix ignoring case", {"source": [{"prefix": {"equals-ignore-case": "AWS.E"}}]}, True),
    ("suffix", {"source": [{"suffix": "ec2"}]}, True),
    ("suffix ignoring case", {"source": [{"suffix": {"equals-ignore-case": "EC2"}}]}, True),
    ("suffix is case-sensitive", {"source": [{"suffix": "EC2"}]}, False),
    ("equals-ignore-case", {"source": [{"equals-ignore-case": "AWS.EC2"}]}, True),
    ("wildcard", {"resources": [{"wildcard": "arn:aws:ec2:*:instance/i-*"}]}, True),
    ("wildcard, no match", {"source": [{"wildcard": "Simple*Service"}]}, False),
    ("anything-but a string", detail(state=[{"anything-but": "initializing"}]), True),
    ("anything-but the value itself", detail(state=[{"anything-but": "running"}]), False),
    ("anything-but a number", detail(**{"x-limit": [{"anything-but": 123}]}), True),
    ("anything-but a list of strings", detail(state=[{"anything-but": ["stopped", "overloaded"]}]), True),
    ("anything-but a list holding the value", detail(state=[{"anything-but": ["stopped", "running"]}]), False),
    ("anything-but a list of numbers", detail(**{"x-limit": [{"anything-but": [100, 200, 300]}]}), True),
    ("anything-but a prefix", detail(state=[{"anything-but": {"prefix": "init"}}]), True),
    ("anything-but a prefix it has", detail(state=[{"anything-but": {"prefix": "run"}}]), False),
    ("anything-but a list of prefixes", detail(state=[{"anything-but": {"prefix": ["init", "run"]}}]), False),
    ("anything-but a suffix", {"detail": {"instance-id": [{"anything-but": {"suffix": "1234"}}]}}, True),
    ("anything-but a list of suffixes", {"detail": {"instance-id": [{"anything-but": {"suffix": ["1234", "000"]}}]}}, False),
    ("anything-but ignoring case", detail(state=[{"anything-but": {"equals-ignore-case": "RUNNING"}}]), False),
    ("anything-but ignoring case, a list", detail(state=[{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]), True),
    ("anything-but a wildcard", {"resources": [{"anything-but": {"wildcard": "*/lib/*"}}]}, True),
    ("anything-but a wildcard it matches", {"resources": [{"anything-but": {"wildcard": "*instance/*"}}]}, False),
    ("anything-but never matches a missing field", {"detail": {"size": [{"anything-but": "x"}]}}, False),
    ("numeric: every field of the documented example", {"detail": {
        "c-count": [{"numeric": [">", 0, "<=", 5]}],
        "d-count": [{"numeric": ["<", 10]}],
        "x-limit": [{"numeric": ["=", 3.018e2]}]}}, True),
    ("numeric upper bound is inclusive with <=", detail(**{"c-count": [{"numeric": [">", 0, "<=", 5]}]}), True),
    ("numeric upper bound is exclusive with <", detail(**{"c-count": [{"numeric": [">", 0, "<", 5]}]}), False),
    ("numeric lower bound is exclusive with >", detail(**{"c-count": [{"numeric": [">", 5]}]}), False),
    ("numeric lower bound is inclusive with >=", detail(**{"c-count": [{"numeric": [">=", 5]}]}), True),
    ("numeric only matches numbers", {"detail": {"state": [{"numeric": [">", 0]}]}}, False),
    ("IP address in a CIDR block", {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, True),
    ("IP address outside a CIDR block", {"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}, False),
    ("exists true", {"detail": {"c-count": [{"exists": True}]}}, True),
    ("exists false on a present field", {"detail": {"c-count": [{"exists": False}]}}, False),
    ("exists false on an absent field", {"detail": {"size": [{"exists": False}]}}, True),
    ("exists false under an absent object", {"missing": {"size": [{"exists": False}]}}, True),
    ("the complex example", {
        "time": [{"prefix": "2017-10-02"}],
        "detail": {
            "state": [{"anything-but": "initializing"}],
            "c-count": [{"numeric": [">", 0, "<=", 5]}],
            "d-count": [{"numeric": ["<", 10]}],
            "x-limit": [{"anything-but": [100, 200, 300]}],
            "source-ip": [{"cidr": "10.0.0.0/8"}]}}, True),
    ("$or: one branch matches", {"source": ["aws.ec2"], "$or": [
        {"detail": {"state": ["stopped"]}}, {"detail": {"c-count": [5]}}]}, True),
    ("$or: no branch matches", {"$or": [{"detail": {"state": ["stopped"]}}, {"region": ["eu-west-1"]}]}, False),
    ("$or nested in detail", {"detail": {"$or": [{"state": ["running"]}, {"c-count": [9]}]}}, True),
    ("$or and its AND partner both needed", {"source": ["aws.s3"], "$or": [{"region": ["us-east-1"]}, {"account": ["1"]}]}, False),
    ("a number is not its string", detail(**{"c-count": ["5"]}), False),
    ("5 is 5.0", detail(**{"c-count": [5.0]}), True),
    ("a mix of exact and filter values in one array", detail(state=["stopped", {"prefix": "run"}]), True),
]


@pytest.mark.parametrize(("name", "pattern", "expected"), EC2_CASES, ids=[c[0] for c in EC2_CASES])
def test_content_filtering(name, pattern, expected) -> None:
    assert pattern_issues(pattern) == []
    assert matches(pattern, EC2) is expected


# "Matching events on null values and empty strings": the documentation's event.
NULLS = {
    "version": "0",
    "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
    "detail-type": "EC2 Instance Launch Successful",
    "source": "aws.autoscaling",
    "account": "123456789012",
    "time": "2015-11-11T21:31:47Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {"eventVersion": "", "responseElements": None},
}


@pytest.mark.parametrize(("pattern", "expected"), [
    ({"detail": {"eventVersion": [""]}}, True),
    ({"detail": {"responseElements": [None]}}, True),
    ({"detail": {"responseElements": [""]}}, False),  # null and "" are not interchangeable
    ({"detail": {"eventVersion": [None]}}, False),
    ({"detail": {"responseElements": [{"exists": True}]}}, True),  # null is a value
    ({"resources": [{"exists": True}]}, False),  # an empty array holds none
    ({"resources": [{"exists": False}]}, True),
])
def test_null_and_empty_string(pattern, expected) -> None:
    assert matches(pattern, NULLS) is expected


def test_arrays_match_when_the_intersection_is_not_empty() -> None:
    """The documentation's example: the pattern's first item is the event's second."""
    pattern = {"resources": [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
    ]}
    event = {"resources": [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
    ]}
    assert matches(pattern, event)
    assert not matches(pattern, {"resources": ["arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f"]})


EMPLOYEES = {"employees": [
    {"firstName": "John", "lastName": "Doe"},
    {"firstName": "Anna", "lastName": "Smith"},
    {"firstName": "Peter", "lastName": "Jones"},
]}


@pytest.mark.parametrize(("pattern", "expected"), [
    ({"employees": {"firstName": ["Anna"]}}, True),
    ({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}, True),
    # fields from different elements of one array never combine (Event Ruler rulesForJSONEvent)
    ({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}, False),
])
def test_arrays_of_objects(pattern, expected) -> None:
    assert matches(pattern, EMPLOYEES) is expected
    nested = {"employees": [EMPLOYEES["employees"][:2], EMPLOYEES["employees"][2:]]}  # multi-level arrays
    assert matches(pattern, nested) is expected


def test_exists_only_works_on_leaves() -> None:
    """The documentation: exists false also matches when c-count is an object (not a leaf)."""
    pattern = {"detail": {"c-count": [{"exists": False}]}}
    assert matches(pattern, {"detail": {"state": ["initializing", "running"]}})
    assert matches(pattern, {"detail": {"state": ["initializing", "running"], "c-count": {"c1": 100}}})
    assert not matches({"detail": {"c-count": [{"exists": True}]}}, {"detail": {"c-count": {"c1": 100}}})


def test_s3_object_created() -> None:
    """The S3 upload pattern of ecs-semantics §8.2."""
    pattern = {"source": ["aws.s3"], "detail-type": ["Object Created"],
               "detail": {"bucket": {"name": ["my-bucket"]}, "object": {"key": [{"prefix": "incoming/"}]}}}
    event = {"source": "aws.s3", "detail-type": "Object Created", "detail": {
        "bucket": {"name": "my-bucket"}, "object": {"key": "incoming/photo.jpg", "size": 1024}, "reason": "PutObject"}}
    assert matches(pattern, event)
    assert not matches(pattern, {**event, "detail-type": "Object Deleted"})


@pytest.mark.parametrize(("text", "value", "expected"), [
    ("Simple*Service", "SimpleQueueService", True),
    ("Simple*Service", "SimpleService", True),
    ("Simple*Service", "Simple Queue", False),
    ("*.png", "dir/a.png", True),
    (r"a\*b", "a*b", True),
    (r"a\*b", "axb", False),
    (r"a\\b", "a\\b", True),
    ("abc", "abc", True),
])
def test_wildcards(text, value, expected) -> None:
    assert matches({"f": [{"wildcard": text}]}, {"f": value}) is expected


def test_cidr_ipv6() -> None:
    assert matches({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": "2001:db8::1"})
    assert not matches({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": "10.0.0.1"})
    assert not matches({"ip": [{"cidr": "10.0.0.0/8"}]}, {"ip": "not an address"})


# --- what PutRule refuses -----------------------------------------------------------------------

INVALID = [
    ("not an object", ["aws.s3"], (), "JSON object"),
    ("empty", {}, (), "empty object"),
    ("a scalar leaf", {"source": "aws.s3"}, ("source",), "must be an object or an array"),
    ("a nested scalar leaf", {"detail": {"bucket": {"name": "b"}}}, ("detail", "bucket", "name"), "must be an object or an array"),
    ("an empty array", {"source": []}, ("source",), "is empty"),
    ("an empty nested object", {"detail": {}}, ("detail",), "empty object"),
    ("an array in an array", {"source": [["a"]]}, ("source", 0), "not an array"),
    ("an unknown operator", {"source": [{"contains": "s3"}]}, ("source", 0, "contains"), "unknown operator 'contains'"),
    ("two operators in one object", {"source": [{"prefix": "a", "suffix": "b"}]}, ("source", 0), "exactly one operator"),
    ("an empty filter object", {"source": [{}]}, ("source", 0), "exactly one operator"),
    ("prefix of a number", {"source": [{"prefix": 5}]}, ("source", 0, "prefix"), "takes a string"),
    ("prefix with another option", {"source": [{"prefix": {"ignore": "x"}}]}, ("source", 0, "prefix"), "equals-ignore-case"),
    ("equals-ignore-case of a list", {"source": [{"equals-ignore-case": ["a"]}]}, ("source", 0, "equals-ignore-case"), "takes a string"),
    ("numeric with an unknown operator", {"n": [{"numeric": ["!=", 5]}]}, ("n", 0, "numeric"), "unknown numeric operator '!='"),
    ("numeric with a string bound", {"n": [{"numeric": [">", "5"]}]}, ("n", 0, "numeric"), "must be a number"),
    ("numeric with too many terms", {"n": [{"numeric": [">", 0, "<", 5, "<", 6]}]}, ("n", 0, "numeric"), "numeric takes"),
    ("numeric range upside down", {"n": [{"numeric": [">", 10, "<", 5]}]}, ("n", 0, "numeric"), "must be below"),
    ("numeric range in the wrong order", {"n": [{"numeric": ["<", 5, ">", 1]}]}, ("n", 0, "numeric"), "lower bound"),
    ("numeric not an array", {"n": [{"numeric": 5}]}, ("n", 0, "numeric"), "numeric takes"),
    ("numeric boolean bound", {"n": [{"numeric": ["=", True]}]}, ("n", 0, "numeric"), "must be a number"),
    ("exists of a string", {"n": [{"exists": "true"}]}, ("n", 0, "exists"), "true or false"),
    ("anything-but of a mixed list", {"s": [{"anything-but": ["a", 1]}]}, ("s", 0, "anything-but"), "all strings or all numbers"),
    ("anything-but of an empty list", {"s": [{"anything-but": []}]}, ("s", 0, "anything-but"), "empty"),
    ("anything-but of null", {"s": [{"anything-but": None}]}, ("s", 0, "anything-but"), "anything-but takes"),
    ("anything-but of numeric", {"s": [{"anything-but": {"numeric": [">", 1]}}]}, ("s", 0, "anything-but"), "prefix, suffix"),
    ("anything-but prefix of a number", {"s": [{"anything-but": {"prefix": 1}}]}, ("s", 0, "anything-but", "prefix"), "strings"),
    ("wildcard with consecutive stars", {"s": [{"wildcard": "a**b"}]}, ("s", 0, "wildcard"), "consecutive"),
    ("wildcard with a bad escape", {"s": [{"wildcard": r"a\b"}]}, ("s", 0, "wildcard"), "backslash"),
    ("wildcard ending in a backslash", {"s": [{"wildcard": "a\\"}]}, ("s", 0, "wildcard"), "lone backslash"),
    ("cidr that is not a network", {"ip": [{"cidr": "10.0.0.0/33"}]}, ("ip", 0, "cidr"), "IPv4 or IPv6"),
    ("$or with one branch", {"$or": [{"a": [1]}]}, ("$or",), "at least 2 objects"),
    ("$or that is an object", {"$or": {"a": [1]}}, ("$or",), "at least 2 objects"),
    ("$or branch invalid", {"$or": [{"a": [1]}, {"b": 2}]}, ("$or", 1, "b"), "must be an object or an array"),
    ("too long", {"source": ["x" * 4100]}, (), "4096"),
]


@pytest.mark.parametrize(("name", "pattern", "path", "fragment"), INVALID, ids=[c[0] for c in INVALID])
def test_put_rule_refuses(name, pattern, path, fragment) -> None:
    issues = pattern_issues(pattern)
    assert issues, "expected the pattern to be refused"
    assert issues[0][0] == path
    assert issues[0][1].startswith("Event pattern is not valid: ")
    assert fragment in issues[0][1]
    with pytest.raises(PatternError) as info:
        matches(pattern, EC2)
    assert info.value.path == path


def test_validate_pattern_accepts_the_documented_operators() -> None:
    validate_pattern({"a": [{"prefix": ""}, {"suffix": {"equals-ignore-case": ".PNG"}}, {"anything-but": 5},
                            {"anything-but": {"wildcard": ["*/bin/*.jar", "*/bin/*.class"]}}, {"numeric": ["=", 3]},
                            {"numeric": [">=", -1.5, "<", 1e9]}, {"cidr": "2001:db8::/32"}, None, True, 0, ""]})
