"""Secrets written in plain text into a task definition or a scheduled task's target (W7xxx).

What looks like a secret is decided by ``ecsctl.core.sensitive``, the one list that the plan's
masking and the state file use too; this rule only leaves out values that are obviously
placeholders (``${DB_PASSWORD}``, ``changeme``, a port number), which the plan still masks.
"""

from __future__ import annotations

from ecsctl.core.findings import Severity
from ecsctl.core.rules.base import Rule, register
from ecsctl.core.sensitive import PLACEHOLDER_RE, Hit, entropy, find_sensitive, secret_reason

__all__ = ["PlainTextSecret", "entropy", "is_placeholder", "plain_text_message", "secret_reason", "warned"]

_VALUE_REASONS = ("its value ",)  # reasons from the text itself: never a placeholder


def is_placeholder(hit: Hit) -> bool:
    """An obvious placeholder (``${DB_PASSWORD}``, ``changeme``, a number), which W7001 does not
    warn of (the plan still masks it); never one whose text itself looks secret."""
    if hit.reason.startswith(_VALUE_REASONS):
        return False
    return not isinstance(hit.value, str) or bool(PLACEHOLDER_RE.match(hit.value.strip()))


_HOLDERS = {"environment": "environment variable '{name}'", "option": "log option '{name}'",
            "label": "Docker label '{name}'"}


def _holder(hit: Hit) -> str:
    """What holds the value, as a reader finds it: ``environment variable 'DB_PASSWORD'``, or
    for an argument ``command[2]``, ``healthCheck.command[3]`` (its list and index, as the
    finding's path writes it)."""
    if hit.where == "argument":  # the field names after the container's index: healthCheck.command
        fields = []
        for part in reversed(hit.path[:-1]):
            if not isinstance(part, str):
                break
            fields.insert(0, part)
        return f"argument {'.'.join(fields) or 'command'}[{hit.name}]"
    return _HOLDERS.get(hit.where, "'{name}'").format(name=hit.name)


_ADVICE = {
    "environment": "move it to 'secrets' with valueFrom (an SSM parameter or Secrets Manager ARN)",
    "option": "move it to 'secretOptions' with valueFrom (an SSM parameter or Secrets Manager ARN)",
    "argument": "read it from an environment variable set from 'secrets' instead",
    "label": "labels are shown to anyone who can describe the task",
}


def plain_text_message(hit: Hit) -> str:
    """W7001's words for ``hit`` in a task definition: what holds it, why it looks secret, where it belongs."""
    advice = _ADVICE.get(hit.where, "task definitions are shown in plain text to anyone who can describe them")
    return f"{_holder(hit)} looks like a plain-text secret ({hit.reason}); {advice}"


def _scheduled_message(hit: Hit) -> str:
    """A scheduled task's overrides and input template are the rule's target, stored and shown
    in plain text by EventBridge (DescribeRule, ListTargetsByRule)."""
    where = "its input template" if "inputTemplate" in hit.path else "its overrides"
    return (f"{_holder(hit)} in {where} looks like a plain-text secret ({hit.reason}); "
            "EventBridge shows a rule's targets in plain text: put it in the task definition's 'secrets' "
            "(valueFrom) instead")


def warned(value) -> list[Hit]:
    """The sensitive-looking values under ``value`` that W7001 warns of: not digests, not placeholders."""
    return [h for h in find_sensitive(value) if not h.reason.startswith("its value is the digest") and not is_placeholder(h)]


@register
class PlainTextSecret(Rule):
    """Secrets belong in ``secrets`` (SSM Parameter Store or Secrets Manager), not in the task definition.

    ``environment`` values, Docker labels, log driver options and
    ``command`` arguments are stored in the task definition in plain text and shown to anyone
    who can describe it.  Passwords, tokens, API keys, AWS access keys, private keys and URLs
    with a password should be referenced with ``secrets`` (or, for log drivers,
    ``secretOptions``) and ``valueFrom``; ECS injects them when the container starts.

    The same list of sensitive-looking names and values decides what ``ecsctl plan`` masks and
    what the state file keeps only as a digest.

    Bad::

        environment:
          - {name: DB_PASSWORD, value: hunter2}
        logConfiguration:
          logDriver: splunk
          options: {splunk-token: 4a8c…}

    Good::

        secrets:
          - {name: DB_PASSWORD, valueFrom: arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db/password}
        logConfiguration:
          logDriver: splunk
          secretOptions:
            - {name: splunk-token, valueFrom: arn:aws:ssm:eu-west-1:123456789012:parameter/prod/splunk}
    """

    id = "W7001"
    title = "Plain-text secret in a task definition"
    kinds = ("TaskDefinition", "ScheduledTask")
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        for hit in warned(spec):
            yield hit.path, (_scheduled_message(hit) if doc.kind == "ScheduledTask" else plain_text_message(hit))
