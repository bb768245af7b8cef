"""Every input that once crashed ecsctl, through the CLI (the table: ``crashers.yaml`` beside this file).

For each case: ``validate`` exits 0 or 1 and, when the table names a finding, prints it with its
file, line and column; ``plan`` and ``apply --auto-approve`` (a state in a temporary folder)
exit as validate did, never 3; a refused apply leaves no state behind (no step committed).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ecsctl.cli.app import app

TABLE = Path(__file__).with_name("crashers.yaml")


def expand(text: str) -> str:
    """``<<C*N>>`` is the character C repeated N times (a 5,000-digit number stays readable in the table)."""
    return re.sub(r"<<(.)\*(\d+)>>", lambda m: m.group(1) * int(m.group(2)), text)


def cases(kind: str = "files") -> list:
    table = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["id"]) for case in table if kind in case]


def _cli(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code in (0, 1), f"{args[0]} exited {result.exit_code}: {result.output}"
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output
    assert "E0900" not in result.output, result.output  # a rule that raises is a bug
    return result


@pytest.mark.parametrize("case", cases())
def test_crasher_is_a_finding_or_accepted_alike(case: dict, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    for name, text in case["files"].items():
        (folder / name).write_text(expand(text), encoding="utf-8")
    checked = _cli("validate", str(folder))
    if case["finding"]:
        assert checked.exit_code == 1
        assert f"{folder}/{case['finding']}" in checked.output, checked.output
    else:
        assert checked.exit_code == 0, checked.output
    state = tmp_path / "state" / "state.db"
    planned = _cli("plan", "-f", str(folder), "--state", str(state))
    assert planned.exit_code == checked.exit_code, planned.output
    applied = _cli("apply", "-f", str(folder), "--state", str(state), "--auto-approve")
    assert applied.exit_code == checked.exit_code, applied.output
    if checked.exit_code:
        assert not state.exists(), "a refused apply wrote a state"


@pytest.mark.parametrize("case", cases("schedule"))
def test_schedule_crasher_parses_or_raises_schedule_error(case: dict) -> None:
    from datetime import datetime, timezone

    from ecsctl.core.events.schedule import ScheduleError, parse_schedule

    try:
        schedule = parse_schedule(expand(case["schedule"]))
    except ScheduleError:
        return
    schedule.next_after(datetime(2026, 1, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize("case", cases("pattern"))
def test_pattern_crasher_matches_or_raises_pattern_error(case: dict) -> None:
    from ecsctl.core.events.pattern import PatternError, matches, pattern_issues

    issues = pattern_issues(case["pattern"])
    try:
        assert isinstance(matches(case["pattern"], case["event"]), bool) and not issues
    except PatternError:
        assert issues


def test_the_table_names_each_case_once() -> None:
    table = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    ids = [c["id"] for c in table]
    assert len(ids) == len(set(ids))
    assert all(("files" in c) + ("schedule" in c) + ("pattern" in c) == 1 for c in table)
