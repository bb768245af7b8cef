"""``ecsctl validate``: exit codes, the -o json contract (DESIGN §4), the CI formats and their golden files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import ecsctl
import ecsctl.app.validate as app_validate
from ecsctl.cli.app import app
from ecsctl.cli.render.findings import RENDERERS
from ecsctl.cli.render.github import escape_data, escape_property
from ecsctl.core.findings import Finding, Severity, ValidationReport
from ecsctl.core.rules.base import Rule

REPO = Path(__file__).resolve().parents[2]
FINDING_KEYS = ["file", "line", "column", "path", "rule", "severity", "message"]
REPORT_KEYS = ["files", "documents", "errors", "warnings", "findings"]

DUPLICATE_KEY = """\
apiVersion: ecsctl/v1
kind: TaskDefinition
metadata: {name: dup}
spec:
  family: dup
  family: dup
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: "256"
  memory: "512"
  containerDefinitions:
    - {name: web, image: "nginx:1.27", essential: true}
"""


class _TestWarning(Rule):
    """A warning only the tests raise, on the first container's image."""

    id = "W9999"
    title = "test-only warning"
    kinds = ("TaskDefinition",)
    severity = Severity.WARNING

    def check(self, spec, doc, ctx):
        yield ("containerDefinitions", 0, "image"), "a test warning"


@pytest.fixture
def with_test_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    real = app_validate.all_rules
    monkeypatch.setattr(app_validate, "all_rules", lambda: {**real(), _TestWarning.id: _TestWarning})


def _run(runner, *args: str):
    return runner.invoke(app, ["validate", *args])


# --- exit codes ---------------------------------------------------------------------------


def test_clean_manifest_exits_0(runner, minimal_taskdef: Path) -> None:
    result = _run(runner, str(minimal_taskdef))
    assert result.exit_code == 0, result.output
    assert result.stdout == "0 errors, 0 warnings in 1 document (1 file)\n"


def test_errors_exit_1(runner, write) -> None:
    path = write("dup.yaml", DUPLICATE_KEY)
    result = _run(runner, str(path))
    assert result.exit_code == 1
    assert f"{path}:6:3: error E0008 duplicate key 'family'" in result.stdout


def test_warnings_do_not_fail_without_strict(runner, minimal_taskdef: Path, with_test_warning) -> None:
    result = _run(runner, str(minimal_taskdef))
    assert result.exit_code == 0, result.output
    assert f"{minimal_taskdef}:12:7: warning W9999 a test warning\n" in result.stdout
    assert result.stdout.endswith("0 errors, 1 warning in 1 document (1 file)\n")
    assert result.stderr == ""


def test_strict_reports_the_warnings_it_fails_on_as_errors(runner, minimal_taskdef: Path, with_test_warning) -> None:
    result = _run(runner, "--strict", str(minimal_taskdef))
    assert result.exit_code == 1, result.output
    assert f"{minimal_taskdef}:12:7: error W9999 a test warning (a warning, an error under --strict)\n" in result.stdout
    assert result.stdout.endswith("1 error, 0 warnings in 1 document (1 file); --strict counted 1 warning as an error\n")
    assert result.stderr == ""  # the report itself says why the run failed


@pytest.mark.parametrize(
    "args, stderr_fragment",
    [
        (["--bogus", "x.yaml"], "No such option"),
        (["-o", "xml", "x.yaml"], "error: unknown output format 'xml'"),
        ([], "error: validate needs files or directories"),
        (["does-not-exist.yaml"], "error: does-not-exist.yaml: no such file or directory"),
    ],
    ids=["unknown-option", "unknown-format", "no-path", "missing-path"],
)
def test_usage_errors_exit_2(runner, args: list[str], stderr_fragment: str) -> None:
    result = _run(runner, *args)
    assert result.exit_code == 2
    assert stderr_fragment in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_directories_recurse_into_manifest_files(runner, write, tmp_path: Path, taskdef_text: str) -> None:
    for name in ("a.yaml", "sub/b.yml"):
        write(name, taskdef_text.replace("web", name.split("/")[-1].split(".")[0]))
    write("sub/deeper/c.json", '{"family": "c", "containerDefinitions": [{"name": "c", "image": "nginx", "memory": 128, "essential": true}]}')
    write("notes.txt", "not: [a manifest")
    write(".hidden/x.yaml", "not: [a manifest")
    result = _run(runner, "-o", "json", str(tmp_path))
    payload = json.loads(result.stdout)
    assert (payload["files"], payload["documents"]) == (3, 3), result.stdout
    assert result.exit_code == (1 if payload["errors"] else 0)


def test_stdin(runner) -> None:
    result = runner.invoke(app, ["validate", "-o", "json", "-"], input=DUPLICATE_KEY)
    payload = json.loads(result.stdout)
    assert result.exit_code == 1
    assert [(f["file"], f["rule"], f["line"]) for f in payload["findings"]] == [("-", "E0008", 6)]


# --- -o json: the contract of DESIGN §4 ----------------------------------------------------


def test_json_output_shape(runner, write, minimal_taskdef: Path) -> None:
    clean = minimal_taskdef
    dup = write("dup.yaml", DUPLICATE_KEY)
    result = _run(runner, "-o", "json", str(clean), str(dup))
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert list(payload) == REPORT_KEYS
    assert (payload["files"], payload["documents"], payload["errors"], payload["warnings"]) == (2, 2, 1, 0)
    [finding] = payload["findings"]
    assert list(finding) == FINDING_KEYS
    assert finding == {
        "file": str(dup),
        "line": 6,
        "column": 3,
        "path": "/spec/family",
        "rule": "E0008",
        "severity": "error",
        "message": "duplicate key 'family': a later value would silently replace the earlier one",
    }


def test_json_output_types_on_hostile_input(runner, write, tmp_path: Path) -> None:
    write("bad-utf8.yaml", b"a: caf\xe9\n")
    write("tag.yaml", "a: !!python/object/apply:os.system ['true']\n")
    write("empty.json", "")
    write("list.yaml", "- 1\n")
    # named one by one: under a directory, files without a manifest's marks would be skipped
    result = _run(runner, "-o", "json", *sorted(str(p) for p in tmp_path.iterdir()))
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert sorted(f["rule"] for f in payload["findings"]) == ["E0001", "E0003", "E0004", "E0010"]
    for f in payload["findings"]:
        assert list(f) == FINDING_KEYS
        assert isinstance(f["line"], int) and f["line"] >= 1 and isinstance(f["column"], int) and f["column"] >= 1
        assert f["path"] == "" or f["path"].startswith("/")
        assert f["severity"] in ("error", "warning")


# --- the CI formats through the CLI ----------------------------------------------------------


def test_sarif_output(runner, write, taskdef_text: str, with_test_warning) -> None:
    path = write("web.yaml", taskdef_text + "  family: web\n")
    result = _run(runner, "-o", "sarif", str(path))
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("ecsctl", ecsctl.__version__)
    assert driver["informationUri"].startswith("https://")
    rules = {r["id"]: r for r in driver["rules"]}
    assert list(rules) == ["E0008", "W9999"]
    assert rules["E0008"]["shortDescription"]["text"] == "Duplicate key"
    # The monkeypatched rule is not in the catalogue: it is described by its ID and first message.
    assert rules["W9999"]["shortDescription"]["text"] == "W9999"
    assert rules["W9999"]["defaultConfiguration"]["level"] == "warning"
    for rule in driver["rules"]:
        assert {"id", "shortDescription", "fullDescription", "help", "defaultConfiguration"} <= set(rule)
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert set(by_rule) == {"E0008", "W9999"}
    for result_ in run["results"]:
        assert driver["rules"][result_["ruleIndex"]]["id"] == result_["ruleId"]
        assert result_["level"] in ("error", "warning") and result_["message"]["text"]
        [location] = result_["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == path.as_posix()  # outside the working directory: left absolute
        assert physical["region"]["startLine"] >= 1 and physical["region"]["startColumn"] >= 1
    assert by_rule["W9999"]["level"] == "warning"
    assert by_rule["W9999"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 12, "startColumn": 7}
    assert by_rule["W9999"]["locations"][0]["logicalLocations"][0]["name"] == "/spec/containerDefinitions/0/image"


def test_sarif_paths_are_relative_with_forward_slashes(runner, write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write("deploy/web.yaml", DUPLICATE_KEY)
    monkeypatch.chdir(tmp_path)
    result = _run(runner, "-o", "sarif", str(tmp_path / "deploy"))
    [res] = json.loads(result.stdout)["runs"][0]["results"]
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "deploy/web.yaml"


def test_sarif_uris_are_percent_encoded(runner, write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SARIF 2.1.0 §3.10: artifactLocation.uri is a URI reference, so a file named with spaces,
    '<', ':' or '%' is percent-encoded (RFC 3986; ',' and '&' may stand), as code scanning reads it back."""
    write("fmt dir/ü/a&b<c>:d%.yaml", DUPLICATE_KEY)
    monkeypatch.chdir(tmp_path)
    result = _run(runner, "-o", "sarif", str(tmp_path / "fmt dir"))
    [res] = json.loads(result.stdout)["runs"][0]["results"]
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "fmt%20dir/%C3%BC/a&b%3Cc%3E%3Ad%25.yaml"


def test_junit_output_parses(runner, write, tmp_path: Path, minimal_taskdef: Path) -> None:
    dup = write("dup.yaml", DUPLICATE_KEY)
    result = _run(runner, "-o", "junit", str(tmp_path))
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout.encode())
    [suite] = root.iter("testsuite")
    assert suite.get("name") == "ecsctl validate"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [str(dup), "1 file without findings"]
    [failure] = cases[0].findall("failure")
    assert failure.get("message").startswith("E0008 duplicate key 'family'")
    assert failure.text == f"{dup}:6:3"


def test_github_output(runner, write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write("dup.yaml", DUPLICATE_KEY)
    monkeypatch.chdir(tmp_path)
    result = _run(runner, "-o", "github", "dup.yaml")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=dup.yaml,line=6,col=3,title=E0008::duplicate key 'family': a later value would silently replace the earlier one",
        "1 error, 0 warnings in 1 document (1 file)",
    ]


# --- --strict in every format: what fails the run is reported as an error ---------------------


def _strict_text(out: str, path: Path) -> None:
    assert f"{path}:12:7: error W9999 a test warning (a warning, an error under --strict)" in out
    assert out.endswith("1 error, 0 warnings in 1 document (1 file); --strict counted 1 warning as an error\n")


def _strict_data(payload: dict, path: Path) -> None:
    assert list(payload) == [*REPORT_KEYS, "strict"] and payload["strict"] is True
    assert (payload["errors"], payload["warnings"]) == (1, 0)
    [finding] = payload["findings"]
    assert list(finding) == [*FINDING_KEYS, "promoted"]
    assert (finding["rule"], finding["severity"], finding["promoted"], finding["message"]) == ("W9999", "error", True, "a test warning")


def _strict_json(out: str, path: Path) -> None:
    _strict_data(json.loads(out), path)


def _strict_yaml(out: str, path: Path) -> None:
    import yaml

    _strict_data(yaml.safe_load(out), path)


def _strict_junit(out: str, path: Path) -> None:
    suites = ET.fromstring(out.encode())
    [suite] = suites.iter("testsuite")
    for element in (suites, suite):
        assert (element.get("tests"), element.get("failures"), element.get("errors")) == ("1", "1", "0")
    assert [(p.get("name"), p.get("value")) for p in suite.iter("property")] == [("strict", "true")]
    [case] = suite.findall("testcase")
    [failure] = case.findall("failure")
    assert (failure.get("type"), failure.get("message")) == ("W9999", "W9999 a test warning (a warning, an error under --strict)")
    assert failure.text == f"{path}:12:7" and case.find("system-out") is None


def _strict_sarif(out: str, path: Path) -> None:
    [run] = json.loads(out)["runs"]
    [rule] = run["tool"]["driver"]["rules"]
    assert (rule["id"], rule["defaultConfiguration"]["level"]) == ("W9999", "warning")  # the rule's own level
    [result] = run["results"]
    assert (result["ruleId"], result["level"], result["properties"]) == ("W9999", "error", {"promoted": True})
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is True and invocation["properties"] == {"strict": True}
    assert invocation["ruleConfigurationOverrides"] == [{"descriptor": {"id": "W9999", "index": 0}, "configuration": {"level": "error"}}]


def _strict_github(out: str, path: Path) -> None:
    assert out.splitlines() == [
        f"::error file={path.as_posix()},line=12,col=7,title=W9999::a test warning (a warning, an error under --strict)",
        "1 error, 0 warnings in 1 document (1 file); --strict counted 1 warning as an error",
    ]


STRICT = {"text": _strict_text, "json": _strict_json, "yaml": _strict_yaml, "junit": _strict_junit,
          "sarif": _strict_sarif, "github": _strict_github}


def test_strict_is_checked_for_every_format() -> None:
    assert sorted(STRICT) == sorted(RENDERERS)


@pytest.mark.parametrize("fmt", sorted(STRICT))
def test_strict_warnings_are_errors_in_every_format(runner, minimal_taskdef: Path, with_test_warning, fmt: str) -> None:
    result = _run(runner, "--strict", "-o", fmt, str(minimal_taskdef))
    assert result.exit_code == 1, result.output
    assert result.stderr == ""
    STRICT[fmt](result.stdout, minimal_taskdef)


@pytest.mark.parametrize("fmt", sorted(STRICT))
def test_a_clean_run_under_strict_differs_only_in_saying_so(runner, minimal_taskdef: Path, fmt: str) -> None:
    plain, strict = (_run(runner, *extra, "-o", fmt, str(minimal_taskdef)) for extra in ((), ("--strict",)))
    assert (plain.exit_code, strict.exit_code) == (0, 0), strict.output
    if fmt in ("text", "github"):
        assert strict.stdout == plain.stdout
    elif fmt in ("json", "yaml"):
        import yaml

        assert yaml.safe_load(strict.stdout) == {**yaml.safe_load(plain.stdout), "strict": True}
    elif fmt == "sarif":
        log = json.loads(strict.stdout)
        assert log["runs"][0].pop("invocations") == [{"executionSuccessful": True, "properties": {"strict": True}}]
        assert log == json.loads(plain.stdout)
    else:
        marked = ET.fromstring(strict.stdout.encode())
        properties = marked.find("testsuite/properties")
        assert [(p.get("name"), p.get("value")) for p in properties] == [("strict", "true")]
        marked.find("testsuite").remove(properties)
        assert ET.tostring(marked) == ET.tostring(ET.fromstring(plain.stdout.encode()))


# --- the real entry point -------------------------------------------------------------------


def test_real_entry_point_never_shows_a_traceback(write, tmp_path: Path) -> None:
    write("bomb.yaml", "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")))
    write("tag.yaml", "a: !!python/object/apply:os.system ['echo pwned']\n")
    write("bad.json", '{"a": 1,}')
    write("utf16.yaml", "a: 1\n".encode("utf-16"))
    write("deep.json", "[" * 5000)
    write("typo.yaml", "apiVersion: ecsctl/v1\nkind: TaskDefinitoin\nmetadata: {name: x}\nspec: {}\n")
    named = sorted(str(p) for p in tmp_path.iterdir())  # under a directory, files without a manifest's marks are skipped
    proc = subprocess.run([sys.executable, "-m", "ecsctl", "validate", *named], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr == ""
    rules = sorted(line.split()[2] for line in proc.stdout.splitlines() if ": error " in line)
    assert rules == ["E0001", "E0002", "E0004", "E0005", "E0007", "E0013"]
    assert proc.stdout.endswith("6 errors, 0 warnings in 1 document (6 files)\n")


@pytest.mark.parametrize("argv", [["--version"], ["-V"]])
def test_version(runner, argv: list[str]) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == 0
    assert result.stdout == f"ecsctl {ecsctl.__version__}\n"
    proc = subprocess.run([sys.executable, "-m", "ecsctl", *argv], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"ecsctl {ecsctl.__version__}\n", "")


# --- renderers on a fixed report, against golden files ------------------------------------------


def golden_report() -> ValidationReport:
    """Findings across two files, out of order, with characters every format must escape."""
    return ValidationReport(
        files=3,
        documents=4,
        findings=[
            Finding("W9999", Severity.WARNING, "image 'nginx:latest' uses a moving tag", "deploy/web.yaml",
                    ("spec", "containerDefinitions", 0, "image"), 14, 14, 1),
            Finding("E0008", Severity.ERROR, "duplicate key 'family': a later value would silently replace the earlier one",
                    "deploy/web.yaml", ("spec", "family"), 6, 3, 0),
            Finding("E0014", Severity.ERROR, "metadata.name 'a,b: <c> & 100%' must be 1-255 letters, digits, '-' or '_'",
                    "deploy/web.yaml", ("metadata", "name"), 11, 9, 1),
            Finding("E0002", Severity.ERROR, "invalid JSON: Expecting property name enclosed in double quotes\nline two",
                    "deploy/api,v2.json", (), 3, 1, 0),
        ],
    )


GOLDEN = [("text", False, "report.txt"), ("text", True, "report.color.txt"), ("json", False, "report.json"),
          ("sarif", False, "report.sarif"), ("junit", False, "report.junit.xml"), ("github", False, "report.github.txt")]


@pytest.mark.parametrize("fmt, color, name", GOLDEN, ids=[g[2] for g in GOLDEN])
def test_golden(golden, monkeypatch: pytest.MonkeyPatch, fmt: str, color: bool, name: str) -> None:
    monkeypatch.setattr(ecsctl, "__version__", "0.0.0-golden")
    golden(name, RENDERERS[fmt](golden_report(), color=color))


GOLDEN_STRICT = [("text", "report.strict.txt"), ("json", "report.strict.json"), ("sarif", "report.strict.sarif"),
                 ("junit", "report.strict.junit.xml"), ("github", "report.strict.github.txt")]


@pytest.mark.parametrize("fmt, name", GOLDEN_STRICT, ids=[g[1] for g in GOLDEN_STRICT])
def test_golden_strict(golden, monkeypatch: pytest.MonkeyPatch, fmt: str, name: str) -> None:
    """The same report under --strict: its warning (W9999) is an error, marked as promoted."""
    monkeypatch.setattr(ecsctl, "__version__", "0.0.0-golden")
    golden(name, RENDERERS[fmt](golden_report().under_strict(), color=False))


def test_every_format_has_a_renderer() -> None:
    from ecsctl.cli.options import FindingsFormat

    assert sorted(RENDERERS) == sorted(f.value for f in FindingsFormat)


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_empty_report_renders(fmt: str) -> None:
    out = RENDERERS[fmt](ValidationReport(files=2, documents=2), color=False)
    assert out.endswith("\n")
    if fmt in ("json", "sarif"):
        assert json.loads(out)
    if fmt == "junit":
        suite = ET.fromstring(out.encode()).find("testsuite")
        assert (suite.get("tests"), suite.get("failures")) == ("1", "0")
        assert [c.get("name") for c in suite.iter("testcase")] == ["2 files without findings"]


@pytest.mark.parametrize(
    "raw, data, prop",
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\nb\r\nc", "a%0Ab%0D%0Ac", "a%0Ab%0D%0Ac"),
        ("a,b: c", "a,b: c", "a%2Cb%3A c"),
        ("%0A", "%250A", "%250A"),
        ("::error::x", "::error::x", "%3A%3Aerror%3A%3Ax"),
    ],
)
def test_github_escaping(raw: str, data: str, prop: str) -> None:
    assert (escape_data(raw), escape_property(raw)) == (data, prop)


def test_junit_survives_characters_xml_cannot_hold() -> None:
    report = ValidationReport(1, 1, [Finding("E0011", Severity.ERROR, "unknown field 'a\x00\x1b]]>'", "x<&>.yaml", (), 1, 1)])
    root = ET.fromstring(RENDERERS["junit"](report).encode())
    case = root.find("testsuite/testcase")
    assert case.get("name") == "x<&>.yaml"
    assert case.find("failure").get("message") == "E0011 unknown field 'a\ufffd\ufffd]]>'"


# --- what a directory scan takes: exclude, .ecsctlignore, YAML that is not for ecsctl ----------

WORKFLOW = "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{run: make}]\n"
PRECOMMIT = "repos:\n  - repo: https://github.com/ecsctl/ecsctl\n    rev: v0.1.0\n    hooks: [{id: ecsctl-validate}]\n"
COMPOSE = "services:\n  web:\n    image: nginx:1.27\n    ports: ['80:80']\n"


def test_a_directory_scan_skips_yaml_that_is_not_for_ecsctl_with_a_note(runner, write, tmp_path, taskdef_text) -> None:
    write("repo/web.yaml", taskdef_text)
    write("repo/ci/workflow.yml", WORKFLOW)
    write("repo/.pre-commit-config.yaml", PRECOMMIT)
    write("repo/docker-compose.yml", COMPOSE)
    result = _run(runner, "-o", "json", str(tmp_path / "repo"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"] == 1
    notes = result.stderr.splitlines()
    assert len(notes) == 3 and all(n.startswith("note: ") and ": skipped, not an ecsctl manifest" in n for n in notes)
    assert any("workflow.yml: skipped, not an ecsctl manifest or an ECS task definition (a GitHub Actions workflow)" in n
               for n in notes)


def test_a_file_named_explicitly_is_still_checked(runner, write) -> None:
    compose = write("docker-compose.yml", COMPOSE)
    result = _run(runner, str(compose))
    assert result.exit_code == 1 and "E0013" in result.stdout


def test_the_pre_commit_hook_skips_named_files_that_are_not_manifests(runner, write, taskdef_text) -> None:
    hook = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert "entry: ecsctl validate --skip-non-manifests" in hook
    staged = [write(".github/workflows/ci.yml", WORKFLOW), write(".pre-commit-config.yaml", PRECOMMIT), write("web.yaml", taskdef_text)]
    result = _run(runner, "--skip-non-manifests", *map(str, staged))
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("0 errors, 0 warnings in 1 document (1 file)\n")
    assert len(result.stderr.splitlines()) == 2


def test_exclude_globs_and_ecsctlignore(runner, write, tmp_path, taskdef_text, monkeypatch) -> None:
    broken = "apiVersion: ecsctl/v1\nkind: Nope\n"
    write("stack/web.yaml", taskdef_text)
    write("stack/old/legacy.yaml", broken)
    write("stack/generated.json", '{"family": 1}')
    write("stack/examples/x.yaml", broken)
    write("stack/.ecsctlignore", "# examples are not deployed\nexamples/\n")
    monkeypatch.chdir(tmp_path)
    everything_but = _run(runner, "-o", "json", "stack")
    assert json.loads(everything_but.stdout)["files"] == 3  # .ecsctlignore left examples/ out
    result = _run(runner, "-o", "json", "stack", "--exclude", "old/*", "--exclude", "*.json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"] == 1
    write(".ecsctlignore", "stack/old\n*.json\n")  # in the current directory, relative to it
    assert json.loads(_run(runner, "-o", "json", "stack").stdout)["files"] == 1
    named = _run(runner, "stack/generated.json")  # excluded even when named, with a note
    assert named.exit_code == 0 and named.stderr == "note: stack/generated.json: skipped, excluded by '*.json'\n"


def test_plan_skips_what_validate_skips(runner, write, tmp_path, taskdef_text) -> None:
    write("stack/web.yaml", taskdef_text)
    write("stack/workflow.yml", WORKFLOW)
    result = runner.invoke(app, ["plan", "-f", str(tmp_path / "stack"), "--state", str(tmp_path / "s.db")])
    assert result.exit_code == 0, result.output
    assert "workflow.yml: skipped" in result.stderr and "1 to create" in result.stdout


def test_validate_yaml_output_is_the_json_document(runner, write, taskdef_text) -> None:
    import yaml

    path = write("web.yaml", taskdef_text)
    as_json = json.loads(_run(runner, "-o", "json", str(path)).stdout)
    assert yaml.safe_load(_run(runner, "-o", "yaml", str(path)).stdout) == as_json


def test_a_file_named_twice_is_read_once(runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a folder and a file in it, or the folder under two spellings (a pre-commit hook names both)
    target = tmp_path / "m"
    shutil.copytree(REPO / "manifests", target)
    monkeypatch.chdir(tmp_path)
    alone = _run(runner, "m")
    assert alone.exit_code == 0, alone.output
    for args in (["m", "./m"], ["m", "m/web.yaml"], ["m/web.yaml", "m"]):
        both = _run(runner, *args)
        assert both.exit_code == 0 and "E0016" not in both.stdout, both.output
        assert both.stdout.splitlines()[-1] == alone.stdout.splitlines()[-1]  # the same documents and files


def test_an_empty_folder_says_nothing_was_checked(runner, tmp_path: Path) -> None:
    """0 documents is a pass (as kubeconform's), but a CI log shows that nothing was checked."""
    (tmp_path / "deploy").mkdir()
    result = _run(runner, str(tmp_path / "deploy"))
    assert result.exit_code == 0
    assert result.stderr == f"note: no manifests in {tmp_path / 'deploy'}: nothing was checked\n"


def test_a_mistyped_api_version_is_an_error_not_a_skipped_file(runner, write, tmp_path, taskdef_text) -> None:
    """Skipped as someone else's, the file's resources would be planned for deletion."""
    write("stack/web.yaml", taskdef_text.replace("apiVersion: ecsctl/v1", "apiVersion: ecsctl.io/v1"))
    write("stack/k8s.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")  # someone else's: skipped
    result = _run(runner, str(tmp_path / "stack"))
    assert result.exit_code == 1
    assert "E0012" in result.stdout and "unsupported apiVersion 'ecsctl.io/v1'" in result.stdout
    assert "k8s.yaml: skipped, not an ecsctl manifest" in result.stderr


def test_linked_folders_and_upper_case_suffixes_are_searched(runner, write, tmp_path, taskdef_text) -> None:
    write("shared/web.yaml", taskdef_text)
    write("stack/worker.YAML", taskdef_text.replace("{name: web}", "{name: worker}").replace("family: web", "family: worker"))
    (tmp_path / "stack" / "shared").symlink_to(tmp_path / "shared", target_is_directory=True)
    (tmp_path / "shared" / "loop").symlink_to(tmp_path / "stack", target_is_directory=True)  # searched once
    result = _run(runner, "-o", "json", str(tmp_path / "stack"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"] == 2
