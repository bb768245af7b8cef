"""No secret in any output or file: a canary through every command, saved plan files, and
refused commands that leave nothing behind."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import uuid
from pathlib import Path

import pytest

from ecsctl.cli.app import app

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


def run(runner, *args, input=None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def with_secrets(target: Path, canary: str) -> Path:
    """The example stack, with the canary where the issue found values leaking: an environment
    variable named like a secret, a URL with a password, a command option, a Docker label and a
    log option."""
    shutil.copytree(MANIFESTS, target)
    web = target / "web.yaml"
    text = web.read_text()
    text = text.replace(
        '        - {name: DB_PORT, value: "5432"}\n',
        '        - {name: DB_PORT, value: "5432"}\n'
        f"        - {{name: CANARY_API_TOKEN, value: {canary}-env}}\n"
        f'        - {{name: DATABASE_URL, value: "postgres://app:{canary}-url@db:5432/app"}}\n',
        1,
    )
    text = text.replace(
        "      essential: true\n",
        "      essential: true\n"
        f"      dockerLabels: {{password: {canary}-label}}\n"
        f"      command: [serve, --db-password, {canary}-cmd]\n",
        1,
    )
    assert text.count(canary) == 4
    web.write_text(text)
    worker = target / "worker.yaml"
    text = worker.read_text()
    assert "awslogs-stream-prefix: worker" in text
    text = text.replace("awslogs-stream-prefix: worker", f"awslogs-stream-prefix: worker\n          splunk-token: {canary}-log", 1)
    worker.write_text(text)
    return target


def leaks(canary: str, *texts: str | bytes) -> list[str]:
    return [t[:200] if isinstance(t, str) else repr(t[:200]) for t in texts
            if (canary in t if isinstance(t, str) else canary.encode() in t)]


def state_bytes(state: Path) -> list[bytes]:
    return [p.read_bytes() for p in state.parent.iterdir() if p.name.startswith(state.name)]


def test_a_canary_secret_never_appears_in_any_output_or_file(runner, tmp_path: Path) -> None:
    canary = f"canary-{uuid.uuid4().hex}"
    stack = with_secrets(tmp_path / "m", canary)
    state = tmp_path / "s" / "state.db"
    out: list[str] = []

    def ok(*args, code=0):
        result = run(runner, *args)
        assert result.exit_code == code, (args, result.output)
        out.extend([result.stdout, result.stderr])
        return result

    validated = ok("validate", str(stack))
    assert validated.stdout.count("W7001") == 5  # each of the five is warned about, none echoed
    ok("validate", "-o", "json", str(stack))
    ok("validate", "-o", "sarif", str(stack))
    for extra in ([], ["--full"], ["-o", "json"]):
        ok("plan", "-f", str(stack), "--state", str(state), *extra)
    plan_file = tmp_path / "plan.json"
    ok("plan", "-f", str(stack), "--state", str(state), "--out", str(plan_file))
    ok("apply", str(plan_file), "--state", str(state), "--auto-approve")
    keep = sqlite3.connect(state)  # an open reader keeps the WAL file from being removed
    keep.execute("SELECT COUNT(*) FROM meta").fetchall()
    (stack / "web.yaml").write_text((stack / "web.yaml").read_text().replace("desiredCount: 3", "desiredCount: 4"))
    ok("apply", "-f", str(stack), "--state", str(state), "--auto-approve")
    ok("plan", "-f", str(stack), "--state", str(state), "--full")
    for kind in ("clusters", "instances", "taskdefs", "services", "tasks", "targets"):
        ok("get", kind, "--state", str(state), "-o", "json")
        ok("get", kind, "--state", str(state))
    pulled = ok("state", "pull", "--state", str(state))
    ok("state", "list", "--state", str(state))
    ok("tick", "2m", "--state", str(state))
    ok("rollout", "status", "web", "--state", str(state))

    assert any(p.name.endswith("-wal") and p.stat().st_size for p in state.parent.iterdir())
    files = state_bytes(state)
    keep.close()
    assert leaks(canary, *out) == []
    assert leaks(canary, plan_file.read_bytes(), *files, *state_bytes(state)) == []
    assert pulled.stdout.count("<sensitive:hmac-sha256:") >= 5  # shown as digests, not left out


def test_a_changed_secret_plans_a_masked_update_and_an_unchanged_one_nothing(runner, tmp_path: Path) -> None:
    stack = with_secrets(tmp_path / "m", "first")
    state = str(tmp_path / "state.db")
    assert run(runner, "apply", "-f", str(stack), "--state", state, "--auto-approve").exit_code == 0
    assert run(runner, "plan", "-f", str(stack), "--state", state, "--detailed-exitcode").exit_code == 0
    web = stack / "web.yaml"
    web.write_text(web.read_text().replace("first-env", "second-env"))
    changed = run(runner, "plan", "-f", str(stack), "--state", state, "--detailed-exitcode")
    assert changed.exit_code == 2
    assert "~ containerDefinitions[web].environment[CANARY_API_TOKEN]: (sensitive value changed)" in changed.stdout
    assert "second" not in changed.stdout and "first" not in changed.stdout
    assert run(runner, "apply", "-f", str(stack), "--state", state, "--auto-approve").exit_code == 0
    assert run(runner, "plan", "-f", str(stack), "--state", state, "--detailed-exitcode").exit_code == 0


# -- saved plan files -------------------------------------------------------------------------------


def test_a_saved_plan_is_private_holds_no_secret_and_applies_with_the_manifests(runner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with_secrets(tmp_path / "m", "s3cr3t-value")
    plan_file = tmp_path / "plan.json"
    plan_file.write_text("old, world-readable\n")
    plan_file.chmod(0o644)
    assert run(runner, "plan", "-f", "m", "--state", "s.db", "--out", "plan.json").exit_code == 0
    assert stat.S_IMODE(plan_file.stat().st_mode) == 0o600
    text = plan_file.read_text()
    assert "s3cr3t-value" not in text and '"$sensitive": null' in text
    data = json.loads(text)
    assert data["manifests"] == sorted(f"m/{p.name}" for p in (tmp_path / "m").iterdir())
    applied = run(runner, "apply", "plan.json", "--state", "s.db", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    # what was applied from the file is what apply -f would have applied: nothing left to do
    assert run(runner, "plan", "-f", "m", "--state", "s.db", "--detailed-exitcode").exit_code == 0
    assert not list(tmp_path.glob(".plan.json.*"))  # no temporary file left


def test_a_saved_plan_is_refused_when_its_manifests_changed_or_are_missing(runner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    stack = with_secrets(tmp_path / "m", "s3cr3t-value")
    assert run(runner, "plan", "-f", "m", "--state", "s.db", "--out", "plan.json").exit_code == 0
    web = stack / "web.yaml"
    web.write_text(web.read_text() + "\n# a comment changes the bytes\n")
    changed = run(runner, "apply", "plan.json", "--state", "s.db", "--auto-approve")
    assert changed.exit_code == 1 and "manifests changed since the plan was made" in changed.stderr
    web.unlink()
    removed = run(runner, "apply", "plan.json", "--state", "s.db", "--auto-approve")
    assert removed.exit_code == 1 and "(m/web.yaml removed); run plan again" in removed.stderr
    shutil.rmtree(stack)
    missing = run(runner, "apply", "plan.json", "--state", "s.db", "--auto-approve")
    assert missing.exit_code == 1 and "(m: no such file or directory)" in missing.stderr
    assert "where the plan was made" in missing.stderr and "--skip-manifest-check" not in missing.stderr
    # only the manifests hold the values the plan left out: it cannot be applied without them
    unchecked = run(runner, "apply", "plan.json", "--state", "s.db", "--auto-approve", "--skip-manifest-check")
    assert unchecked.exit_code == 1 and "sensitive values" in unchecked.stderr
    assert not (tmp_path / "s.db").exists()


def test_a_plan_without_secrets_applies_without_its_manifests_only_when_asked(runner, tmp_path: Path, monkeypatch) -> None:
    """A plan moved where its manifests are not (a CI artefact) cannot be checked: refused, unless
    ``--skip-manifest-check`` says to apply it as saved, as Terraform applies a saved plan."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(MANIFESTS, tmp_path / "m")
    assert run(runner, "plan", "-f", "m", "--state", "s.db", "--out", "plan.json").exit_code == 0
    assert "$sensitive" not in (tmp_path / "plan.json").read_text()
    shutil.rmtree(tmp_path / "m")
    refused = run(runner, "apply", "plan.json", "--state", "s.db", "--auto-approve")
    assert refused.exit_code == 1 and len(refused.stderr.splitlines()) == 1
    assert "are not here (m: no such file or directory)" in refused.stderr and "--skip-manifest-check" in refused.stderr
    assert not (tmp_path / "s.db").exists()
    assert run(runner, "apply", "plan.json", "--state", "s.db", "--auto-approve", "--skip-manifest-check").exit_code == 0


@pytest.mark.parametrize("out, message", [("missing/plan.json", "does not exist"), (".", "is a folder")])
def test_plan_out_to_a_bad_place_is_one_line(runner, tmp_path: Path, monkeypatch, out, message) -> None:
    """A usage error (the CLI contract: refused before anything is planned), and no state is made."""
    monkeypatch.chdir(tmp_path)
    result = run(runner, "plan", "-f", str(MANIFESTS), "--state", "s.db", "--out", out)
    assert result.exit_code == 2 and message in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "s.db").exists()


# -- refused commands leave nothing behind ---------------------------------------------------------------


def _broken(tmp_path: Path) -> Path:
    target = tmp_path / "broken"
    shutil.copytree(MANIFESTS, target)
    web = target / "web.yaml"
    web.write_text(web.read_text().replace("networkMode: awsvpc", "networkMode: bridge", 1))
    return target


@pytest.mark.parametrize("refused", [
    lambda tmp: (["plan", "-f", str(_broken(tmp))], 1),
    lambda tmp: (["plan", "-f", str(_broken(tmp)), "-o", "json"], 1),
    lambda tmp: (["apply", "-f", str(_broken(tmp)), "--auto-approve"], 1),
    lambda tmp: (["apply", "-f", str(MANIFESTS)], 2),  # no terminal to confirm on
    lambda tmp: (["apply", str(tmp / "no-such-plan.json"), "--auto-approve"], 2),
], ids=["plan-invalid", "plan-json-invalid", "apply-invalid", "apply-no-terminal", "apply-missing-planfile"])
@pytest.mark.parametrize("where", ["new/deeper/state.db", "state.db"], ids=["new-folders", "existing-folder"])
def test_a_refused_command_leaves_no_file_behind(runner, tmp_path: Path, refused, where) -> None:
    args, code = refused(tmp_path)
    before = sorted(os.listdir(tmp_path))
    result = run(runner, *args, "--state", str(tmp_path / where))
    assert result.exit_code == code, result.output
    assert sorted(os.listdir(tmp_path)) == before


def test_an_internal_error_does_not_echo_its_message_unless_asked(monkeypatch, capsys) -> None:
    """A bug's exception text may quote an input value: exit 3 names only the type, unless
    ECSCTL_DEBUG asks for the message and the traceback."""
    import typer

    from ecsctl.cli.boundary import boundary

    @boundary
    def broken() -> None:
        raise KeyError("hunter2-canary-value")

    monkeypatch.delenv("ECSCTL_DEBUG", raising=False)
    try:
        broken()
    except typer.Exit as exc:
        assert exc.exit_code == 3
    err = capsys.readouterr().err
    assert err == "internal error: KeyError (set ECSCTL_DEBUG=1 for its message and the traceback)\n"
    monkeypatch.setenv("ECSCTL_DEBUG", "1")
    try:
        broken()
    except typer.Exit:
        pass
    assert "hunter2-canary-value" in capsys.readouterr().err
