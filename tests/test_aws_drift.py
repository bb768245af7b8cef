"""What the AWS plan compares a task definition with: the last-applied spec with AWS's values on
the keys it has (``core.aws.drift.as_reported``)."""

from __future__ import annotations

from ecsctl.core.aws.drift import LiveResource, as_reported

APPLIED = {"family": "web", "networkMode": "awsvpc", "cpu": "256", "memory": "512",
           "containerDefinitions": [{"name": "web", "image": "nginx:1.27"}]}


def test_a_field_a_newer_api_returns_with_its_default_changes_nothing():
    """DescribeTaskDefinition now returns enableFaultInjection: false on every definition; one the
    manifests never said must not register a new revision on every plan (a review of this change)."""
    live = LiveResource("TaskDefinition", "web", {**APPLIED, "enableFaultInjection": False})
    assert as_reported("TaskDefinition", APPLIED, live) is APPLIED


def test_a_revision_registered_outside_ecsctl_is_what_the_manifests_compare_with():
    foreign = {**APPLIED, "containerDefinitions": [{"name": "web", "image": "attacker/miner:latest"}],
               "enableFaultInjection": False}
    reported = as_reported("TaskDefinition", APPLIED, LiveResource("TaskDefinition", "web", foreign))
    assert reported["containerDefinitions"] == foreign["containerDefinitions"]
    assert "enableFaultInjection" not in reported  # still only the keys ecsctl said
