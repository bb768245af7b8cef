"""The input transformer (core.events.transform): the documentation's examples as a table.

Source: "Transforming Amazon EventBridge target input",
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
(its example EC2 event, input path and templates).
"""

from __future__ import annotations

import pytest

from ecsctl.core.events.transform import TransformError, ecs_overrides, transform_input, transformer_issues

EVENT = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}


@pytest.mark.parametrize(("template", "expected"), [
    ('"instance <instance> is in <state>"', "instance i-0123456789 is in RUNNING"),
    ('{"instance" : <instance>, "state": <state>}', {"instance": "i-0123456789", "state": "RUNNING"}),
    ('{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \\"<instance>\\" is in <state>"}',
     {"instance": "i-0123456789", "state": "RUNNING", "instanceStatus": 'instance "i-0123456789" is in RUNNING'}),
    ('{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}',
     {"instance": "i-0123456789", "state": [9, "RUNNING", True], "Transformed": "Yes"}),
    ('{"ruleName" : <aws.events.rule-name>, "originalEvent" : <aws.events.event>}',
     {"ruleName": "example", "originalEvent": EVENT}),
    ('"<aws.events.rule-name> triggered"', "example triggered"),
])
def test_documented_templates(template, expected) -> None:
    got = transform_input({"inputPathsMap": PATHS, "inputTemplate": template}, EVENT,
                          rule_name="example", rule_arn="arn:aws:events:us-east-2:123456789012:rule/example")
    assert got == expected


def test_a_path_the_event_lacks_is_null_or_empty() -> None:
    got = transform_input({"inputPathsMap": {"size": "$.detail.size"}, "inputTemplate": '{"a": <size>, "b": "n=<size>"}'}, EVENT)
    assert got == {"a": None, "b": "n="}


def test_values_are_not_escaped_inside_strings() -> None:
    """'EventBridge doesn't escape values extracted by Input Path': a quote in a value breaks the JSON."""
    event = {"detail": {"name": 'say "hi"'}}
    with pytest.raises(TransformError, match="not give valid JSON"):
        transform_input({"inputPathsMap": {"n": "$.detail.name"}, "inputTemplate": '{"v": "<n>"}'}, event)
    assert transform_input({"inputPathsMap": {"n": "$.detail.name"}, "inputTemplate": '{"v": <n>}'}, event) == {"v": 'say "hi"'}


def test_array_index_and_whole_event_paths() -> None:
    got = transform_input({"inputPathsMap": {"r": "$.resources[0]", "all": "$"}, "inputTemplate": '{"r": <r>, "n": <all>}'}, EVENT)
    assert got == {"r": EVENT["resources"][0], "n": EVENT}


S3 = {"source": "aws.s3", "detail-type": "Object Created",
      "detail": {"bucket": {"name": "acme-prod-uploads"}, "object": {"key": "incoming/2026/a.csv", "size": 1024}}}
S3_TRANSFORMER = {
    "inputPathsMap": {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"},
    "inputTemplate": '{"containerOverrides": [{"name": "ingest", "environment": ['
                     '{"name": "S3_BUCKET", "value": <bucket>}, {"name": "S3_KEY", "value": <key>}]}]}',
}


def test_s3_upload_to_container_overrides_merged_onto_static_ones() -> None:
    static = {"containerOverrides": [{"name": "ingest", "environment": [{"name": "MODE", "value": "batch"},
                                                                        {"name": "S3_KEY", "value": "placeholder"}]}],
              "cpu": "512"}
    got = ecs_overrides(transform_input(S3_TRANSFORMER, S3), static)
    assert got == {"containerOverrides": [{"name": "ingest", "environment": [
        {"name": "MODE", "value": "batch"}, {"name": "S3_KEY", "value": "incoming/2026/a.csv"},
        {"name": "S3_BUCKET", "value": "acme-prod-uploads"}]}], "cpu": "512"}
    assert static["containerOverrides"][0]["environment"][1]["value"] == "placeholder"  # not mutated


@pytest.mark.parametrize(("transformed", "fragment"), [
    ("text", "must be a JSON object"),
    ({"containerOverride": []}, "no field 'containerOverride'"),
    ({"containerOverrides": [{"environment": []}]}, "container's name"),
    ({"containerOverrides": {"name": "x"}}, "list of objects"),
    # an event field that is a list, put unquoted into an environment value: RunTask takes strings only
    ({"containerOverrides": [{"name": "x", "environment": [{"name": "S3_KEY", "value": ["incoming/x"]}]}]},
     "'S3_KEY' of a container override is a list, where RunTask takes a string"),
])
def test_bad_overrides(transformed, fragment) -> None:
    with pytest.raises(TransformError, match=fragment):
        ecs_overrides(transformed)


@pytest.mark.parametrize(("transformer", "errors", "warnings"), [
    (S3_TRANSFORMER, [], []),
    ({"inputPathsMap": {"a": "$.x"}}, ["inputTemplate is required"], []),
    ({"inputPathsMap": {"bad key": "$.x"}, "inputTemplate": '{"cpu": "1"}'}, ["variable name 'bad key'"], []),
    ({"inputPathsMap": {"aws.events.rule-name": "$.x"}, "inputTemplate": '{"cpu": "1"}'}, ["is reserved"], []),
    ({"inputPathsMap": {f"v{i}": "$.x" for i in range(101)}, "inputTemplate": '{"cpu": "1"}'}, ["EventBridge allows 100"], []),
    ({"inputTemplate": "x" * 8193}, ["EventBridge allows 8192"], ["this template is text"]),
    ({"inputPathsMap": {"k": "$.x"}, "inputTemplate": '{<k>: 1}'}, ["object key"], []),
    ({"inputPathsMap": {"k": "$.x"}, "inputTemplate": '{"a": 1, "<k>": 1}'}, ["object key"], []),
    ({"inputTemplate": '{"cpu": }'}, ["not valid JSON"], []),
    ({"inputPathsMap": {"k": "detail.x"}, "inputTemplate": '{"cpu": <k>}'}, [], ["not a JSON path"]),
    ({"inputTemplate": '{"cpu": <nope>}'}, ["not valid JSON"], ["<nope> names no variable"]),
    ({"inputTemplate": '{"environment": []}'}, [], ["no field 'environment'"]),
    ({"inputTemplate": '"just text"'}, [], ["this template is text"]),
])
def test_transformer_issues(transformer, errors, warnings) -> None:
    got_errors, got_warnings = transformer_issues(transformer)
    assert len(got_errors) == len(errors), got_errors
    assert len(got_warnings) == len(warnings), got_warnings
    for (_, message), fragment in zip(got_errors + got_warnings, errors + warnings):
        assert fragment in message
