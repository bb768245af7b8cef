"""The state says where each resource's manifest was read from (``app.sources``): a plan that
deletes a resource whose file is still there, left out of the inputs, is refused, wherever that
file is; another checkout's files are never taken for this one's."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ecsctl.cli.app import app

PARAMETER = "apiVersion: ecsctl/v1\nkind: Parameter\nmetadata: {{name: {}}}\nspec: {{type: String}}\n"


def run(runner, *args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _recorded(state: str) -> dict[str, str]:
    with sqlite3.connect(state) as db:
        return dict(db.execute("SELECT address, path FROM resource_sources"))


def _envs(root: Path) -> None:
    for env in ("dev", "prod"):
        (root / "envs" / env).mkdir(parents=True)
        (root / "envs" / env / "p.yaml").write_text(PARAMETER.format(f"{env}-db"))


def test_a_sibling_folder_the_last_apply_read_protects_what_it_declares(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _envs(tmp_path)
    state = str(tmp_path / "one.db")
    assert run(runner, "apply", "-f", "envs", "--state", state, "--auto-approve").exit_code == 0
    # relative to the project folder (here the current directory: no git work tree above it)
    assert _recorded(state) == {"parameter/dev-db": "envs/dev/p.yaml", "parameter/prod-db": "envs/prod/p.yaml"}

    refused = run(runner, "plan", "-f", "envs/dev", "--state", state)
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr == (
        "error: the plan would destroy parameter/prod-db, which envs/prod/p.yaml (the last apply read it from "
        "there) still declares: give every manifest of the stack (its folder) to -f, or remove the manifest to "
        "delete it, or, when the named files are the whole stack (dev.yaml and prod.yaml in one folder), pass "
        "--delete-left-out\n")
    # the apply refuses alike, and changes nothing
    assert run(runner, "apply", "-f", "envs/dev", "--state", state, "--auto-approve").exit_code == 1
    assert set(_recorded(state)) == {"parameter/dev-db", "parameter/prod-db"}

    told = json.loads(run(runner, "plan", "-f", "envs/dev", "--state", state, "--delete-left-out", "-o", "json").stdout)
    assert [c["address"] for c in told["changes"] if c["action"] == "delete"] == ["parameter/prod-db"]

    # a file that no longer declares it (renamed inside), or is gone, protects nothing
    (tmp_path / "envs" / "prod" / "p.yaml").write_text(PARAMETER.format("prod-cache"))
    plan = json.loads(run(runner, "plan", "-f", "envs/dev", "--state", state, "-o", "json").stdout)
    assert [c["address"] for c in plan["changes"] if c["action"] == "delete"] == ["parameter/prod-db"]
    (tmp_path / "envs" / "prod" / "p.yaml").unlink()
    result = run(runner, "apply", "-f", "envs/dev", "--state", state, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert _recorded(state) == {"parameter/dev-db": "envs/dev/p.yaml"}  # the destroyed one's record went with it


def test_a_moved_manifest_is_recorded_where_it_now_is(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _envs(tmp_path)
    state = str(tmp_path / "one.db")
    assert run(runner, "apply", "-f", "envs", "--state", state, "--auto-approve").exit_code == 0
    (tmp_path / "envs" / "prod" / "p.yaml").rename(tmp_path / "envs" / "prod" / "params.yaml")
    (tmp_path / "envs" / "dev" / "p.yaml").write_text(PARAMETER.format("dev-db") + "---\n" + PARAMETER.format("dev-x"))
    assert run(runner, "apply", "-f", "envs", "--state", state, "--auto-approve").exit_code == 0
    assert _recorded(state) == {"parameter/dev-db": "envs/dev/p.yaml", "parameter/dev-x": "envs/dev/p.yaml",
                                "parameter/prod-db": "envs/prod/params.yaml"}
    assert run(runner, "plan", "-f", "envs/dev", "--state", state).exit_code == 1


def test_another_checkout_of_the_repository_finds_its_own_copy_of_the_file(runner, tmp_path, monkeypatch):
    """Paths are recorded relative to the git work tree: a second clone sharing the state (an S3
    state, a CI runner) reads its own files, and a manifest deleted there is deleted."""
    a, b = tmp_path / "a", tmp_path / "b"
    for clone in (a, b):
        (clone / ".git").mkdir(parents=True)
        _envs(clone)
    state = str(tmp_path / "shared.db")
    monkeypatch.chdir(a / "envs")  # anywhere inside the work tree
    assert run(runner, "apply", "-f", ".", "--state", state, "--auto-approve").exit_code == 0
    assert _recorded(state)["parameter/prod-db"] == "envs/prod/p.yaml"

    monkeypatch.chdir(b)
    refused = run(runner, "plan", "-f", "envs/dev", "--state", state)
    assert refused.exit_code == 1 and "which envs/prod/p.yaml (the last apply read it from there)" in refused.stderr
    (b / "envs" / "prod" / "p.yaml").unlink()  # deleted in this clone; clone a still has it
    plan = json.loads(run(runner, "plan", "-f", "envs", "--state", state, "-o", "json").stdout)
    assert [c["address"] for c in plan["changes"] if c["action"] == "delete"] == ["parameter/prod-db"]


def test_a_saved_plan_records_where_its_manifests_were_read_from(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _envs(tmp_path)
    state = str(tmp_path / "one.db")
    assert run(runner, "plan", "-f", "envs", "--state", state, "--out", "p.plan").exit_code == 0
    assert json.loads(Path("p.plan").read_text())["manifest_sources"] == {
        "parameter/dev-db": "envs/dev/p.yaml", "parameter/prod-db": "envs/prod/p.yaml"}
    assert run(runner, "apply", "p.plan", "--state", state, "--auto-approve").exit_code == 0
    assert _recorded(state) == {"parameter/dev-db": "envs/dev/p.yaml", "parameter/prod-db": "envs/prod/p.yaml"}


def test_a_stack_outside_the_project_folder_is_not_recorded(runner, tmp_path, monkeypatch):
    """A copy of the stack in a temporary folder is no part of the project the command runs in:
    it is not recorded, and a later plan from another copy deletes what that one dropped (the
    folders beside and above the named paths still protect, as before)."""
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    monkeypatch.chdir(project)
    first, second = tmp_path / "copy1", tmp_path / "copy2"
    _envs(first)
    state = str(tmp_path / "one.db")
    assert run(runner, "apply", "-f", str(first / "envs"), "--state", state, "--auto-approve").exit_code == 0
    assert _recorded(state) == {}
    _envs(second)
    (second / "envs" / "prod" / "p.yaml").unlink()
    plan = json.loads(run(runner, "plan", "-f", str(second / "envs"), "--state", state, "-o", "json").stdout)
    assert [c["address"] for c in plan["changes"] if c["action"] == "delete"] == ["parameter/prod-db"]


def test_a_subfolder_of_a_named_file_is_protected_once_the_last_apply_read_it(runner, tmp_path, monkeypatch):
    """Without a record, the subfolders of a named file's folder are taken for other stacks
    (envs/dev/, envs/prod/); with one, the state says it is this stack's."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "one" / "nested").mkdir(parents=True)
    (tmp_path / "one" / "a.yaml").write_text(PARAMETER.format("a"))
    (tmp_path / "one" / "nested" / "deep.yaml").write_text(PARAMETER.format("deep"))
    state = str(tmp_path / "one.db")
    assert run(runner, "apply", "-f", "one", "--state", state, "--auto-approve").exit_code == 0
    refused = run(runner, "plan", "-f", "one/a.yaml", "--state", state)
    assert refused.exit_code == 1
    assert "parameter/deep, which one/nested/deep.yaml (the last apply read it from there) still declares" in refused.stderr
    with sqlite3.connect(state) as db:  # a state an older ecsctl wrote says nothing of it
        db.execute("DELETE FROM resource_sources")
    plan = json.loads(run(runner, "plan", "-f", "one/a.yaml", "--state", state, "-o", "json").stdout)
    assert [c["address"] for c in plan["changes"] if c["action"] == "delete"] == ["parameter/deep"]


def test_an_apply_with_nothing_to_change_records_what_the_state_does_not_say(runner, tmp_path, monkeypatch):
    """A state written before sources were recorded (or a manifest moved to another file) is
    brought up to date by the next apply, even one with no step."""
    monkeypatch.chdir(tmp_path)
    _envs(tmp_path)
    state = str(tmp_path / "one.db")
    assert run(runner, "apply", "-f", "envs", "--state", state, "--auto-approve").exit_code == 0
    with sqlite3.connect(state) as db:  # as an older ecsctl left it
        db.execute("DELETE FROM resource_sources")
    (tmp_path / "envs" / "prod" / "p.yaml").rename(tmp_path / "envs" / "prod" / "q.yaml")
    result = run(runner, "apply", "-f", "envs", "--state", state, "--auto-approve")
    assert result.exit_code == 0 and "No changes." in result.stdout, result.output
    assert _recorded(state) == {"parameter/dev-db": "envs/dev/p.yaml", "parameter/prod-db": "envs/prod/q.yaml"}
    assert run(runner, "apply", "-f", "envs/dev", "--state", state, "--auto-approve").exit_code == 1


def test_the_work_tree_is_found_from_the_manifests_not_the_current_directory(runner, tmp_path, monkeypatch):
    """Run from above the repository, or through a linked folder: the same records, the same refusal."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    shared = tmp_path / "shared"
    _envs(shared)
    (repo / "envs").symlink_to(shared / "envs")  # envs -> ../shared/envs: recorded as the inputs name it
    monkeypatch.chdir(tmp_path)
    state = str(tmp_path / "one.db")
    assert run(runner, "apply", "-f", "repo/envs", "--state", state, "--auto-approve").exit_code == 0
    assert _recorded(state) == {"parameter/dev-db": "envs/dev/p.yaml", "parameter/prod-db": "envs/prod/p.yaml"}
    refused = run(runner, "plan", "-f", "repo/envs/dev", "--state", state)
    assert refused.exit_code == 1 and "which repo/envs/prod/p.yaml (the last apply read it from there)" in refused.stderr
    monkeypatch.chdir(repo)
    refused = run(runner, "plan", "-f", "envs/dev", "--state", state)
    assert refused.exit_code == 1 and "which envs/prod/p.yaml (the last apply read it from there)" in refused.stderr


def test_a_recorded_file_that_no_longer_parses_still_protects(runner, tmp_path, monkeypatch):
    """Half-edited, it may still declare what it declared: refused until it reads again."""
    monkeypatch.chdir(tmp_path)
    _envs(tmp_path)
    state = str(tmp_path / "one.db")
    assert run(runner, "apply", "-f", "envs", "--state", state, "--auto-approve").exit_code == 0
    (tmp_path / "envs" / "prod" / "p.yaml").write_text(PARAMETER.format("prod-db") + "spec: [1\n")
    refused = run(runner, "plan", "-f", "envs/dev", "--state", state)
    assert refused.exit_code == 1
    assert ("which envs/prod/p.yaml (the last apply read it from there; it cannot be read now: fix it, or pass "
            "--delete-left-out) still declares") in refused.stderr, refused.stderr


def test_standard_input_records_nothing(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state = str(tmp_path / "one.db")
    result = runner.invoke(app, ["apply", "-f", "-", "--state", state, "--auto-approve"],
                           input=PARAMETER.format("db"), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert _recorded(state) == {}
