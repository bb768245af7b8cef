"""``ecsctl view`` on the command line: where the page goes, and one-line errors."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ecsctl.cli.app import app
from tests.view.viewkit import example_state  # noqa: F401 - fixtures


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_writes_the_page_to_out(tmp_path: Path, example_state: Path) -> None:
    out = tmp_path / "page.html"
    result = run("view", "--state", str(example_state), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert f"Wrote {out} (" in result.output


def test_state_is_a_global_option(tmp_path: Path, example_state: Path) -> None:
    out = tmp_path / "page.html"
    result = run("--state", str(example_state), "view", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert str(example_state) in out.read_text(encoding="utf-8")


def test_machine_output_is_the_view_model(example_state: Path) -> None:
    import json

    import yaml

    from ecsctl.app.view import build_view

    as_json = run("view", "--state", str(example_state), "-o", "json")
    as_yaml = run("view", "--state", str(example_state), "-o", "yaml")
    assert as_json.exit_code == as_yaml.exit_code == 0
    assert json.loads(as_json.stdout) == yaml.safe_load(as_yaml.stdout) == build_view(str(example_state))


def test_default_file_and_stdout(tmp_path: Path, example_state: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("view", "--state", str(example_state)).exit_code == 0
    assert (tmp_path / "ecsctl-view.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    result = run("view", "--state", str(example_state), "--out", "-")
    assert result.exit_code == 0 and result.stdout.startswith("<!DOCTYPE html>") and result.stdout.endswith("</html>\n")


def test_manifests_with_errors_are_refused_with_their_findings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: ecsctl/v1\nkind: TaskDefinition\nmetadata: {name: x}\nspec: {containerDefinitions: []}\n", encoding="utf-8")
    result = run("view", "-f", str(bad), "--state", str(tmp_path / "s.db"), "--out", str(tmp_path / "v.html"))
    assert result.exit_code == 1
    assert "bad.yaml:" in result.output and "error: the manifests have" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "v.html").exists()


def test_usage_errors_are_one_line_exit_2(tmp_path: Path, example_state: Path) -> None:
    for args, message in (
        (["--port", "8080"], "error: --port applies to --serve only"),
        (["--serve", "--out", "x.html"], "error: --out writes a file and --serve serves the page: give one of them"),
        (["-f", str(tmp_path / "missing")], f"error: {tmp_path / 'missing'}: no such file or directory"),
        (["-o", "xml"], "error: unknown output format 'xml' (one of: text, json, yaml)"),
        (["-o", "json", "--out", "x.html"], "error: -o json prints the view model on stdout; --out and --serve are for the page"),
    ):
        result = run("view", "--state", str(example_state), *args)
        assert (result.exit_code, result.output.strip().splitlines()[-1]) == (2, message), result.output


def test_an_out_path_that_cannot_be_written_is_one_line_exit_1(tmp_path: Path, example_state: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    for out, message in (
        (tmp_path, f"error: {tmp_path}: is a directory; give a file name (e.g. {tmp_path / 'ecsctl-view.html'})"),
        (Path("/nonexistent/dir/p.html"), "error: /nonexistent/dir/p.html: cannot write the page: /nonexistent/dir does not exist"),
        (blocker / "p.html", f"error: {blocker / 'p.html'}: cannot write the page: {blocker} is not a folder"),
    ):
        result = run("view", "--state", str(example_state), "--out", str(out))
        assert (result.exit_code, result.output) == (1, message + "\n")


def test_an_out_file_the_os_refuses_is_one_line_exit_1(tmp_path: Path, example_state: Path, monkeypatch) -> None:
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_text", refuse)
    out = tmp_path / "p.html"
    result = run("view", "--state", str(example_state), "--out", str(out))
    assert (result.exit_code, result.output) == (1, f"error: {out}: cannot write the page: Permission denied\n")


def test_a_file_that_is_not_a_state_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite", encoding="utf-8")
    result = run("view", "--state", str(junk), "--out", str(tmp_path / "v.html"))
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(f"error: {junk}:")


def test_no_state_and_no_manifests_is_nothing_to_draw(tmp_path: Path) -> None:
    missing = tmp_path / "none" / "state.db"
    for args in (("--out", str(tmp_path / "v.html")), ("-o", "json")):
        result = run("view", "--state", str(missing), *args)
        assert result.exit_code == 1
        assert result.output == f"error: no state at {missing}; run apply first\n"
    assert not (tmp_path / "v.html").exists() and not missing.parent.exists()


def test_serve_on_a_missing_state_is_refused_as_out_is(tmp_path: Path, monkeypatch) -> None:
    import ecsctl.cli.render.view.server as server

    def never(*args, **kwargs):  # a regression fails here instead of serving forever
        raise AssertionError("view --serve listened on a missing state")

    monkeypatch.setattr(server, "make_server", never)
    missing = tmp_path / "none" / "state.db"
    result = run("view", "--serve", "--state", str(missing))
    assert (result.exit_code, result.output) == (1, f"error: no state at {missing}; run apply first\n")
    assert not missing.parent.exists()


def test_serve_refuses_bad_manifests_before_listening(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: ecsctl/v1\nkind: TaskDefinition\nmetadata: {name: x}\nspec: {containerDefinitions: []}\n", encoding="utf-8")
    result = run("view", "--serve", "-f", str(bad), "--state", str(tmp_path / "s.db"))
    assert result.exit_code == 1 and "Serving" not in result.output and "error: the manifests have" in result.output
