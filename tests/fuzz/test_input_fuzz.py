"""Fuzzing every door input comes in by (hypothesis, derandomized, bounded; issue 13).

Seeds are the example manifests (``manifests/``) and the shared corpus of real task
definitions (``../shared/corpus/taskdefs``, when present); each example mutates a seed's
bytes (flips, deletions, repeats, tokens that once broke a parser), its structure (a
subtree dropped, repeated, wrapped, a key that is not a string added) or its types (a value
swapped for one of another type: null, a boolean, a 400-digit number, infinity, a lone
surrogate, a schedule or a query that overflows).  Targets:

* the loader: never raises; what it hands on is plain JSON data;
* ``validate`` and ``plan`` through the CLI: exit 0 or 1 (2 for usage), never 3, never a
  traceback, never E0900 (a rule that raises is a bug), and plan accepts whatever validate
  accepts (and refuses whatever it refuses);
* the Cluster Query Language, schedule expressions and the event-pattern matcher: only their
  own error type, results of the promised type.

Every example runs under a watchdog (``signal.alarm``): a hang fails the example instead of the
suite.  Nothing is timed.  A crasher found here goes into ``crashers.yaml`` beside this file.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
import signal
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ecsctl.cli.app import app
from ecsctl.core.events.schedule import ScheduleError, parse_schedule
from ecsctl.core.manifest.loader import MAX_INTEGER, load_bytes
from ecsctl.core.scheduling.cql import CqlError, check, compiled, parse
from tests.fuzz.test_events_fuzz import check_pattern

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "manifests").glob("*.yaml"))
# shared/ sits beside the repository (a worktree one level further down finds it too)
CORPUS = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()), ROOT.parent / "shared") \
    / "corpus" / "taskdefs"
CORPUS_FILES = sorted(CORPUS.glob("real/*.json"))[::5] + sorted(CORPUS.glob("rejected/*")) if CORPUS.is_dir() else []
SEEDS = [p.read_bytes() for p in EXAMPLES + CORPUS_FILES]

# ECSCTL_FUZZ_SCALE=10 runs ten times the examples, on other seeds (a longer hunt by hand; the suite runs 1).
SCALE = int(os.environ.get("ECSCTL_FUZZ_SCALE", "1"))
FUZZ = settings(derandomize=SCALE == 1, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
# Through the CLI an example costs tens of milliseconds: no shrinking there (it could take minutes);
# a failure prints the example's blob to reproduce it with @reproduce_failure.
CLI_FUZZ = settings(FUZZ, phases=[Phase.explicit, Phase.generate])
WATCHDOG_SECONDS = 60


@contextmanager
def watchdog(seconds: int = WATCHDOG_SECONDS):
    """Fail (instead of hanging the suite) if one example runs for minutes."""
    def expired(signum, frame):
        raise AssertionError(f"no answer after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- mutations ---------------------------------------------------------------------------------

TOKENS = [b"!!int a", b"!!float", b"!!bool maybe", b"!!set [a]", b"!!timestamp", b"!!binary", b"!!python/object:x",
          b"&a ", b"*a", b"<<: *a", b"\\ud800", b"\\udc00", b"9" * 30, b"1" * 4400, b".inf", b".nan", b"NaN", b"1e400",
          b"true: x", b"~: x", b"3: x", b"? [a]\n: b", b"{", b"}", b"[", b"]", b"'", b'"', b"\t", b"\n---\n", b"\n...\n",
          b"%YAML 1.1\n", b"\xff", b"\xef\xbb\xbf", b"\x00", b"rate(99999999999999999999 days)", b"cron(0 0 L W ? *)",
          b"attribute:x =~ (", b"-1", b"0x", b"0o9", b"1_000", b"1:30", b"\\U0010FFFF", b"\\x41"]

NASTY = [None, True, False, 0, -1, 2**63, -(2**63) - 1, 10**400, 1e308, float("inf"), float("nan"), "", "\ud800", "x" * 300,
         "rate(99999999999999999999 days)", "rate(0 minutes)", "cron(99 99 99 99 ? 99999)", "at(9999-12-31T23:59:59)",
         "attribute:ecs.instance-type =~ t2.*", "attribute:tier == general and (", "runningTasksCount > 99999999999999999999",
         "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", "default", "FARGATE", "awsvpc", "bridge", "0", "-1", "1e400",
         [], {}, [None], {"": None}, {"prefix": ""}, {"numeric": [">", 10**400]}, [1, "a", None]]

KEYS = ["", "name", "family", "cluster", "count", "attributes", "memory", "cpu", "image", "value", "spec", "kind",
        True, 3, None, 1.5, "\ud800"]


def _byte_mutation(data: st.DataObject, raw: bytes) -> bytes:
    for _ in range(data.draw(st.integers(1, 4), label="byte edits")):
        at = data.draw(st.integers(0, len(raw)), label="at")
        op = data.draw(st.sampled_from(["flip", "insert", "delete", "repeat", "truncate"]), label="op")
        if op == "flip" and raw:
            at = min(at, len(raw) - 1)
            raw = raw[:at] + bytes([data.draw(st.integers(0, 255), label="byte")]) + raw[at + 1:]
        elif op == "insert":
            raw = raw[:at] + data.draw(st.sampled_from(TOKENS), label="token") + raw[at:]
        elif op == "delete":
            raw = raw[:at] + raw[at + data.draw(st.integers(1, 64), label="span"):]
        elif op == "repeat":
            span = raw[at:at + data.draw(st.integers(1, 256), label="span")]
            raw = raw[:at] + span * data.draw(st.integers(2, 4), label="times") + raw[at:]
        else:
            raw = raw[:at]
    return raw


def _paths(node, path=()):
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, path + (i,))


def _replace(root, path, value):
    if not path:
        return value
    parent = root
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return root


def _structure_mutation(data: st.DataObject, docs: list) -> list:
    for _ in range(data.draw(st.integers(1, 3), label="tree edits")):
        d = data.draw(st.integers(0, len(docs) - 1), label="document")
        places = list(_paths(docs[d]))
        path, node = places[data.draw(st.integers(0, len(places) - 1), label="where")]
        op = data.draw(st.sampled_from(["type", "type", "type", "drop", "wrap", "key", "repeat", "copy"]), label="op")
        if op == "type":
            docs[d] = _replace(docs[d], path, copy.deepcopy(data.draw(st.sampled_from(NASTY), label="value")))
        elif op == "drop" and path:
            parent = docs[d]
            for part in path[:-1]:
                parent = parent[part]
            del parent[path[-1]]
        elif op == "wrap":
            docs[d] = _replace(docs[d], path, data.draw(st.sampled_from(["list", "map", "pair"]), label="wrap") == "list" and [node]
                               or {"x": node})
        elif op == "key" and isinstance(node, dict):
            node[data.draw(st.sampled_from(KEYS), label="key")] = copy.deepcopy(data.draw(st.sampled_from(NASTY), label="value"))
        elif op == "repeat" and isinstance(node, list):
            node.extend(json.loads(json.dumps(node, default=str)) if _jsonable(node) else node)
        elif op == "copy":
            docs.append(json.loads(json.dumps(docs[d], default=str)) if _jsonable(docs[d]) else docs[d])
    return docs


def _jsonable(node) -> bool:
    try:
        json.dumps(node, allow_nan=True)
        return True
    except (TypeError, ValueError, UnicodeEncodeError):
        return False


def _dump(data: st.DataObject, docs: list, json_file: bool) -> bytes:
    if json_file and len(docs) == 1:
        try:
            return json.dumps(docs[0], indent=data.draw(st.sampled_from([None, 2]), label="indent")).encode()
        except (TypeError, ValueError):
            pass
    try:
        return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True).encode("utf-8", "surrogatepass")
    except (yaml.YAMLError, TypeError, ValueError, UnicodeEncodeError):
        return json.dumps(docs, default=str).encode("utf-8", "surrogatepass")


@st.composite
def mutated(draw, seeds=tuple(SEEDS)):
    """A seed file, mutated in its bytes or in its structure and types: (bytes, is it JSON)."""
    data = draw(st.data())
    raw = draw(st.sampled_from(seeds), label="seed")
    json_file = raw.lstrip()[:1] in (b"{", b"[")
    if draw(st.booleans(), label="bytes or structure"):
        return _byte_mutation(data, raw), json_file
    try:
        docs = [d for d in yaml.safe_load_all(raw.decode("utf-8")) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError):
        return _byte_mutation(data, raw), json_file
    if not docs:
        return raw, json_file
    return _dump(data, _structure_mutation(data, docs), json_file), json_file


# --- the loader --------------------------------------------------------------------------------

def _plain(node, path="") -> None:
    """JSON data only: string keys, valid Unicode, finite numbers within 64 bits."""
    if isinstance(node, dict):
        for key, value in node.items():
            assert type(key) is str, f"{path}: key {key!r} is not a string"
            key.encode("utf-8")
            _plain(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _plain(value, f"{path}/{i}")
    elif isinstance(node, str):
        node.encode("utf-8")  # a lone surrogate raises here
    elif isinstance(node, bool) or node is None:
        pass
    elif isinstance(node, int):
        assert -MAX_INTEGER - 1 <= node <= MAX_INTEGER, f"{path}: {node} is out of range"
    elif isinstance(node, float):
        assert math.isfinite(node), f"{path}: {node}"
    else:
        raise AssertionError(f"{path}: {type(node).__name__} is not JSON data")


@settings(FUZZ, max_examples=200 * SCALE)
@given(mutated())
def test_loader_hands_on_plain_data_or_findings(case) -> None:
    raw, json_file = case
    with watchdog():
        result = load_bytes(raw, "m.json" if json_file else "m.yaml")
    for doc in result.documents:
        _plain(doc.data)
    for finding in result.findings:
        assert finding.rule.startswith("E0") and finding.line >= 1 and finding.column >= 1, finding


# --- validate and plan through the CLI ---------------------------------------------------------

def _cli(*args: str):
    with watchdog():
        result = CliRunner().invoke(app, list(args))
    assert result.exit_code in (0, 1, 2), f"exit {result.exit_code}: {result.output[-2000:]}"
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output[-2000:]
    assert "E0900" not in result.output, result.output[-2000:]
    return result


@settings(CLI_FUZZ, max_examples=80 * SCALE)
@given(mutated())
def test_validate_never_crashes(tmp_path_factory, case) -> None:
    raw, json_file = case
    folder = tmp_path_factory.mktemp("v")
    target = folder / ("m.json" if json_file else "m.yaml")
    target.write_bytes(raw)
    _cli("validate", str(target))


@settings(CLI_FUZZ, max_examples=40 * SCALE)
@given(st.data(), st.sampled_from([p.name for p in EXAMPLES]))
def test_plan_accepts_what_validate_accepts(tmp_path_factory, data, name) -> None:
    """One file of the example stack mutated: plan (and so apply's reading) agrees with validate.

    Plan may still refuse, in one line, what validate only warned about: a reference to a
    document that is not in the run (W3020, so that one file can be validated alone) names a
    cluster or task definition that plan needs and the state does not have."""
    folder = tmp_path_factory.mktemp("p")
    stack = folder / "manifests"
    shutil.copytree(ROOT / "manifests", stack)
    raw = data.draw(mutated(seeds=((stack / name).read_bytes(),)), label="file")[0]
    (stack / name).write_bytes(raw)
    checked = _cli("validate", str(stack))
    planned = _cli("plan", "-f", str(stack), "--state", str(folder / "state.db"))
    if checked.exit_code == 0 and planned.exit_code == 1 and "W3020" in checked.output:
        assert [line for line in planned.output.splitlines() if line.startswith("error: ")], planned.output[-1500:]
        return
    assert planned.exit_code == checked.exit_code, (checked.output[-1500:], planned.output[-1500:])


# --- the Cluster Query Language ----------------------------------------------------------------

CQL_SEEDS = ["attribute:tier == general", "attribute:ecs.instance-type =~ t2.*", "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
             "not(task:group == service:db)", "runningTasksCount > 1 and agentVersion >= 1.14.5",
             "registeredAt < 2018-06-18T22:28:28Z || agentConnected == false", "attribute:stack exists",
             "ec2InstanceId in ['i-0123', i-0456]", "attribute:x !~ '[a-z]+'", "!(attribute:a not_exists) && attribute:b != 'c d'"]
CQL_TOKENS = ["(", ")", "[", "]", ",", "'", "==", "=~", "in", "not", "and", "||", "!", "attribute:", "*", "\\", "9" * 40, " ",
              "[", "(?P<x>", "a{99999999999}", "\ud800", "\x00", "registeredAt", "runningTasksCount", "agentVersion"]


@st.composite
def cql_text(draw):
    text = draw(st.sampled_from(CQL_SEEDS))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert":
            text = text[:at] + draw(st.one_of(st.sampled_from(CQL_TOKENS), st.text(max_size=3))) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)):]
        else:
            text = text[:at] + draw(st.sampled_from(CQL_TOKENS)) + text[at + 1:]
    return text


ATTRIBUTE = st.one_of(st.text(max_size=8), st.integers(-10, 10**20), st.booleans(), st.none())
INSTANCE = st.fixed_dictionaries({}, optional={
    "attributes": st.dictionaries(st.sampled_from(["tier", "stack", "ecs.instance-type", "ecs.availability-zone", "x", "a", "b"]),
                                  ATTRIBUTE, max_size=4),
    "taskGroups": st.sets(st.sampled_from(["service:db", "family:web", ""]), max_size=2),
    "runningTasksCount": st.one_of(st.integers(-1, 10**20), st.none()),
    "agentVersion": st.one_of(st.sampled_from(["1.14.5", "1.82.1", "", "x", "1." * 40]), st.none()),
    "agentConnected": st.one_of(st.booleans(), st.none()),
    "registeredAt": st.one_of(st.sampled_from(["2018-06-18T22:28:28Z", "", "soon"]), st.none()),
    "ec2InstanceId": st.one_of(st.text(max_size=6), st.none()),
})


@settings(FUZZ, max_examples=400 * SCALE)
@given(cql_text(), INSTANCE)
def test_cql_raises_only_its_own_error(text, instance) -> None:
    with watchdog():
        problem = check(text)
        try:
            parse(text)
        except CqlError:
            assert problem is not None
            return
        assert problem is None
        assert isinstance(compiled(text)(instance), bool)


# --- schedule expressions ----------------------------------------------------------------------

SCHEDULE_SEEDS = ["rate(5 minutes)", "rate(1 hour)", "rate(2 days)", "cron(0 2 * * ? *)", "cron(0/15 8-17 ? * MON-FRI *)",
                  "cron(0 0 L * ? *)", "cron(0 12 15W * ? 2026)", "cron(0 9 ? * 2#1 *)", "at(2026-03-08T02:30:00)"]


@st.composite
def schedule_text(draw):
    text = draw(st.sampled_from(SCHEDULE_SEEDS))
    for _ in range(draw(st.integers(0, 3))):
        digits = list(re.finditer(r"\d+", text))
        op = draw(st.sampled_from(["blow-up", "insert", "delete"] if digits else ["insert", "delete"]))
        if op == "blow-up":  # a number replaced by a huge one: the OverflowError of issue 13
            m = draw(st.sampled_from(digits))
            text = text[:m.start()] + draw(st.sampled_from(["9" * 20, "9" * 400, "0" * 30, "00001", "1" * 4400])) + text[m.end():]
        elif op == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(["L", "W", "#", "/", "-", ",", "?", "*", " ", ")", "(", "s", "\ud800"])) + text[at:]
        else:
            at = draw(st.integers(0, len(text)))
            text = text[:at] + text[at + draw(st.integers(1, 4)):]
    return text


MOMENT = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2199, 12, 31), timezones=st.just(timezone.utc))


@settings(FUZZ, max_examples=400 * SCALE)
@given(schedule_text(), MOMENT, st.sampled_from([None, "UTC", "Europe/Paris", "Pacific/Chatham"]))
def test_schedules_raise_only_their_own_error(text, after, zone) -> None:
    with watchdog():
        try:
            schedule = parse_schedule(text)
        except ScheduleError:
            return
        moment = after
        for _ in range(3):
            try:
                nxt = schedule.next_after(moment, zone)
            except ScheduleError:
                return
            if nxt is None:
                return
            assert nxt > moment - timedelta(seconds=1)
            moment = nxt


# --- the event-pattern matcher -----------------------------------------------------------------

def _pattern_seeds() -> list:
    seeds = [{"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"], "detail": {"lastStatus": ["STOPPED"]}},
             {"detail": {"exitCode": [{"numeric": [">", 0]}], "group": [{"prefix": "service:"}]}},
             {"source": [{"anything-but": ["aws.ec2"]}], "detail": {"ip": [{"cidr": "10.0.0.0/8"}]}},
             {"$or": [{"a": [{"exists": True}]}, {"b": [{"wildcard": "x*y"}]}]}]
    for path in EXAMPLES:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            pattern = (doc or {}).get("spec", {}).get("eventPattern") if isinstance(doc, dict) else None
            if isinstance(pattern, dict):
                seeds.append(pattern)
    return seeds


PATTERN_SEEDS = _pattern_seeds()
EVENT = st.fixed_dictionaries({"source": st.sampled_from(["aws.ecs", "aws.ec2", "", None]),
                               "detail": st.dictionaries(st.sampled_from(["lastStatus", "exitCode", "group", "ip", "a", "b"]),
                                                         st.one_of(st.sampled_from(NASTY[:14]), st.text(max_size=6)), max_size=4)})


@settings(FUZZ, max_examples=400 * SCALE)
@given(st.data(), EVENT)
def test_event_patterns_raise_only_their_own_error(data, event) -> None:
    base = json.loads(json.dumps(data.draw(st.sampled_from(PATTERN_SEEDS), label="seed")))
    [pattern] = _structure_mutation(data, [base])[:1]
    with watchdog():
        check_pattern(pattern, event)


def test_the_seeds_are_there() -> None:
    assert len(EXAMPLES) >= 5 and len(PATTERN_SEEDS) >= 4
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not present: the fuzz tests mutate the example manifests only")
    assert CORPUS_FILES
