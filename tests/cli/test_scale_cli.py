"""``ecsctl scale simulate`` through Typer's CliRunner: outputs, the plot, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecsctl.cli.app import app

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "scaling"


@pytest.fixture()
def stack(tmp_path):
    for name in ("web.yaml", "spike.csv", "cpu.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(app, list(args))


def test_json_timeline_open_loop(stack):
    result = invoke("scale", "simulate", "-f", str(stack / "web.yaml"), "--service", "web",
                    "--metrics", str(stack / "cpu.csv"), "-o", "json")
    assert result.exit_code == 0, result.output
    points = json.loads(result.stdout)
    assert points[0]["time"] == "2024-05-06T09:12:00Z"           # 3 datapoints above 60 from 09:10
    assert points[0]["desiredCount"] == 5                         # ceil(3 × 85 / 60)
    assert points[0]["reason"].endswith("in state ALARM triggered policy cpu60")
    assert {"metricValue", "runningCount"} <= set(points[0])
    assert any("AlarmLow" in p["reason"] for p in points)         # the quiet tail scales back in


def test_text_closed_loop_from_a_demand_file(stack):
    result = invoke("scale", "simulate", "-f", str(stack), "--service", "web", "--demand", str(stack / "spike.csv"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# closed loop: service/prod/web, 181 minutes from 2024-05-06T09:00Z")
    assert any("-> 30 " in line for line in lines)                 # the spike reaches maxCapacity
    assert "Setting desired count to 5." in lines[-1]              # 150 rps ÷ (60 % × 50) → 5


def test_closed_loop_from_the_manifest_pattern_and_scheduled_actions(stack):
    result = invoke("scale", "simulate", "-f", str(stack), "--service", "web",
                    "--from", "2024-05-06T00:00:00Z", "--to", "2024-05-07T00:00:00Z", "-o", "json")
    assert result.exit_code == 0, result.output
    reasons = [p["reason"] for p in json.loads(result.stdout)]
    assert "scheduled action name morning-floor was triggered" in reasons
    assert "scheduled action name evening was triggered" in reasons


def test_plot_png_and_svg(stack):
    for name in ("what-if.png", "what-if.svg"):
        out = stack / name
        result = invoke("scale", "simulate", "-f", str(stack), "--service", "web", "--demand", str(stack / "spike.csv"),
                        "--plot", str(out))
        assert result.exit_code == 0, result.output
        head = out.read_bytes()[:64]
        assert head.startswith(b"\x89PNG") if name.endswith(".png") else b"<svg" in out.read_bytes()[:600]


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["--service", "nope", "--metrics", "cpu.csv"], 1, "no service 'nope'"),
        (["--service", "web", "--metrics", "cpu.csv", "--demand", "spike.csv"], 2, "not both"),
        (["--service", "web", "--metrics", "missing.csv"], 1, "missing.csv: cannot read"),
        (["--service", "web", "--metrics", "bad.csv"], 1, "bad.csv:2: 'yesterday' is not a timestamp"),
        (["--service", "web", "--metrics", "cpu.csv", "--plot", "x.gif"], 2, "must end in .png or .svg"),
        (["--service", "web", "--metrics", "cpu.csv", "--from", "2024-05-06T10:00:00Z", "--to", "2024-05-06T09:00:00Z"], 2,
         "--to must be after --from"),
        (["--service", "web", "--metrics", "cpu.csv", "-o", "xml"], 2, "unknown output format"),
    ],
)
def test_errors_are_one_line(stack, monkeypatch, args, code, fragment):
    (stack / "bad.csv").write_text("timestamp,metric,value\nyesterday,ECSServiceAverageCPUUtilization,3\n")
    monkeypatch.chdir(stack)
    result = invoke("scale", "simulate", "-f", "web.yaml", *args)
    assert result.exit_code == code, result.output
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_a_metric_no_row_feeds_is_warned_about(stack):
    (stack / "other.csv").write_text("2024-05-06T09:00:00Z,CPUUtilization,99\n")
    result = invoke("scale", "simulate", "-f", str(stack / "web.yaml"), "--service", "web", "--metrics", str(stack / "other.csv"))
    assert result.exit_code == 0
    assert "warning: " in result.output and "no rows for ECSServiceAverageCPUUtilization" in result.output


def test_without_demand_the_closed_loop_is_refused(stack, tmp_path):
    text = (stack / "web.yaml").read_text()
    start = text.index("    # The closed loop")
    end = text.index("---", start)
    (stack / "web.yaml").write_text(text[:start] + text[end:])
    result = invoke("scale", "simulate", "-f", str(stack / "web.yaml"), "--service", "web")
    assert result.exit_code == 1
    assert "needs autoScaling.demand" in result.output


SCHEDULED_ONLY = """\
apiVersion: ecsctl/v1
kind: Cluster
metadata: {name: prod}
spec: {}
---
apiVersion: ecsctl/v1
kind: TaskDefinition
metadata: {name: web}
spec:
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: "256"
  memory: "512"
  containerDefinitions: [{name: web, image: "nginx:1.27"}]
---
apiVersion: ecsctl/v1
kind: Service
metadata: {name: web}
spec:
  cluster: prod
  taskDefinition: web
  desiredCount: 1
  launchType: FARGATE
  networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1]}}
  autoScaling:
    minCapacity: 1
    maxCapacity: 5
    scheduled:
      - {scheduledActionName: morning, schedule: "cron(30 1 * * ? *)", scalableTargetAction: {minCapacity: 3}}
"""


def test_scheduled_actions_alone_need_no_series(tmp_path):
    """A scheduled action sets min/max and pulls the desired count into the range ("minimum
    capacity was set to 3"): no metric or demand is needed to see when (found by a helper's trial)."""
    (tmp_path / "web.yaml").write_text(SCHEDULED_ONLY)
    result = invoke("scale", "simulate", "-f", str(tmp_path / "web.yaml"), "--service", "web",
                    "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z", "-o", "json")
    assert result.exit_code == 0, result.output
    assert [(p["time"], p["desiredCount"], p["reason"]) for p in json.loads(result.stdout)] == [
        ("2026-01-01T01:30:00Z", 1, "scheduled action name morning was triggered"),
        ("2026-01-01T01:30:00Z", 3, "minimum capacity was set to 3")]


def test_rows_of_a_metric_no_policy_reads_are_warned_about(tmp_path):
    (tmp_path / "web.yaml").write_text(SCHEDULED_ONLY)
    (tmp_path / "foo.csv").write_text("timestamp,metric,value\n2026-01-01T00:00:00Z,Foo,1\n")
    result = invoke("scale", "simulate", "-f", str(tmp_path / "web.yaml"), "--service", "web",
                    "--metrics", str(tmp_path / "foo.csv"))
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "no policy of 'web' reads Foo" in result.output
