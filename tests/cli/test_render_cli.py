"""``ecsctl render`` through Typer: --to kubernetes to stdout or --out DIR, refusals, --to ecs."""

from __future__ import annotations

import json

import shutil
from pathlib import Path

import yaml

from ecsctl.cli.app import app

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
EXPECTED_FILES = ["ingest-on-upload.yaml", "nightly-report.yaml", "web.yaml", "worker.yaml"]


def test_out_writes_one_file_per_service_or_scheduled_task(runner, tmp_path):
    out = tmp_path / "k8s"
    result = runner.invoke(app, ["render", "--to", "kubernetes", "-f", str(MANIFESTS), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == EXPECTED_FILES
    assert result.stdout == ""
    assert f"wrote {out / 'web.yaml'} (ServiceAccount, Deployment, Service, HorizontalPodAutoscaler)" in result.stderr
    web = list(yaml.safe_load_all((out / "web.yaml").read_text()))
    assert [o["kind"] for o in web] == ["ServiceAccount", "Deployment", "Service", "HorizontalPodAutoscaler"]
    assert (out / "worker.yaml").read_text().startswith("# ECS service 'worker' (cluster 'prod'")


def test_without_out_every_file_goes_to_stdout(runner):
    result = runner.invoke(app, ["render", "--to", "kubernetes", "-f", str(MANIFESTS)])
    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if line.startswith("# File: ")] == \
        ["# File: nightly-report.yaml", "# File: ingest-on-upload.yaml", "# File: web.yaml", "# File: worker.yaml"]
    kinds = [o["kind"] for o in yaml.safe_load_all(result.stdout) if o]
    assert kinds.count("Deployment") == 2 and kinds.count("CronJob") == 1 and kinds.count("Job") == 1


def test_no_secret_value_and_references_by_name(runner):
    result = runner.invoke(app, ["render", "--to", "kubernetes", "-f", str(MANIFESTS)])
    assert "secretKeyRef" in result.stdout and "prod-web-db" in result.stdout
    assert "kind: Secret\n" not in result.stdout


def test_what_kubernetes_cannot_express_refuses_the_run_with_file_and_line(runner, tmp_path):
    stack = tmp_path / "manifests"
    shutil.copytree(MANIFESTS, stack)
    batch = stack / "batch.yaml"
    batch.write_text(batch.read_text().replace("cron(0 2 * * ? *)", "cron(0 2 L * ? *)"))
    out = tmp_path / "k8s"
    result = runner.invoke(app, ["render", "--to", "kubernetes", "-f", str(stack), "--out", str(out)])
    assert result.exit_code == 1
    where = next(n for n, text in enumerate(batch.read_text().splitlines(), 1) if "cron(0 2 L" in text)
    line = next(line for line in result.stderr.splitlines() if "nightly-report" in line)
    assert line.startswith(f"{batch}:{where}:") and "'L' (the last day of the month) has no Kubernetes cron equivalent" in line
    assert "error: 1 object(s) cannot be rendered to Kubernetes; nothing was written" in result.stderr
    assert not out.exists()
    assert "Traceback" not in result.output


def test_manifest_errors_are_shown_and_refused(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: ecsctl/v1\nkind: Service\nmetadata: {name: web}\nspec: {cluster: prod, taskDefinition: web, desiredCont: 2}\n")
    result = runner.invoke(app, ["render", "--to", "kubernetes", "-f", str(bad)])
    assert result.exit_code == 1
    assert "unknown field 'desiredCont' (did you mean 'desiredCount'?)" in result.stderr
    assert "error: the manifests have" in result.stderr


def test_to_ecs_is_the_default_and_prints_the_api_requests(runner):
    result = runner.invoke(app, ["render", "-f", str(MANIFESTS)])
    assert result.exit_code == 0, result.output
    requests = json.loads(result.stdout)
    commands = {r["address"]: r["command"] for r in requests}
    assert commands["taskdef/web"] == "aws ecs register-task-definition"
    assert commands["service/prod/web"] == "aws ecs create-service"


def test_to_ecs_refuses_to_write_a_plain_text_secret_unless_asked(runner, tmp_path):
    """A request is a file, a terminal log or a CI artefact: a value that looks secret (W7001)
    is not written into one unless --show-sensitive says so; nothing is written then."""
    td = tmp_path / "td.yaml"
    td.write_text("apiVersion: ecsctl/v1\nkind: TaskDefinition\nmetadata: {name: web}\nspec:\n"
                  "  requiresCompatibilities: [EC2]\n  containerDefinitions:\n"
                  "    - {name: app, image: nginx, memory: 128, healthCheck: {command: "
                  "[CMD-SHELL, 'curl -u admin:hunter2 http://localhost/ || exit 1']}}\n")
    out = tmp_path / "out"
    for extra in ([], ["--out", str(out)]):
        refused = runner.invoke(app, ["render", "-f", str(td), *extra])
        assert refused.exit_code == 1 and refused.stdout == "" and "hunter2" not in refused.stderr
        assert refused.stderr == (
            f"error: {td}:7:81: argument healthCheck.command[1] looks like a plain-text secret (it passes a user and a "
            "password for curl or wget (-u user:password) in a shell command); read it from an environment variable set from 'secrets' "
            "instead; render would write it out in plain text, so nothing was written: pass --show-sensitive to write "
            "it anyway\n")
    assert not out.exists()
    shown = runner.invoke(app, ["render", "-f", str(td), "--show-sensitive"])
    assert shown.exit_code == 0 and "admin:hunter2" in json.loads(shown.stdout)["containerDefinitions"][0]["healthCheck"]["command"][1]


def test_to_ecs_writes_placeholders_that_validate_does_not_warn_of(runner, tmp_path):
    td = tmp_path / "td.yaml"
    td.write_text("apiVersion: ecsctl/v1\nkind: TaskDefinition\nmetadata: {name: web}\nspec:\n"
                  "  requiresCompatibilities: [EC2]\n  containerDefinitions:\n"
                  "    - {name: app, image: nginx, memory: 128, environment: "
                  "[{name: DB_PASSWORD, value: '${DB_PASSWORD}'}, {name: API_TOKEN, value: changeme}]}\n")
    result = runner.invoke(app, ["render", "-f", str(td)])
    assert result.exit_code == 0, result.output
    environment = json.loads(result.stdout)["containerDefinitions"][0]["environment"]
    assert sorted(e["value"] for e in environment) == ["${DB_PASSWORD}", "changeme"]


def test_to_ecs_out_writes_one_request_file_per_resource(runner, tmp_path):
    """The files aws ecs ... --cli-input-json file://… takes, each named on stderr with its command."""
    out = tmp_path / "requests"
    result = runner.invoke(app, ["render", "-f", str(MANIFESTS), "--out", str(out)])
    assert result.exit_code == 0, result.output
    printed = {r["address"]: r for r in json.loads(runner.invoke(app, ["render", "-f", str(MANIFESTS)]).stdout)}
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(a.replace("/", "-") + ".json" for a in printed)
    web = json.loads((out / "taskdef-web.json").read_text())
    assert web == printed["taskdef/web"]["request"] and web["family"] == "web"
    assert f"aws ecs register-task-definition --cli-input-json file://{out / 'taskdef-web.json'}" in result.stderr.splitlines()


def test_an_unknown_target_is_a_usage_error(runner):
    result = runner.invoke(app, ["render", "--to", "nomad", "-f", str(MANIFESTS)])
    assert result.exit_code == 2


def test_out_that_is_a_file_is_a_usage_error(runner, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    result = runner.invoke(app, ["render", "--to", "kubernetes", "-f", str(MANIFESTS), "--out", str(target)])
    assert result.exit_code == 2 and "not a directory" in result.stderr
