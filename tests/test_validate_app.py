"""The validate use case: which checks run after which."""

from __future__ import annotations

from ecsctl.app.validate import Validator

TYPO_AND_SIZE = """\
apiVersion: ecsctl/v1
kind: TaskDefinition
metadata: {name: api}
spec:
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: "512"
  memory: "512"
  containerDefinitions:
    - name: api
      image: nginx:1.27
      memoryReservaton: 256
"""


def test_a_typo_does_not_hide_the_rules(write):
    report = Validator().validate([str(write("a.yaml", TYPO_AND_SIZE))])
    assert {f.rule for f in report.findings} == {"E1003", "E2023"}


def test_a_value_out_of_bounds_does_not_hide_the_rules(write):
    """A health check interval above 300 (a schema limit) used to hide the Fargate size and the
    awsvpc port errors: CI saw one problem per run (a helper's trial)."""
    text = TYPO_AND_SIZE.replace("      memoryReservaton: 256\n",
                                 "      portMappings: [{containerPort: 80, hostPort: 81}]\n"
                                 "      healthCheck: {command: [CMD, 'true'], interval: 301}\n")
    report = Validator().validate([str(write("a.yaml", text))])
    assert sorted(f.rule for f in report.findings) == ["E1003", "E2023", "E2040"]


def test_a_rule_does_not_repeat_what_the_schema_refused_on_the_same_field(write):
    """11 containers: the schema's maxItems and E2001 say one thing, once."""
    containers = "".join(f"    - {{name: c{i}, image: nginx, memory: 64}}\n" for i in range(11))
    text = "apiVersion: ecsctl/v1\nkind: TaskDefinition\nmetadata: {name: api}\nspec:\n  containerDefinitions:\n" + containers
    report = Validator().validate([str(write("a.yaml", text))])
    assert [(f.rule, f.pointer) for f in report.findings] == [("E1003", "/spec/containerDefinitions")]


def test_an_empty_or_unknown_value_stops_the_rules_rather_than_read_as_absent(write):
    """launchType "" (a template variable left unset) read as absent made the rules fall back to
    Fargate and report Fargate errors the user never caused (a review of this change)."""
    text = TYPO_AND_SIZE.replace("      memoryReservaton: 256\n", "").replace(
        "  requiresCompatibilities: [FARGATE]\n", "  requiresCompatibilities: [FARGATE]\n  runtimePlatform: {cpuArchitecture: ''}\n")
    report = Validator().validate([str(write("a.yaml", text))])
    assert [f.rule for f in report.findings] == ["E1003"]


def test_a_wrong_type_stops_the_rules_for_that_document(write):
    text = TYPO_AND_SIZE.replace("memoryReservaton: 256", "essential: 'yes'")
    report = Validator().validate([str(write("a.yaml", text))])
    assert [f.rule for f in report.findings] == ["E1003"]
    assert "essential must be a boolean" in report.findings[0].message


PLAIN_SECRET = """\
apiVersion: ecsctl/v1
kind: TaskDefinition
metadata: {name: web}
spec:
  family: web
  containerDefinitions:
    - name: web
      image: nginx:1.27
      memory: 512
      essential: true
      environment: [{name: DB_PASSWORD, value: hunter2}, {name: X, value: "1"}]
      memoryReservaton: 256
"""


def test_strict_makes_each_warning_an_error_with_its_rule_id(write):
    from ecsctl.app.validate import validate_paths
    from ecsctl.core.findings import Severity

    path = str(write("a.yaml", PLAIN_SECRET))
    plain = validate_paths([path])
    assert (plain.errors, plain.warnings, plain.promoted, plain.strict) == (1, 1, 0, False)
    strict = validate_paths([path], strict=True)
    assert (strict.errors, strict.warnings, strict.promoted, strict.strict) == (2, 0, 1, True)
    by_rule = {f.rule: f for f in strict.findings}
    assert (by_rule["W7001"].severity, by_rule["W7001"].promoted) == (Severity.ERROR, True)
    assert (by_rule["E1003"].severity, by_rule["E1003"].promoted) == (Severity.ERROR, False)  # an error stays unmarked
    assert [f.at(severity=Severity.WARNING, promoted=False) if f.promoted else f for f in strict.findings] == plain.findings
