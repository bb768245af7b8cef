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


def test_a_wrong_type_stops_the_rules_for_that_document(write):
    text = TYPO_AND_SIZE.replace("memoryReservaton: 256", "essential: 'yes'")
    report = Validator().validate([str(write("a.yaml", text))])
    assert [f.rule for f in report.findings] == ["E1003"]
    assert "essential must be a boolean" in report.findings[0].message
